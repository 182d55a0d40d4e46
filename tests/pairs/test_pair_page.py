from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from pairs.models import Agreement, Guide, Meeting, Note, Pair
from programmes.models import Role
from surveys.models import NpsResponse, Pulse
from tests.factories import ParticipantFactory, ProgrammeFactory
from tests.pairs.pair_setup import (
    make_pair,
    meeting,
    page_url,
    token_for,
)

NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def setup(programme, clock):
    return make_pair(programme)


def _agree(pair: Pair) -> Agreement:
    return Agreement.objects.create(
        pair=pair, number=1, mentee_accepted_at=NOW, mentor_accepted_at=NOW
    )


def _section(page: str, section_id: str) -> str:
    start = page.index(f'id="{section_id}"')
    return page[start : page.index("</section>", start)]


def test_it_shows_the_partner_their_shared_intake_and_both_goals(client, setup) -> None:
    page = client.get(page_url(setup.mentee)).content.decode()

    partner = _section(page, "partner")
    assert "Eli Okafor" in partner
    assert "your reverse-mentor" in partner
    assert "Graduate Engineer, Platform" in partner
    assert "Digital habits" in partner
    assert "Our culture" in partner
    assert "What customers see" not in partner
    goals = _section(page, "goals")
    assert "Understand how graduates use AI tools" in goals
    assert "Run a meeting without slides" in goals
    assert "Learn how budgets are decided" in goals


def test_it_never_shows_the_partner_objectives_or_boundaries(client, setup) -> None:
    for viewer in (setup.mentee, setup.mentor):
        page = client.get(page_url(viewer)).content.decode()
        assert "OBJECTIVES-SECRET" not in page
        assert "BOUNDARIES-SECRET" not in page
        assert "off-limits" not in page.lower()


def test_it_starts_the_agreement_on_the_first_view(client, setup) -> None:
    client.get(page_url(setup.mentee))
    client.get(page_url(setup.mentor))

    (first,) = Agreement.objects.all()
    assert (first.number, first.proposed_by, first.agreed) == (1, "", False)


def test_it_ticks_the_topics_of_held_sessions_only(client, setup) -> None:
    digital, culture, customers = setup.topics
    meeting(setup.pair, NOW - timedelta(days=7), status=Meeting.Status.HELD, topic=culture)
    meeting(
        setup.pair,
        NOW - timedelta(days=3),
        status=Meeting.Status.CANCELLED,
        cancelled_by="mentee",
        topic=digital,
    )
    meeting(setup.pair, NOW + timedelta(days=3), topic=customers)

    road_map = _section(client.get(page_url(setup.mentee)).content.decode(), "road-map")

    assert 'Our culture<span class="visually-hidden"> (covered)' in road_map
    assert road_map.count("(covered)") == 1
    assert "1 of 3 topics covered" in road_map


def test_it_lists_sessions_in_the_viewers_time_zone(client, setup) -> None:
    culture = setup.topics[1]
    upcoming = meeting(setup.pair, datetime(2026, 1, 14, 15, 0, tzinfo=UTC))
    held = meeting(
        setup.pair,
        datetime(2026, 1, 7, 15, 0, tzinfo=UTC),
        status=Meeting.Status.HELD,
        topic=culture,
        led_by="reverse_mentor",
    )

    mentor_page = client.get(page_url(setup.mentor)).content.decode()
    sessions = _section(mentor_page, "sessions")
    assert "America/New_York" in sessions
    assert "Wed 14 Jan 2026, 10:00" in sessions
    assert "Wed 7 Jan 2026, 10:00" in sessions
    assert "Held · Our culture · led by You" in sessions
    assert sessions.index("Coming up") < sessions.index("14 Jan") < sessions.index("Past")
    mentee_sessions = _section(client.get(page_url(setup.mentee)).content.decode(), "sessions")
    assert "Wed 14 Jan 2026, 15:00" in mentee_sessions
    assert "led by Eli Okafor" in mentee_sessions

    token = token_for(setup.mentor)
    pair_id = setup.pair.pk
    assert reverse("pairs:meeting_schedule", args=[token, pair_id]) in sessions
    assert reverse("pairs:meeting_edit", args=[token, pair_id, upcoming.pk]) in sessions
    assert reverse("pairs:meeting_edit", args=[token, pair_id, held.pk]) in sessions


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [("mentee", "Eli Okafor books your next session."), ("mentor", "You book your next session.")],
)
def test_it_says_who_books_the_next_session_once_agreed(
    client, setup, viewer: str, expected: str
) -> None:
    _agree(setup.pair)

    page = client.get(page_url(getattr(setup, viewer))).content.decode()

    assert expected in page


