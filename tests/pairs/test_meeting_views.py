from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from pairs.models import Meeting, Pair
from programmes.links import Purpose
from programmes.models import Role
from tests.factories import TopicFactory
from tests.pairs.meeting_helpers import agreed_pair, meeting_for, pair_token

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.pair(mentee_zone="America/New_York", mentor_zone="Europe/London")

TOMORROW_10 = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(time_machine) -> None:
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def mentor_token(pair: Pair) -> str:
    return pair_token(pair.reverse_mentor)


@pytest.fixture
def mentee_token(pair: Pair) -> str:
    return pair_token(pair.mentee)


def schedule_url(token: str) -> str:
    return reverse("pairs:meeting_schedule", args=[token])


def edit_url(token: str, meeting: Meeting) -> str:
    return reverse("pairs:meeting_edit", args=[token, meeting.pk])


def ics_url(token: str, meeting: Meeting) -> str:
    return reverse("pairs:meeting_ics", args=[token, meeting.pk])


def typed(**overrides: str) -> dict[str, str]:
    """What the schedule form sends, with a fresh one-time token as its page would hold."""
    return {
        "submission": str(uuid4()),
        "date": "2026-03-10",
        "time": "10:00",
        "duration_minutes": "45",
        "topic": "",
    } | overrides


def test_it_shows_the_schedule_form_in_the_viewers_zone(client: Client, mentee_token: str) -> None:
    response = client.get(schedule_url(mentee_token))

    assert response.status_code == 200
    assert "In your time zone, America/New_York." in response.text
    assert "Schedule a session with Ravi Patel" in response.text


def test_it_schedules_in_the_viewers_zone_and_tells_the_partner(
    client: Client, pair: Pair, mentee_token: str, django_capture_on_commit_callbacks
) -> None:
    topic = TopicFactory(programme=pair.cohort.programme, title="Digital habits")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(schedule_url(mentee_token), typed(topic=str(topic.pk)), follow=True)

    page = reverse("pairs:pair", args=[mentee_token, pair.pk])
    assert response.redirect_chain == [(page, 302)]
    meeting = Meeting.objects.get()
    assert meeting.starts_at == datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
    assert (meeting.scheduled_by, meeting.topic) == (Role.MENTEE, topic)
    assert "Session booked for Tuesday 10 March at 10:00 (America/New_York)" in response.text
    [email] = mail.outbox
    assert email.to == [pair.reverse_mentor.person.email]


@pytest.mark.parametrize("day", ["2027-03-11", "9999-12-31"])
def test_it_refuses_a_time_more_than_a_year_ahead(client: Client, mentee_token: str, day) -> None:
    response = client.post(schedule_url(mentee_token), typed(date=day, time="23:59"))

    assert response.status_code == 400
    assert "Choose a time within the next year." in response.text
    assert f'value="{day}"' in response.text
    assert not Meeting.objects.exists()


def test_it_refuses_to_schedule_in_the_past_and_keeps_what_was_typed(
    client: Client, mentee_token: str
) -> None:
    response = client.post(schedule_url(mentee_token), typed(date="2026-03-01", time="08:15"))

    assert response.status_code == 400
    assert "Choose a time in the future." in response.text
    assert 'value="2026-03-01"' in response.text
    assert 'value="08:15"' in response.text
    assert not Meeting.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize("minutes", ["0", "241", "soon", ""])
def test_it_refuses_a_duration_out_of_range(
    client: Client, mentee_token: str, minutes: str
) -> None:
    response = client.post(schedule_url(mentee_token), typed(duration_minutes=minutes))

    assert response.status_code == 400
    assert "A session lasts between 1 minute and 4 hours." in response.text
    assert not Meeting.objects.exists()


def test_it_refuses_a_topic_from_another_programme(client: Client, mentee_token: str) -> None:
    elsewhere = TopicFactory()

    response = client.post(schedule_url(mentee_token), typed(topic=str(elsewhere.pk)))

    assert response.status_code == 400
    assert "Choose a topic from your programme&#x27;s road map." in response.text
    assert not Meeting.objects.exists()


def test_it_refuses_an_overlap_with_the_times_in_the_viewers_zone(
    client: Client, pair: Pair, mentee_token: str
) -> None:
    meeting_for(pair, starts_at=datetime(2026, 3, 10, 14, 0, tzinfo=UTC))

    response = client.post(schedule_url(mentee_token), typed(time="10:30"))

    assert response.status_code == 400
    assert (
        "You already have a session from 10:00 to 10:45 that day (America/New_York time)."
        in response.text
    )
    assert Meeting.objects.count() == 1


