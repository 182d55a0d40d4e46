from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from django.core import mail

from pairs import ics, meetings
from pairs.models import Meeting, Pair
from programmes.models import Role
from tests.factories import TopicFactory
from tests.pairs.meeting_helpers import meeting_for

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.pair(mentee_zone="America/New_York", mentor_zone="Europe/London")

# 10:00 in New York on 10 March 2026: after the US clock change (8 March), so UTC-4.
NEW_YORK_10AM = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(time_machine) -> None:
    time_machine.move_to(NOW, tick=False)


def event_of(ics: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(ics)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def test_it_round_trips_the_right_utc_instant(pair: Pair) -> None:
    topic = TopicFactory(programme=pair.cohort.programme, title="Digital habits")
    meeting = meeting_for(pair, starts_at=NEW_YORK_10AM, duration_minutes=50, topic=topic)

    invitation = ics.meeting_ics(meeting, for_participant=pair.reverse_mentor)

    calendar, event = event_of(invitation)
    assert calendar["VERSION"] == "2.0"
    assert calendar["METHOD"] == "REQUEST"
    assert "PRODID" in calendar
    assert event.decoded("DTSTART") == NEW_YORK_10AM
    assert event.decoded("DTEND") == NEW_YORK_10AM + timedelta(minutes=50)
    assert b"DTSTART:20260310T140000Z" in invitation
    assert event["UID"] == f"{meeting.uid}@testserver"
    assert event["SEQUENCE"] == 0
    assert event["STATUS"] == "CONFIRMED"
    assert event["SUMMARY"] == "Reverse mentoring: Margaret Hale"
    assert "Topic: Digital habits" in event["DESCRIPTION"]
    # No personal link: a forwarded invitation must not open the downloader's pair page.
    assert "http://testserver/pair/" not in event["DESCRIPTION"]
    assert "http://testserver/link/" in event["DESCRIPTION"]
    assert "DTSTAMP" in event


def test_each_person_sees_their_partners_name(pair: Pair) -> None:
    meeting = meeting_for(pair, starts_at=NEW_YORK_10AM)

    _, event = event_of(ics.meeting_ics(meeting, for_participant=pair.mentee))

    assert event["SUMMARY"] == "Reverse mentoring: Ravi Patel"


def test_the_organiser_is_whoever_booked_and_both_attend(pair: Pair) -> None:
    meeting = meeting_for(pair, starts_at=NEW_YORK_10AM, scheduled_by=Role.MENTEE)

    _, event = event_of(ics.meeting_ics(meeting, for_participant=pair.mentee))

    assert event["ORGANIZER"] == f"mailto:{pair.mentee.person.email}"
    assert event["ORGANIZER"].params["CN"] == "Margaret Hale"
    attendees = event["ATTENDEE"]
    assert sorted(str(attendee) for attendee in attendees) == sorted(
        f"mailto:{participant.person.email}" for participant in (pair.mentee, pair.reverse_mentor)
    )


def test_the_uid_stays_and_the_sequence_rises_on_reschedule(
    pair: Pair, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        meeting = meetings.meeting_schedule(
            pair=pair,
            by=pair.mentee,
            starts_at=NEW_YORK_10AM,
            duration_minutes=45,
            topic=None,
        )
    with django_capture_on_commit_callbacks(execute=True):
        meetings.meeting_reschedule(
            meeting=meeting,
            by=pair.mentee,
            starts_at=NEW_YORK_10AM + timedelta(days=1),
            duration_minutes=45,
            topic=None,
        )

    first, second = (event_of(email.attachments[0][1])[1] for email in mail.outbox)
    assert first["UID"] == second["UID"] == f"{meeting.uid}@testserver"
    assert (first["SEQUENCE"], second["SEQUENCE"]) == (0, 1)
    assert second.decoded("DTSTART") == NEW_YORK_10AM + timedelta(days=1)


def test_a_cancelled_session_is_a_cancel_with_the_same_uid(
    pair: Pair, django_capture_on_commit_callbacks
) -> None:
    meeting = meeting_for(pair, starts_at=NEW_YORK_10AM, sequence=1)

    with django_capture_on_commit_callbacks(execute=True):
        meetings.meeting_cancel(meeting=meeting, by=pair.reverse_mentor, reason="Ill")

    [email] = mail.outbox
    assert email.to == [pair.mentee.person.email]
    calendar, event = event_of(email.attachments[0][1])
    assert calendar["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert event["UID"] == f"{meeting.uid}@testserver"
    assert event["SEQUENCE"] == 2
    downloaded = ics.meeting_ics(Meeting.objects.get(pk=meeting.pk), for_participant=pair.mentee)
    assert event_of(downloaded)[0]["METHOD"] == "CANCEL"
