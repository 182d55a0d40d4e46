"""Managers follow pairs and their sessions in the admin: status, counts and dates, and never
the text of a note."""

import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cockpit.admin import PairAdmin
from lib.admin_paging import CappedCountPaginator
from pairs.models import Agreement, Guide, Meeting, Note, Pair
from programmes.models import Cohort, Role
from risks.models import RiskFlag
from surveys.models import Pulse, PulseRequest
from tests.factories import (
    CohortFactory,
    ParticipantFactory,
    PulseFactory,
    PulseRequestFactory,
    RiskFlagFactory,
    TopicFactory,
)

PRIVATE = [
    "He still prints every e-mail his assistant forwards.",
    "I felt talked down to when we discussed the careers page.",
]


@pytest.fixture
def cohort(programme) -> Cohort:
    return CohortFactory(programme=programme, name="Wave 2", status=Cohort.Status.RUNNING)


def _pair(cohort: Cohort, **fields) -> Pair:
    return Pair.objects.create(
        cohort=cohort,
        mentee=ParticipantFactory(cohort=cohort, role=Role.MENTEE),
        reverse_mentor=ParticipantFactory(cohort=cohort, role=Role.REVERSE_MENTOR),
        started_on=cohort.starts_on,
        **fields,
    )


def _meeting(pair: Pair, days: int, **fields) -> Meeting:
    return Meeting.objects.create(
        pair=pair, starts_at=timezone.now() + timedelta(days=days), uid=uuid.uuid4(), **fields
    )


def _fill(cohort: Cohort, n: int) -> list[Pair]:
    """n pairs, each with an agreement, sessions of every status and private notes."""
    topic = TopicFactory(programme=cohort.programme, title="Digital tools and everyday habits")
    pairs = []
    for _ in range(n):
        pair = _pair(cohort)
        Agreement.objects.create(
            pair=pair,
            number=1,
            proposed_by=Role.REVERSE_MENTOR,
            mentor_accepted_at=timezone.now(),
            mentee_accepted_at=timezone.now(),
        )
        held = _meeting(
            pair, -20, status=Meeting.Status.HELD, topic=topic, led_by=Role.REVERSE_MENTOR
        )
        _meeting(pair, -6, status=Meeting.Status.CANCELLED, cancelled_by=Role.MENTEE)
        _meeting(pair, 8)
        Note.objects.create(pair=pair, meeting=held, author=pair.mentee, text=PRIVATE[0])
        Note.objects.create(
            pair=pair, meeting=held, author=pair.reverse_mentor, text=PRIVATE[1], shared=True
        )
        pairs.append(pair)
    return pairs


def _pages(client: Client, pair: Pair) -> list[str]:
    meeting = pair.meetings.first()
    urls = [
        "/admin/pairs/pair/",
        f"/admin/pairs/pair/{pair.pk}/change/",
        "/admin/pairs/meeting/",
        f"/admin/pairs/meeting/{meeting.pk}/change/",
        "/admin/pairs/pair/?q=" + pair.mentee.person.full_name.split()[0],
    ]
    pages = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        pages.append(response.content.decode())
    return pages


def test_it_shows_pairs_and_sessions_and_never_the_text_of_a_note(
    client: Client, manager, cohort: Cohort
) -> None:
    (pair,) = _fill(cohort, 1)
    client.force_login(manager)

    pages = _pages(client, pair)

    pair_list, pair_page, meeting_list, meeting_page, _ = pages
    assert pair.mentee.person.full_name in pair_list
    assert pair.reverse_mentor.person.full_name in pair_list
    assert 'class="field-notes_logged">2<' in pair_list
    assert 'class="field-held">1<' in pair_list
    assert 'class="field-upcoming">1<' in pair_list
    assert "Digital tools and everyday habits" in pair_page  # the session inline
    assert "Mentee (executive)" in meeting_list  # who cancelled
    assert "Reverse-mentor" in meeting_page  # who led
    for page in pages:
        for text in PRIVATE:
            assert text not in page


