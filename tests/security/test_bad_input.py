"""No request input causes a server error (DESIGN.md, "Bad input"; issue 14, item 6).

A NUL character or bytes that are not UTF-8 anywhere in the path, the query string or a
form field answer 400 before any view runs (mentoring/middleware.py). Every other hostile
value (numbers too big for any column, 10,000 characters, impossible dates, digits of other
scripts) is sent as every GET and POST parameter of every participant page, with the other
fields valid so the value reaches the services, and must get a page, never a 500. The
sponsor pages are tested with their own module."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from pairs.models import Meeting, Note, Pair
from programmes.links import Purpose, make_token
from programmes.models import Role
from tests.factories import UserFactory
from tests.pairs.meeting_helpers import meeting_for, pair_token

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.pair(
    cohort__starts_on=NOW.date() - timedelta(days=50),
    cohort__ends_on=NOW.date() + timedelta(days=40),
)

NUL = "\x00"
HOSTILE = [
    "99999999999999999999",
    "-99999999999999999999",
    "1e309",
    "x" * 10_000,
    "2026-13-45",
    "99999999999-01-01",
    "\u0663\u0661",  # Arabic-Indic digits
    "\u00b2",  # a superscript two: str.isdigit() says yes, int() says no
    "' OR 1=1 --",
    "",
]
FIELD_NAME = re.compile(r'name="([^"]+)"')


@pytest.fixture(autouse=True)
def frozen(time_machine) -> None:
    time_machine.move_to(NOW, tick=False)


def _pages(pair: Pair) -> dict[str, tuple[str, dict[str, str]]]:
    """Each participant page that reads input: its URL and a valid submission."""
    mentee = pair.mentee
    token = pair_token(mentee)
    past = meeting_for(pair, starts_at=NOW - timedelta(hours=3), scheduled_by=Role.MENTEE)
    coming = meeting_for(pair, starts_at=NOW + timedelta(days=2), scheduled_by=Role.MENTEE)
    note = Note.objects.create(pair=pair, author=mentee, text="Mine")
    pulse = make_token(participant_id=mentee.pk, purpose=Purpose.PULSE, scope=past.pk)
    feedback = make_token(participant_id=mentee.pk, purpose=Purpose.FEEDBACK, scope="midpoint")
    time = {"date": "2026-03-10", "time": "10:00", "duration_minutes": "45", "topic": ""}
    move = {f"move-{name}": value for name, value in time.items()}
    return {
        "intake": (
            reverse(
                "programmes:intake",
                args=[make_token(participant_id=mentee.pk, purpose=Purpose.INTAKE)],
            ),
            {},
        ),
        "pair": (reverse("pairs:pair", args=[token]), {}),
        "agreement": (
            reverse("pairs:pair_agreement", args=[token]),
            {
                "action": "propose",
                "driver": "mentee",
                "cadence": "weekly",
                "meeting_mode": "video",
                "cancellation": "ahead",
                "pledge": "on",
                "submission": "8c5b2f7e-1111-4a4a-9999-123456789abc",
                "agreement_id": "1",
            },
        ),
        "note": (
            reverse("pairs:pair_note_create", args=[token]),
            {
                "text": "A note",
                "meeting": str(past.pk),
                "shared": "on",
                "submission": "8c5b2f7e-2222-4a4a-9999-123456789abc",
            },
        ),
        "note share": (
            reverse("pairs:pair_note_share", args=[token, note.pk]),
            {"shared": "true"},
        ),
        "schedule": (
            reverse("pairs:meeting_schedule", args=[token]),
            time | {"submission": "8c5b2f7e-3333-4a4a-9999-123456789abc"},
        ),
        "move": (
            reverse("pairs:meeting_edit", args=[token, coming.pk]),
            move | {"action": "reschedule"},
        ),
        "cancel": (
            reverse("pairs:meeting_edit", args=[token, coming.pk]),
            {"action": "cancel", "cancel-reason": "Travel"},
        ),
        "mark": (
            reverse("pairs:meeting_edit", args=[token, past.pk]),
            {"action": "mark", "mark-status": "held", "mark-led_by": "mentee", "mark-topic": ""},
        ),
        "pulse": (
            reverse("surveys:pulse", args=[pulse]),
            {
                "held": "no",
                "not_held": "rescheduled",
                "new_date": "2026-03-12",
                "new_time": "10:00",
                "learning": "",
                "action": "",
            },
        ),
        "feedback": (reverse("surveys:feedback", args=[feedback]), {"score": "9", "why": "ok"}),
        "resend link": (reverse("surveys:resend_link"), {"email": mentee.person.email}),
        "sign in": (reverse("login"), {"username": "someone", "password": "secret"}),
        "password reset": (reverse("password_reset"), {"email": "someone@example.com"}),
    }


def _fields(client: Client, url: str, valid: dict[str, str]) -> set[str]:
    """What the page's own forms send, and what the valid submission sends."""
    page = client.get(url)
    names = set(FIELD_NAME.findall(page.content.decode(errors="replace")))
    return (names | set(valid)) - {"csrfmiddlewaretoken"}