def test_it_explains_a_time_the_clocks_skip(client: Client, mentor_token: str) -> None:
    # London springs forward at 01:00 on 29 March 2026: 01:30 never happens.
    response = client.post(schedule_url(mentor_token), typed(date="2026-03-29", time="01:30"))

    assert response.status_code == 400
    assert "That time does not exist in Europe/London on that day (clocks change)." in response.text
    assert not Meeting.objects.exists()


def test_it_explains_a_time_that_happens_twice(client: Client, mentor_token: str) -> None:
    response = client.post(schedule_url(mentor_token), typed(date="2026-10-25", time="01:30"))

    assert response.status_code == 400
    assert "That time happens twice in Europe/London on that day" in response.text
    assert not Meeting.objects.exists()


def test_it_says_up_front_that_the_agreement_comes_first(client: Client, db: None) -> None:
    pair = agreed_pair(agreed=False)
    token = pair_token(pair.mentee)

    page = client.get(schedule_url(token))
    posted = client.post(schedule_url(token), typed())

    assert "Agree how you&#x27;ll work together on your pair page first." in page.text
    assert posted.status_code == 400
    assert not Meeting.objects.exists()


def test_it_refuses_to_schedule_for_a_paused_pair(client: Client, db: None) -> None:
    pair = agreed_pair(status=Pair.Status.PAUSED, paused_until=date(2026, 3, 20))

    response = client.post(schedule_url(pair_token(pair.mentee)), typed(date="2026-03-25"))

    assert response.status_code == 400
    assert "Your pair is paused until 20 March 2026" in response.text
    assert not Meeting.objects.exists()


def test_it_refuses_to_schedule_for_an_ended_pair(client: Client, db: None) -> None:
    pair = agreed_pair(status=Pair.Status.ENDED, ended_on=date(2026, 3, 1))

    response = client.post(schedule_url(pair_token(pair.mentee)), typed())

    assert response.status_code == 400
    assert "This pair has ended; nothing can be changed." in response.text
    assert not Meeting.objects.exists()


def test_the_edit_page_shows_the_partner_the_time_in_their_own_zone(
    client: Client, pair: Pair, mentor_token: str, mentee_token: str
) -> None:
    # Booked for 10:00 in New York on 10 March, after the US clock change but before the
    # European one: 14:00 in London, not 15:00.
    meeting = meeting_for(pair, starts_at=datetime(2026, 3, 10, 14, 0, tzinfo=UTC))

    in_london = client.get(edit_url(mentor_token, meeting))
    in_new_york = client.get(edit_url(mentee_token, meeting))

    assert "Tuesday 10 March 2026, 14:00</time>–14:45" in in_london.text
    assert "(Europe/London)" in in_london.text
    assert "Tuesday 10 March 2026, 10:00</time>–10:45" in in_new_york.text
    assert 'name="move-time" value="10:00"' in in_new_york.text


def test_it_reschedules_from_the_edit_page(
    client: Client, pair: Pair, mentor_token: str, django_capture_on_commit_callbacks
) -> None:
    meeting = meeting_for(pair, starts_at=TOMORROW_10)
    data = {
        "action": "reschedule",
        "move-date": "2026-03-05",
        "move-time": "16:30",
        "move-duration_minutes": "30",
        "move-topic": "",
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(edit_url(mentor_token, meeting), data)

    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.starts_at == datetime(2026, 3, 5, 16, 30, tzinfo=UTC)
    assert (meeting.duration_minutes, meeting.sequence) == (30, 1)
    [email] = mail.outbox
    assert email.to == [pair.mentee.person.email]
    assert "11:30 (America/New_York)" in email.subject


def test_it_cancels_with_a_reason_from_the_edit_page(
    client: Client, pair: Pair, mentee_token: str, django_capture_on_commit_callbacks
) -> None:
    meeting = meeting_for(pair, starts_at=TOMORROW_10)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            edit_url(mentee_token, meeting), {"action": "cancel", "cancel-reason": "Travelling"}
        )

    assert response.status_code == 302
    meeting.refresh_from_db()
    assert (meeting.status, meeting.cancelled_by, meeting.cancel_reason) == (
        "cancelled",
        "mentee",
        "Travelling",
    )
    assert mail.outbox[0].to == [pair.reverse_mentor.person.email]