def test_it_does_not_offer_notes_in_the_admin(client: Client, manager, cohort: Cohort) -> None:
    client.force_login(manager)
    assert client.get("/admin/pairs/note/").status_code == 404
    assert "/admin/pairs/note/" not in client.get("/admin/").content.decode()


def test_it_shows_a_paused_pair_with_its_date_and_no_agreement_yet(
    client: Client, manager, cohort: Cohort
) -> None:
    paused_until = timezone.localdate() + timedelta(days=20)
    _pair(cohort, status=Pair.Status.PAUSED, paused_until=paused_until)
    client.force_login(manager)

    html = client.get("/admin/pairs/pair/?status__exact=paused").content.decode()

    assert f"paused until {paused_until:%-d %b %Y}" in html
    assert 'alt="False"' in html  # agreement not agreed
    assert 'class="field-last_held">never<' in html


def _busy(cohort: Cohort) -> Pair:
    """A pair with much of everything the list counts, worked out by hand: 3 sessions held
    (the latest 5 days ago), 2 cancelled, 1 missed, 2 upcoming; 6 pulses asked for (both sides
    of each held session) and 5 answered, 1 of them "not a good fit"; 4 notes on 2 sessions;
    2 open flags and 1 resolved. Joined together, each of these would be counted once per
    session, pulse or note beside it."""
    pair = _pair(cohort)
    held = [
        _meeting(pair, days, status=Meeting.Status.HELD, led_by=Role.REVERSE_MENTOR)
        for days in (-30, -19, -5)
    ]
    for days in (-25, -12):
        _meeting(pair, days, status=Meeting.Status.CANCELLED, cancelled_by=Role.MENTEE)
    _meeting(pair, -9, status=Meeting.Status.MISSED)
    _meeting(pair, 3)
    _meeting(pair, 17)
    for meeting in held:
        for participant in (pair.mentee, pair.reverse_mentor):
            PulseRequestFactory(meeting=meeting, participant=participant)
            if (meeting, participant) != (held[2], pair.reverse_mentor):
                good_fit = (meeting, participant) != (held[0], pair.reverse_mentor)
                PulseFactory(meeting=meeting, participant=participant, good_fit=good_fit)
    for meeting in held[:2]:
        Note.objects.create(pair=pair, meeting=meeting, author=pair.mentee, text=PRIVATE[0])
        Note.objects.create(pair=pair, meeting=meeting, author=pair.reverse_mentor, text="x")
    RiskFlagFactory(pair=pair, rule=RiskFlag.Rule.MISSED)
    RiskFlagFactory(pair=pair, rule=RiskFlag.Rule.LOW_SAFETY)
    RiskFlagFactory(pair=pair, rule=RiskFlag.Rule.REVERSION, resolved_at=timezone.now())
    return pair


def _cell(html: str, column: str) -> str:
    (value,) = re.findall(rf'class="field-{column}">(.*?)</t[dh]>', html)
    return value


def test_it_counts_each_pairs_sessions_pulses_notes_and_flags_once(
    client: Client, manager, cohort: Cohort
) -> None:
    pair = _busy(cohort)
    client.force_login(manager)

    html = client.get("/admin/pairs/pair/").content.decode()

    last_held = timezone.localtime(
        pair.meetings.filter(status=Meeting.Status.HELD).latest("starts_at").starts_at
    )
    assert _cell(html, "held") == "3"
    assert _cell(html, "cancelled") == "2"
    assert _cell(html, "missed") == "1"
    assert _cell(html, "upcoming") == "2"
    assert _cell(html, "notes_logged") == "4"
    assert _cell(html, "last_held") == f"{last_held:%-d %b %Y}"
    assert _cell(html, "pulses_answered") == "5 of 6"
    assert _cell(html, "response_rate") == "83%"
    assert "<strong>1 (re-match requested)</strong>" in _cell(html, "not_a_good_fit")
    assert ">2</a>" in _cell(html, "open_flags")
    assert PRIVATE[0] not in html