@pytest.mark.parametrize("value", HOSTILE, ids=lambda value: repr(value[:12]))
def test_no_parameter_of_any_participant_page_causes_a_server_error(
    client: Client, pair: Pair, value: str
) -> None:
    for name, (url, valid) in _pages(pair).items():
        for field in _fields(client, url, valid):
            got = client.get(url, {field: value})
            posted = client.post(url, valid | {field: value})

            assert got.status_code < 500, (name, field, "GET")
            assert posted.status_code < 500, (name, field, "POST")


@pytest.mark.parametrize(
    "path",
    [
        "/pair/{token}/meetings/99999999999999999999/",
        "/pair/{token}/meetings/99999999999999999999/invite.ics",
        "/pair/{token}/meetings/99999999999999999999/pulse/",
        "/pair/{token}/notes/99999999999999999999/share/",
        "/pair/{token}/stories/99999999999999999999/consent/",
        "/pair/{token}x/",
        "/pair/{token}:x/",
        "/pair/" + "x" * 10_000 + "/",
        "/pulse/{token}/",
        "/checkin/{token}/",
        "/feedback/{token}/",
        "/intake/{token}/",
        "/pair/%C3%A9%E2%80%8B/",
    ],
)
def test_tampered_links_and_huge_ids_get_a_page(client: Client, pair: Pair, path: str) -> None:
    url = path.format(token=pair_token(pair.mentee))

    for response in (client.get(url), client.post(url, {"shared": "on", "consent": "yes"})):
        assert 400 <= response.status_code < 500


def test_a_tampered_link_says_what_happened(client: Client, pair: Pair) -> None:
    token = pair_token(pair.mentee)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")

    response = client.get(reverse("pairs:pair", args=[tampered]))

    assert response.status_code == 400
    assert "/link/" in response.content.decode()


@pytest.mark.parametrize(
    ("where", "query"),
    [
        ("value", "q=%00"),
        ("value", "full_name=%00"),
        ("key", "%00=1"),
        ("value", "answer=%00"),
        ("utf-8", "q=%ff"),
        ("utf-8", "%ff=1"),
        ("utf-8", "q=%C3%28"),
    ],
)
def test_a_nul_or_bytes_that_are_not_text_in_a_query_answer_400(
    client: Client, pair: Pair, where: str, query: str
) -> None:
    for url in (
        reverse("pairs:pair", args=[pair_token(pair.mentee)]),
        reverse("surveys:resend_link"),
        "/admin/programmes/person/",
    ):
        response = client.get(url, QUERY_STRING=query)

        assert response.status_code == 400
        assert "could not be read" in response.content.decode()


def test_a_nul_in_the_path_answers_400(client: Client, pair: Pair) -> None:
    assert client.get("/pair/%00/").status_code == 400
    assert client.get("/admin/programmes/person/%00/change/").status_code == 400


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("email=a%00b%40example.com", "application/x-www-form-urlencoded"),
        ("email=%ff%40example.com", "application/x-www-form-urlencoded"),
        ("%00=1&email=a%40example.com", "application/x-www-form-urlencoded"),
        (
            '--B\r\nContent-Disposition: form-data; name="email"\r\n\r\na\x00b@example.com'
            "\r\n--B--\r\n",
            "multipart/form-data; boundary=B",
        ),
        (
            b'--B\r\nContent-Disposition: form-data; name="email"\r\n\r\n\xff@example.com'
            b"\r\n--B--\r\n",
            "multipart/form-data; boundary=B",
        ),
    ],
)
def test_a_nul_or_bytes_that_are_not_text_in_a_form_answer_400(
    client: Client, pair: Pair, body: str | bytes, content_type: str
) -> None:
    response = client.post(reverse("surveys:resend_link"), body, content_type=content_type)

    assert response.status_code == 400
    assert "could not be read" in response.content.decode()


def test_a_file_may_hold_any_bytes(client: Client, db: None) -> None:
    body = (
        b'--B\r\nContent-Disposition: form-data; name="email"\r\n\r\na@example.com\r\n'
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="people.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n\x00\xff\r\n--B--\r\n"
    )

    response = client.post(
        reverse("surveys:resend_link"), body, content_type="multipart/form-data; boundary=B"
    )

    assert response.status_code != 400 or "could not be read" not in response.content.decode()


ADMIN_LISTS = [
    "programmes/person",
    "programmes/participant",
    "programmes/pair",
    "programmes/meeting",
    "programmes/intake",
    "programmes/note",
    "programmes/checkin",
    "programmes/riskflag",
    "programmes/cohort",
    "programmes/programme",
    "surveys/pulse",
    "surveys/npsresponse",
    "notifications/notification",
]


@pytest.mark.parametrize("changelist", ADMIN_LISTS)
def test_admin_lists_answer_hostile_filters_without_a_server_error(
    client: Client, pair: Pair, changelist: str
) -> None:
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = f"/admin/{changelist}/"

    assert client.get(url, {"q": NUL}).status_code == 400
    assert client.get(url, {"anything": NUL}).status_code == 400
    for value in HOSTILE:
        for query in ({"q": value}, {"id__exact": value}, {"pk__gt": value}, {"o": value},
                      {"p": value}, {"anything": value}):  # fmt: skip
            assert client.get(url, query).status_code < 500, (changelist, query)
    if Meeting.objects.exists():
        assert client.get(f"/admin/{changelist}/99999999999999999999/change/").status_code < 500