def test_it_marks_a_past_session_from_the_edit_page(
    client: Client, pair: Pair, mentee_token: str
) -> None:
    meeting = meeting_for(pair, starts_at=NOW - timedelta(days=1))
    data = {"action": "mark", "mark-status": "held", "mark-led_by": "reverse_mentor"}

    response = client.post(edit_url(mentee_token, meeting), data, follow=True)

    assert "Session marked as held. Ravi Patel has been told." in response.text
    meeting.refresh_from_db()
    assert (meeting.status, meeting.led_by) == ("held", "reverse_mentor")


def test_marking_a_session_missed_can_say_who_could_not_make_it(
    client: Client, pair: Pair, mentee_token: str
) -> None:
    meeting = meeting_for(pair, starts_at=NOW - timedelta(days=1))
    data = {"action": "mark", "mark-status": "missed", "mark-missed_by": "mentee"}

    response = client.post(edit_url(mentee_token, meeting), data, follow=True)

    assert "Session marked as missed." in response.text
    meeting.refresh_from_db()
    assert (meeting.status, meeting.missed_by) == ("missed", "mentee")
    # Marked held later: nobody missed it.
    data = {"action": "mark", "mark-status": "held", "mark-missed_by": "mentee"}
    client.post(edit_url(mentee_token, meeting), data)
    meeting.refresh_from_db()
    assert (meeting.status, meeting.missed_by) == ("held", "")


def test_it_offers_marking_only_once_a_session_has_started(
    client: Client, pair: Pair, mentee_token: str
) -> None:
    upcoming = meeting_for(pair, starts_at=TOMORROW_10)
    past = meeting_for(pair, starts_at=NOW - timedelta(days=1))

    assert 'value="mark"' not in client.get(edit_url(mentee_token, upcoming)).text
    assert 'value="mark"' in client.get(edit_url(mentee_token, past)).text


def test_it_refuses_marking_a_future_session_even_if_posted(
    client: Client, pair: Pair, mentee_token: str
) -> None:
    meeting = meeting_for(pair, starts_at=TOMORROW_10)

    response = client.post(
        edit_url(mentee_token, meeting), {"action": "mark", "mark-status": "held"}
    )

    assert response.status_code == 400
    assert "This session has not started yet" in response.text
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED


@pytest.mark.parametrize("action", ["", "delete", "reschedule"])
def test_it_answers_a_bad_action_with_a_message(
    client: Client, pair: Pair, mentee_token: str, action: str
) -> None:
    meeting = meeting_for(pair, starts_at=TOMORROW_10)

    response = client.post(edit_url(mentee_token, meeting), {"action": action})

    assert response.status_code == 400
    meeting.refresh_from_db()
    assert (meeting.status, meeting.sequence) == ("scheduled", 0)


def test_it_downloads_the_invitation(client: Client, pair: Pair, mentee_token: str) -> None:
    meeting = meeting_for(pair, starts_at=TOMORROW_10)

    response = client.get(ics_url(mentee_token, meeting))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="session-2026-03-03.ics"'
    assert b"BEGIN:VCALENDAR" in response.content


def test_another_pairs_meeting_is_not_found(client: Client, mentee_token: str) -> None:
    other = agreed_pair()
    theirs = meeting_for(other, starts_at=TOMORROW_10)

    assert client.get(edit_url(mentee_token, theirs)).status_code == 404
    assert client.get(ics_url(mentee_token, theirs)).status_code == 404
    response = client.post(
        edit_url(mentee_token, theirs), {"action": "cancel", "cancel-reason": "ha"}
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Meeting.Status.SCHEDULED


def test_a_link_for_another_purpose_is_refused(client: Client, pair: Pair) -> None:
    meeting = meeting_for(pair, starts_at=TOMORROW_10)
    intake_token = pair_token(pair.mentee, purpose=Purpose.INTAKE)

    for url in (
        schedule_url(intake_token),
        edit_url(intake_token, meeting),
        ics_url(intake_token, meeting),
    ):
        response = client.get(url)
        assert response.status_code == 400
        assert "pair page" in response.text

    assert client.post(schedule_url(intake_token), typed()).status_code == 400
    assert Meeting.objects.count() == 1


def test_a_tampered_link_is_refused(client: Client, mentee_token: str) -> None:
    response = client.post(schedule_url(mentee_token[:-2] + "xx"), typed())

    assert response.status_code == 400
    assert not Meeting.objects.exists()


def test_someone_never_paired_gets_not_found(client: Client, db: None) -> None:
    from tests.factories import ParticipantFactory

    loner = ParticipantFactory()

    assert client.get(schedule_url(pair_token(loner))).status_code == 404