def test_it_asks_the_pair_to_agree_first(client, setup) -> None:
    page = client.get(page_url(setup.mentee)).content.decode()

    assert "Agree how you&#x27;ll work together." in page


def test_it_gives_the_next_session_in_the_viewers_zone(client, setup) -> None:
    _agree(setup.pair)
    meeting(setup.pair, datetime(2026, 1, 14, 15, 0, tzinfo=UTC))
    meeting(setup.pair, datetime(2026, 1, 28, 15, 0, tzinfo=UTC))

    page = client.get(page_url(setup.mentor)).content.decode()

    assert "Your next session is on Wed 14 Jan at 10:00 (America/New_York)." in page


def test_it_says_until_when_a_pair_is_paused(client, programme, clock) -> None:
    setup = make_pair(programme, status=Pair.Status.PAUSED, paused_until=date(2026, 2, 1))

    page = client.get(page_url(setup.mentee)).content.decode()

    assert "Paused until 1 February 2026." in page
    assert "Save note" in page


def test_it_shows_an_ended_pair_read_only(client, programme, clock) -> None:
    setup = make_pair(programme, status=Pair.Status.ENDED, ended_on=date(2026, 1, 3))
    Note.objects.create(pair=setup.pair, author=setup.mentee, text="Kept for the record")

    page = client.get(page_url(setup.mentee)).content.decode()

    assert "This pair ended on 3 January 2026." in page
    assert "Kept for the record" in page
    assert "<form" not in page.split('id="main"')[1].split("<footer")[0]
    assert not Agreement.objects.exists()


def test_it_shows_the_current_pair_rather_than_an_ended_one(client, programme, clock) -> None:
    old = make_pair(programme, status=Pair.Status.ENDED, ended_on=date(2026, 1, 3))
    new_mentor = ParticipantFactory(
        cohort=old.cohort, role=Role.REVERSE_MENTOR, person__full_name="Sam Rivera"
    )
    Pair.objects.create(cohort=old.cohort, mentee=old.mentee, reverse_mentor=new_mentor)

    page = client.get(page_url(old.mentee)).content.decode()

    assert "You and Sam Rivera" in page


def test_it_tells_someone_without_a_pair_they_have_not_been_paired_yet(client, programme) -> None:
    loner = ParticipantFactory(cohort__programme=programme)

    response = client.get(page_url(loner))

    assert response.status_code == 200
    assert "You haven't been paired yet" in response.content.decode()


def test_it_shows_the_viewers_role_card_the_programmes_own_first(client, setup, programme) -> None:
    Guide.objects.create(
        programme=programme, kind=Guide.Kind.ROLE_CARD, role="reverse_mentor",
        title="PROGRAMME-MENTOR-CARD", body="Lead.",
    )  # fmt: skip
    Guide.objects.create(
        kind=Guide.Kind.ROLE_CARD, role="reverse_mentor", title="DEFAULT-MENTOR-CARD", body="Lead."
    )
    Guide.objects.create(
        kind=Guide.Kind.ROLE_CARD, role="mentee", title="DEFAULT-MENTEE-CARD", body="Listen."
    )

    mentor_page = client.get(page_url(setup.mentor)).content.decode()
    mentee_page = client.get(page_url(setup.mentee)).content.decode()

    assert "PROGRAMME-MENTOR-CARD" in mentor_page
    assert "DEFAULT-MENTOR-CARD" not in mentor_page
    assert "DEFAULT-MENTEE-CARD" not in mentor_page
    assert "DEFAULT-MENTEE-CARD" in mentee_page


def test_it_puts_the_first_meeting_guide_first_until_a_session_is_held(client, setup) -> None:
    Guide.objects.create(
        kind=Guide.Kind.FIRST_MEETING, title="FIRST-MEETING", body="- Introduce yourselves"
    )

    before = client.get(page_url(setup.mentor)).content.decode()
    assert "Before your first session" in before
    assert before.index("FIRST-MEETING") < before.index('id="partner"')

    meeting(setup.pair, NOW - timedelta(days=1), status=Meeting.Status.HELD)
    after = client.get(page_url(setup.mentor)).content.decode()
    assert "Before your first session" not in after
    assert after.index("FIRST-MEETING") > after.index('id="notes"')