def test_it_sorts_pairs_by_response_rate(client: Client, manager, cohort: Cohort) -> None:
    busy = _busy(cohort)  # 5 of 6
    (quiet,) = _fill(cohort, 1)  # nothing asked for: no data
    names = [busy.mentee.person.full_name, quiet.mentee.person.full_name]
    client.force_login(manager)
    column = PairAdmin.list_display.index("response_rate")

    ascending = client.get("/admin/pairs/pair/", {"o": str(column)}).content.decode()
    descending = client.get("/admin/pairs/pair/", {"o": f"-{column}"}).content.decode()

    assert ascending.index(names[0]) < ascending.index(names[1])  # NULL ("no data") last
    assert descending.index(names[1]) < descending.index(names[0])


@pytest.mark.parametrize("rows", [3, 15])
def test_it_lists_pairs_in_a_fixed_number_of_queries(
    client: Client, manager, cohort: Cohort, rows: int, django_assert_num_queries
) -> None:
    for _ in range(rows):
        _busy(cohort)
    client.force_login(manager)
    # 1 session, 2 user, 3-4 the user's own and group permissions, 5 programme filter
    # choices, 6 cohort filter choices (with programmes), 7 the count of the filtered pairs
    # (no count of all pairs: show_full_result_count), 8 the page of pairs with cohort, both
    # people, and each count as its own subquery
    with django_assert_num_queries(8) as captured:
        response = client.get("/admin/pairs/pair/")
    assert response.status_code == 200
    assert response.content.decode().count('class="field-held">3<') == rows
    # Counting the pairs reads pairs (and how to reach their programme), none of the rows
    # the columns count.
    (count,) = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT COUNT(")]
    for model in (Meeting, Note, Agreement, PulseRequest, Pulse, RiskFlag):
        assert model._meta.db_table not in count, model


@pytest.mark.parametrize("rows", [3, 30])
def test_it_lists_sessions_in_a_fixed_number_of_queries(
    client: Client, manager, cohort: Cohort, rows: int, django_assert_num_queries
) -> None:
    _fill(cohort, rows)
    client.force_login(manager)
    # 1 session, 2 user, 3-4 the user's own and group permissions, 5 programme filter
    # choices, 6 cohort filter choices (with programmes), 7 the filtered count, of at most
    # 10,001 sessions (not of all sessions: show_full_result_count), 8 the page of sessions
    # with both people, topic and note counts. No date hierarchy: its first and last dates
    # and the years or months between were two more queries over every session.
    with django_assert_num_queries(8):
        response = client.get("/admin/pairs/meeting/")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("", {-45, -20, -6, 8}),
        ("upcoming", {8}),
        ("next_7_days", set()),
        ("past_7_days", {-6}),
        ("past_30_days", {-20, -6}),
        ("earlier", {-45}),
    ],
)
def test_it_narrows_sessions_to_a_span_around_now(
    client: Client, manager, cohort: Cohort, when: str, expected: set[int]
) -> None:
    (pair,) = _fill(cohort, 1)  # sessions 20 and 6 days ago, and in 8 days
    _meeting(pair, -45, status=Meeting.Status.MISSED)  # and 45 days ago
    client.force_login(manager)
    now = timezone.now()

    response = client.get("/admin/pairs/meeting/", {"when": when} if when else {})

    assert response.status_code == 200
    listed = response.context["cl"].result_list
    days = {round((m.starts_at - now) / timedelta(days=1)) for m in listed}
    assert days == expected


@pytest.mark.parametrize("sessions", [3, 30])
def test_it_shows_a_pair_in_a_fixed_number_of_queries(
    client: Client, manager, cohort: Cohort, sessions: int, django_assert_num_queries
) -> None:
    (pair,) = _fill(cohort, 1)
    for i in range(sessions):
        _meeting(pair, -i, status=Meeting.Status.HELD, led_by=Role.MENTEE)
    client.force_login(manager)
    # 1 session, 2 user, 3-4 the user's own and group permissions, 5 the pair with its
    # cohort, programme, people and counts, 6 its agreements, 7 its sessions with topics
    # and note counts, 8 its check-ins with their people
    with django_assert_num_queries(8):
        response = client.get(f"/admin/pairs/pair/{pair.pk}/change/")
    assert response.status_code == 200


