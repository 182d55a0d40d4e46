"""Managers follow pairs and their sessions in the admin: status, counts and dates, and never
the text of a note."""

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from pairs.models import Agreement, Guide, Meeting, Note, Pair
from programmes.models import Cohort, Role
from tests.factories import CohortFactory, ParticipantFactory, TopicFactory

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


@pytest.mark.parametrize("rows", [3, 30])
def test_it_lists_pairs_in_a_fixed_number_of_queries(
    client: Client, manager, cohort: Cohort, rows: int, django_assert_num_queries
) -> None:
    _fill(cohort, rows)
    client.force_login(manager)
    # 1 session, 2 user, 3-4 the user's own and group permissions, 5 programme filter
    # choices, 6 cohort filter choices (with programmes), 7 count of all pairs, 8 the
    # filtered count, 9 the page of pairs with cohort, both people, agreement, session and
    # note counts
    with django_assert_num_queries(9):
        response = client.get("/admin/pairs/pair/")
    assert response.status_code == 200


@pytest.mark.parametrize("rows", [3, 30])
def test_it_lists_sessions_in_a_fixed_number_of_queries(
    client: Client, manager, cohort: Cohort, rows: int, django_assert_num_queries
) -> None:
    _fill(cohort, rows)
    client.force_login(manager)
    # 1 session, 2 user, 3-4 the user's own and group permissions, 5 programme filter
    # choices, 6 cohort filter choices (with programmes), 7 count of all sessions, 8 the
    # filtered count, 9 the page of sessions with both people, topic and note counts,
    # 10-11 the date hierarchy: first and last dates, then the years or months between
    with django_assert_num_queries(11):
        response = client.get("/admin/pairs/meeting/")
    assert response.status_code == 200


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