def test_it_offers_agendas_for_the_road_map_topics_and_general_ones(
    client, setup, programme
) -> None:
    elsewhere = ProgrammeFactory()
    Guide.objects.create(
        kind=Guide.Kind.AGENDA, topic_title="our CULTURE", title="CULTURE-AGENDA", body="Talk."
    )
    Guide.objects.create(
        kind=Guide.Kind.AGENDA, topic=setup.topics[0], title="DIGITAL-AGENDA", body="Talk.",
        programme=programme,
    )  # fmt: skip
    Guide.objects.create(
        kind=Guide.Kind.AGENDA, topic_title="Not on our map", title="OFF-MAP-AGENDA", body="."
    )
    Guide.objects.create(kind=Guide.Kind.AGENDA, title="GENERAL-AGENDA", body="Any topic.")
    Guide.objects.create(
        programme=elsewhere, kind=Guide.Kind.AGENDA, title="OTHER-PROGRAMME-AGENDA", body="."
    )

    agendas = _section(client.get(page_url(setup.mentee)).content.decode(), "agendas")

    assert "Our culture:</span> CULTURE-AGENDA" in agendas
    assert "Digital habits:</span> DIGITAL-AGENDA" in agendas
    assert "GENERAL-AGENDA" in agendas
    assert "OFF-MAP-AGENDA" not in agendas
    assert "OTHER-PROGRAMME-AGENDA" not in agendas


def test_it_renders_guide_bodies_as_escaped_paragraphs_and_bullets(client, setup) -> None:
    Guide.objects.create(
        kind=Guide.Kind.FIRST_MEETING,
        title="Escaped",
        body="Start <b>here</b>.\nStill the same paragraph.\n\n- one <script>x</script>\n- two",
    )

    page = client.get(page_url(setup.mentor)).content.decode()

    assert "<p>Start &lt;b&gt;here&lt;/b&gt;. Still the same paragraph.</p>" in page
    assert "<ul><li>one &lt;script&gt;x&lt;/script&gt;</li><li>two</li></ul>" in page


@pytest.mark.parametrize("questions", ["none open", "mid-point open", "both open"])
def test_it_loads_the_page_in_a_fixed_number_of_queries(
    client, setup, django_assert_num_queries, questions
) -> None:
    def add_rows(count: int) -> None:
        for day in range(count):
            held = meeting(
                setup.pair,
                NOW - timedelta(days=day + 1),
                status=Meeting.Status.HELD,
                topic=setup.topics[day % 3],
            )
            Note.objects.create(pair=setup.pair, author=setup.mentee, text="a", meeting=held)
            Note.objects.create(pair=setup.pair, author=setup.mentor, text="b", shared=True)
            for author in (setup.mentee, setup.mentor):
                Pulse.objects.create(
                    meeting=held,
                    participant=author,
                    held=True,
                    learning="l",
                    shared=author == setup.mentor,
                    submitted_at=held.starts_at,
                    session_starts_at=held.starts_at,
                )

    cohort = setup.pair.cohort
    if questions == "mid-point open":  # the cohort is past its middle
        cohort.starts_on, cohort.ends_on = (
            NOW.date() - timedelta(days=60),
            NOW.date() + timedelta(days=30),
        )
    elif questions == "both open":  # and ends within the week
        cohort.starts_on, cohort.ends_on = (
            NOW.date() - timedelta(days=90),
            NOW.date() + timedelta(days=3),
        )
    cohort.save()
    _agree(setup.pair)
    add_rows(1)
    url = page_url(setup.mentee)
    # 1 the participant (from the link), 2 the pair with people and intakes (and whether
    # the programme questions open today were answered), 3 its agreements, 4 its meetings
    # with topics, 5 the pulses this viewer may read, 6 the road map with the topics the
    # partner can share, 7 the notes this viewer may read, with their sessions, 8 the
    # guides.
    with django_assert_num_queries(8):
        page = client.get(url).content.decode()
    assert ("Mid-point questions" in page) is (questions != "none open")
    assert ("End-of-programme questions" in page) is (questions == "both open")

    add_rows(5)
    NpsResponse.objects.create(
        participant=setup.mentee, moment=NpsResponse.Moment.MIDPOINT, score=9, submitted_at=NOW
    )
    with django_assert_num_queries(8):
        page = client.get(url).content.decode()
    # Answered: no longer offered.
    assert "Mid-point questions" not in page
    assert ("End-of-programme questions" in page) is (questions == "both open")


def test_the_introduction_links_each_person_to_their_own_pair_page(
    setup, django_capture_on_commit_callbacks
) -> None:
    from django.core import mail

    from matching.notices import ask_match_introduction
    from programmes.links import Purpose, read_token

    with django_capture_on_commit_callbacks(execute=True):
        ask_match_introduction(setup.pair)

    assert len(mail.outbox) == 2
    by_recipient = {message.to[0]: message.body for message in mail.outbox}
    for participant in (setup.mentee, setup.mentor):
        body = by_recipient[participant.person.email]
        token = body.split("/pair/")[1].split("/")[0]
        assert read_token(token, purpose=Purpose.PAIR).participant_id == participant.pk