def test_it_makes_pairs_and_sessions_view_only(client: Client, manager, cohort: Cohort) -> None:
    (pair,) = _fill(cohort, 1)
    client.force_login(manager)

    assert client.get("/admin/pairs/pair/add/").status_code == 403
    assert client.get("/admin/pairs/meeting/add/").status_code == 403
    response = client.post(f"/admin/pairs/pair/{pair.pk}/change/", {"status": Pair.Status.ENDED})
    assert response.status_code == 403
    pair.refresh_from_db()
    assert pair.status == Pair.Status.ACTIVE


@pytest.mark.parametrize(
    "lookup", ["cancel_reason__icontains", "cancel_reason", "cancel_reason__gt"]
)
def test_it_refuses_url_filters_on_the_cancellation_reason(
    client: Client, manager, cohort: Cohort, lookup: str
) -> None:
    """A filter would give the text away through the row count, displayed or not."""
    _fill(cohort, 1)
    client.force_login(manager)

    response = client.get("/admin/pairs/meeting/", {lookup: "a"})
    allowed = client.get("/admin/pairs/meeting/", {"status__exact": "scheduled"})

    assert response.status_code == 400
    assert allowed.status_code == 200


def test_it_keeps_sponsors_out(client: Client, sponsor, cohort: Cohort) -> None:
    (pair,) = _fill(cohort, 1)
    client.force_login(sponsor)
    for url in _urls_for_sponsor(pair):
        assert client.get(url).status_code == 302, url


def _urls_for_sponsor(pair: Pair) -> list[str]:
    return [
        "/admin/pairs/pair/",
        f"/admin/pairs/pair/{pair.pk}/change/",
        "/admin/pairs/meeting/",
        "/admin/pairs/guide/",
    ]


def test_it_lets_managers_edit_their_programmes_guides_and_read_the_defaults(
    client: Client, manager, programme
) -> None:
    client.force_login(manager)

    html = client.get("/admin/pairs/guide/").content.decode()
    assert "Your role as a reverse-mentor" in html  # a default from the migration
    assert "The organisation&#x27;s default (every programme)" in html

    default = Guide.objects.get(kind=Guide.Kind.FIRST_MEETING, programme=None)
    data = {
        "programme": str(programme.pk),
        "kind": Guide.Kind.FIRST_MEETING,
        "role": "",
        "topic": "",
        "topic_title": "",
        "title": "Your first meeting",
        "body": "Introduce yourselves.\n\n- Book the next session.",
        "position": 2,
    }
    # The default is the organisation administrators' (tests/security/test_outbox_scope.py).
    assert client.post(f"/admin/pairs/guide/{default.pk}/change/", data).status_code == 403
    response = client.post("/admin/pairs/guide/add/", data)
    assert response.status_code == 302
    own = Guide.objects.get(programme=programme, kind=Guide.Kind.FIRST_MEETING)
    assert own.title == "Your first meeting"
    response = client.post(f"/admin/pairs/guide/{own.pk}/change/", data | {"title": "Hello"})
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.title == "Hello"


@pytest.mark.parametrize(("cap", "shown"), [(4, "more than 4 meetings"), (6, "6 meetings")])
def test_it_stops_counting_sessions_at_the_cap(
    client: Client, manager, cohort: Cohort, cap: int, shown: str, monkeypatch
) -> None:
    """The sessions' count reads at most cap + 1 rows, whatever the table holds, and the
    list says "more than" what it did not count."""
    _fill(cohort, 2)  # 6 sessions
    monkeypatch.setattr(CappedCountPaginator, "cap", cap)
    client.force_login(manager)

    with CaptureQueriesContext(connection) as captured:
        response = client.get("/admin/pairs/meeting/")

    assert response.status_code == 200
    assert shown in response.content.decode()
    (count,) = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT COUNT(")]
    assert f"LIMIT {cap + 1}" in count
