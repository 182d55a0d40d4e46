from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from notifications.models import Notification
from notifications.sending import notification_send
from notifications.services import notify
from notifications.tasks import send_notification
from pairs import meetings
from pairs.models import Meeting, Pair
from programmes.models import Role
from tests.factories import ParticipantFactory, TopicFactory
from tests.pairs.meeting_helpers import agreed_pair, meeting_for

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TOMORROW_10 = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(time_machine) -> None:
    time_machine.move_to(NOW, tick=False)


def schedule(pair: Pair, **overrides: object) -> Meeting:
    arguments = {
        "pair": pair,
        "by": pair.reverse_mentor,
        "starts_at": TOMORROW_10,
        "duration_minutes": 45,
        "topic": None,
    } | overrides
    return meetings.meeting_schedule(**arguments)


def messages_of(error: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return error.value.messages


def test_it_schedules_a_session_and_tells_the_partner(
    pair: Pair, django_capture_on_commit_callbacks
) -> None:
    topic = TopicFactory(programme=pair.cohort.programme, title="Digital habits")
    with django_capture_on_commit_callbacks(execute=True):
        meeting = schedule(pair, topic=topic)

    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED
    assert meeting.scheduled_by == Role.REVERSE_MENTOR
    assert meeting.sequence == 0
    assert meeting.topic == topic
    [email] = mail.outbox
    assert email.to == [pair.mentee.person.email]
    assert "Ravi Patel booked a session" in email.subject
    assert "Tuesday 3 March 2026, 10:00 to 10:45 (Europe/London time)" in email.body
    assert "Digital habits" in email.body
    [(filename, content, mimetype)] = email.attachments
    assert filename == "session-2026-03-03.ics"
    assert mimetype == "text/calendar"
    assert icalendar.Calendar.from_ical(content)["METHOD"] == "REQUEST"


def test_it_sends_nothing_until_the_transaction_commits(pair: Pair) -> None:
    schedule(pair)

    assert mail.outbox == []
    assert Notification.objects.get().status == Notification.Status.PENDING


def test_it_refuses_to_schedule_in_the_past(pair: Pair) -> None:
    with pytest.raises(ValidationError) as error:
        schedule(pair, starts_at=NOW - timedelta(minutes=1))

    assert error.value.message_dict == {"starts_at": ["Choose a time in the future."]}
    assert not Meeting.objects.exists()


@pytest.mark.parametrize("minutes", [0, -5, 241, 600])
def test_it_refuses_a_duration_of_zero_or_over_four_hours(pair: Pair, minutes: int) -> None:
    with pytest.raises(ValidationError) as error:
        schedule(pair, duration_minutes=minutes)

    assert error.value.message_dict == {
        "duration_minutes": ["A session lasts between 1 minute and 4 hours."]
    }
    assert not Meeting.objects.exists()


@pytest.mark.parametrize("minutes", [1, 240])
def test_it_accepts_one_minute_to_four_hours(pair: Pair, minutes: int) -> None:
    assert schedule(pair, duration_minutes=minutes).duration_minutes == minutes


def test_it_refuses_overlapping_sessions_for_the_same_pair(pair: Pair) -> None:
    existing = meeting_for(pair, starts_at=TOMORROW_10)

    with pytest.raises(ValidationError) as error:
        schedule(pair, starts_at=TOMORROW_10 + timedelta(minutes=30))

    assert error.value.message_dict == {
        "starts_at": [
            "You already have a session from 10:00 to 10:45 that day (Europe/London time)."
        ]
    }
    assert list(Meeting.objects.all()) == [existing]


def test_it_refuses_a_session_that_would_run_into_the_next(pair: Pair) -> None:
    meeting_for(pair, starts_at=TOMORROW_10)

    with pytest.raises(ValidationError, match="from 10:00 to 10:45"):
        schedule(pair, starts_at=TOMORROW_10 - timedelta(hours=1), duration_minutes=61)


def test_it_allows_back_to_back_sessions_and_the_slot_of_a_cancelled_one(pair: Pair) -> None:
    meeting_for(pair, starts_at=TOMORROW_10)
    meeting_for(
        pair,
        starts_at=TOMORROW_10 + timedelta(hours=2),
        status=Meeting.Status.CANCELLED,
        cancelled_by=Role.MENTEE,
    )

    schedule(pair, starts_at=TOMORROW_10 + timedelta(minutes=45))
    schedule(pair, starts_at=TOMORROW_10 + timedelta(hours=2))

    assert Meeting.objects.count() == 4


def test_it_does_not_count_another_pairs_sessions_as_overlapping(pair: Pair) -> None:
    meeting_for(agreed_pair(), starts_at=TOMORROW_10)

    schedule(pair)

    assert pair.meetings.count() == 1


def test_it_refuses_a_topic_outside_the_road_map(pair: Pair) -> None:
    elsewhere = TopicFactory(title="Another programme's topic")

    with pytest.raises(ValidationError) as error:
        schedule(pair, topic=elsewhere)

    assert error.value.message_dict == {"topic": ["Choose a topic from your programme's road map."]}
    assert not Meeting.objects.exists()


def test_it_refuses_to_schedule_before_both_agree_how_to_work(db: None) -> None:
    pair = agreed_pair(agreed=False)

    with pytest.raises(ValidationError) as error:
        schedule(pair)

    assert messages_of(error) == ["Agree how you'll work together on your pair page first."]
    assert not Meeting.objects.exists()


def test_it_refuses_someone_outside_the_pair(pair: Pair) -> None:
    stranger = ParticipantFactory(cohort=pair.cohort)

    with pytest.raises(ValidationError, match="not part of this pair"):
        schedule(pair, by=stranger)

    assert not Meeting.objects.exists()


def test_it_refuses_new_sessions_while_the_pair_is_paused(db: None) -> None:
    pair = agreed_pair(status=Pair.Status.PAUSED, paused_until=date(2026, 3, 16))

    with pytest.raises(ValidationError) as error:
        schedule(pair, starts_at=datetime(2026, 3, 20, 10, tzinfo=UTC))

    assert messages_of(error) == [
        "Your pair is paused until 16 March 2026; you can book sessions from that day."
    ]
    assert not Meeting.objects.exists()


def test_it_accepts_sessions_again_once_the_pause_is_over(db: None, time_machine) -> None:
    pair = agreed_pair(status=Pair.Status.PAUSED, paused_until=date(2026, 3, 16))
    time_machine.move_to(datetime(2026, 3, 16, 8, tzinfo=UTC), tick=False)

    meeting = schedule(pair, starts_at=datetime(2026, 3, 20, 10, tzinfo=UTC))

    assert meeting.pk is not None
    pair.refresh_from_db()
    assert pair.status == Pair.Status.PAUSED  # resuming is not this service's business


def test_it_still_lets_a_paused_pair_cancel(db: None) -> None:
    pair = agreed_pair(status=Pair.Status.PAUSED, paused_until=date(2026, 3, 16))
    meeting = meeting_for(pair, starts_at=TOMORROW_10)

    meetings.meeting_cancel(meeting=meeting, by=pair.mentee)

    assert meeting.status == Meeting.Status.CANCELLED


def test_it_refuses_every_change_to_an_ended_pair(db: None) -> None:
    pair = agreed_pair(status=Pair.Status.ENDED, ended_on=date(2026, 3, 1))
    upcoming = meeting_for(pair, starts_at=TOMORROW_10)
    past = meeting_for(pair, starts_at=NOW - timedelta(days=1))
    actions = [
        lambda: schedule(pair, starts_at=TOMORROW_10 + timedelta(days=1)),
        lambda: meetings.meeting_reschedule(
            meeting=upcoming,
            by=pair.mentee,
            starts_at=TOMORROW_10 + timedelta(days=2),
            duration_minutes=30,
            topic=None,
        ),
        lambda: meetings.meeting_cancel(meeting=upcoming, by=pair.mentee),
        lambda: meetings.meeting_mark(
            meeting=past, by=pair.mentee, status="held", led_by="", topic=None
        ),
    ]
    for action in actions:
        with pytest.raises(ValidationError) as error:
            action()
        assert messages_of(error) == ["This pair has ended; nothing can be changed."]

    assert Meeting.objects.count() == 2
    assert set(Meeting.objects.values_list("status", "sequence", "starts_at")) == {
        ("scheduled", 0, TOMORROW_10),
        ("scheduled", 0, NOW - timedelta(days=1)),
    }


def test_it_reschedules_with_the_same_uid_and_a_higher_sequence(
    pair: Pair, django_capture_on_commit_callbacks
) -> None:
    meeting = meeting_for(pair, starts_at=TOMORROW_10)
    uid = meeting.uid

    with django_capture_on_commit_callbacks(execute=True):
        meetings.meeting_reschedule(
            meeting=meeting,
            by=pair.mentee,
            starts_at=TOMORROW_10 + timedelta(days=1, hours=4),
            duration_minutes=60,
            topic=None,
        )

    meeting.refresh_from_db()
    assert (meeting.uid, meeting.sequence) == (uid, 1)
    assert meeting.starts_at == TOMORROW_10 + timedelta(days=1, hours=4)
    assert meeting.duration_minutes == 60
    [email] = mail.outbox
    assert email.to == [pair.reverse_mentor.person.email]
    assert "Session moved to Wed 4 Mar, 14:00 (Europe/London)" in email.subject


def test_a_session_can_move_onto_its_own_slot(pair: Pair) -> None:
    meeting = meeting_for(pair, starts_at=TOMORROW_10)

    meetings.meeting_reschedule(
        meeting=meeting,
        by=pair.mentee,
        starts_at=TOMORROW_10 + timedelta(minutes=15),
        duration_minutes=45,
        topic=None,
    )

    assert meeting.sequence == 1


def test_it_refuses_to_reschedule_into_the_past_and_changes_nothing(pair: Pair) -> None:
    meeting = meeting_for(pair, starts_at=TOMORROW_10)

    with pytest.raises(ValidationError, match="Choose a time in the future"):
        meetings.meeting_reschedule(
            meeting=meeting,
            by=pair.mentee,
            starts_at=NOW - timedelta(hours=1),
            duration_minutes=45,
            topic=None,
        )

    meeting.refresh_from_db()
    assert (meeting.starts_at, meeting.sequence) == (TOMORROW_10, 0)


def test_it_records_which_side_cancelled_and_why(
    pair: Pair, django_capture_on_commit_callbacks
) -> None:
    meeting = meeting_for(pair, starts_at=TOMORROW_10, scheduled_by=Role.REVERSE_MENTOR)

    with django_capture_on_commit_callbacks(execute=True):
        meetings.meeting_cancel(meeting=meeting, by=pair.mentee, reason="  Board   meeting ")

    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CANCELLED
    assert meeting.cancelled_by == Role.MENTEE
    assert meeting.cancel_reason == "Board meeting"
    assert meeting.sequence == 1
    [email] = mail.outbox
    assert email.to == [pair.reverse_mentor.person.email]
    assert "Margaret Hale cancelled your session" in email.subject
    # The reason is the partner's own words: on the session's page, never in the mail.
    assert "Board meeting" not in email.body
    assert "with any reason they gave" in email.body
    calendar = icalendar.Calendar.from_ical(email.attachments[0][1])
    assert calendar["METHOD"] == "CANCEL"


def test_it_refuses_to_cancel_or_move_a_cancelled_session(pair: Pair) -> None:
    meeting = meeting_for(
        pair, starts_at=TOMORROW_10, status=Meeting.Status.CANCELLED, cancelled_by=Role.MENTEE
    )

    with pytest.raises(ValidationError, match="already cancelled"):
        meetings.meeting_cancel(meeting=meeting, by=pair.reverse_mentor)

    meeting.refresh_from_db()
    assert (meeting.cancelled_by, meeting.sequence) == (Role.MENTEE, 0)


def test_it_marks_a_past_session_held_with_who_led_it(
    pair: Pair, django_capture_on_commit_callbacks
) -> None:
    topic = TopicFactory(programme=pair.cohort.programme, title="Our culture")
    meeting = meeting_for(pair, starts_at=NOW - timedelta(hours=2))

    with django_capture_on_commit_callbacks(execute=True):
        meetings.meeting_mark(
            meeting=meeting, by=pair.mentee, status="held", led_by=Role.REVERSE_MENTOR, topic=topic
        )

    meeting.refresh_from_db()
    assert (meeting.status, meeting.led_by, meeting.topic) == ("held", "reverse_mentor", topic)
    [email] = mail.outbox
    assert email.to == [pair.reverse_mentor.person.email]
    assert "as held" in email.subject
    assert "Led by: Ravi Patel" in email.body
    assert email.attachments == []


def test_a_missed_mark_keeps_the_side_that_did_not_turn_up_or_refuses_another(
    pair: Pair,
) -> None:
    meeting = meeting_for(pair, starts_at=NOW - timedelta(hours=2))

    meetings.meeting_mark(
        meeting=meeting,
        by=pair.mentee,
        status="missed",
        led_by="",
        topic=None,
        missed_by=Role.REVERSE_MENTOR,
    )
    meeting.refresh_from_db()
    assert meeting.missed_by == Role.REVERSE_MENTOR

    with pytest.raises(ValidationError) as refused:
        meetings.meeting_mark(
            meeting=meeting, by=pair.mentee, status="missed", led_by="", topic=None, missed_by="x"
        )
    assert "missed_by" in refused.value.message_dict


def test_a_corrected_mark_is_news_of_its_own(
    pair: Pair, time_machine, django_capture_on_commit_callbacks
) -> None:
    meeting = meeting_for(pair, starts_at=NOW - timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        meetings.meeting_mark(
            meeting=meeting, by=pair.mentee, status="held", led_by=Role.MENTEE, topic=None
        )
    time_machine.move_to(NOW + timedelta(minutes=10), tick=False)

    with django_capture_on_commit_callbacks(execute=True):
        meetings.meeting_mark(
            meeting=meeting, by=pair.mentee, status="missed", led_by="", topic=None
        )

    first, second = mail.outbox
    assert "as held" in first.subject
    assert "as missed" in second.subject


def test_a_mark_corrected_before_its_message_went_sends_only_the_correction(
    pair: Pair, settings, time_machine, django_capture_on_commit_callbacks
) -> None:
    # Marked at 22:00 London, the message waits for the morning; corrected ten minutes later,
    # the partner hears once, about the correction, not twice about the final state.
    settings.NOTIFICATIONS_LOCAL_HOURS = (8, 20)
    evening = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
    time_machine.move_to(evening, tick=False)
    meeting = meeting_for(pair, starts_at=evening - timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        meetings.meeting_mark(
            meeting=meeting, by=pair.mentee, status="held", led_by=Role.MENTEE, topic=None
        )
    time_machine.move_to(evening + timedelta(minutes=10), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        meetings.meeting_mark(
            meeting=meeting, by=pair.mentee, status="missed", led_by="", topic=None
        )
    assert mail.outbox == []

    time_machine.move_to(datetime(2026, 3, 3, 8, 0, tzinfo=UTC), tick=False)
    for row in Notification.objects.order_by("pk"):
        notification_send(row.pk)

    assert sorted(Notification.objects.values_list("status", flat=True)) == ["cancelled", "sent"]
    [email] = mail.outbox
    assert "as missed" in email.subject


def test_a_missed_session_has_no_leader(pair: Pair) -> None:
    meeting = meeting_for(pair, starts_at=NOW - timedelta(hours=2))

    meetings.meeting_mark(
        meeting=meeting, by=pair.mentee, status="missed", led_by=Role.MENTEE, topic=None
    )

    assert (meeting.status, meeting.led_by) == ("missed", "")


def test_it_refuses_to_mark_a_session_that_has_not_started(pair: Pair) -> None:
    meeting = meeting_for(pair, starts_at=TOMORROW_10)

    with pytest.raises(ValidationError, match="has not started yet"):
        meetings.meeting_mark(meeting=meeting, by=pair.mentee, status="held", led_by="", topic=None)

    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED


@pytest.mark.parametrize(
    ("status", "led_by", "field"),
    [("scheduled", "", "status"), ("cancelled", "", "status"), ("held", "sponsor", "led_by")],
)
def test_it_refuses_a_mark_that_is_not_held_or_missed(
    pair: Pair, status: str, led_by: str, field: str
) -> None:
    meeting = meeting_for(pair, starts_at=NOW - timedelta(hours=2))

    with pytest.raises(ValidationError) as error:
        meetings.meeting_mark(
            meeting=meeting, by=pair.mentee, status=status, led_by=led_by, topic=None
        )

    assert list(error.value.message_dict) == [field]
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED


def test_it_refuses_to_mark_a_cancelled_session(pair: Pair) -> None:
    meeting = meeting_for(
        pair,
        starts_at=NOW - timedelta(hours=2),
        status=Meeting.Status.CANCELLED,
        cancelled_by=Role.MENTEE,
    )

    with pytest.raises(ValidationError, match="was cancelled"):
        meetings.meeting_mark(meeting=meeting, by=pair.mentee, status="held", led_by="", topic=None)


def update_for(meeting: Meeting, change: str, sequence: int) -> Notification:
    """The partner's message about one change, as the session services ask for it."""
    notify(
        kind=f"meeting_{change}",
        key=f"meeting_{change}:{meeting.pk}:{sequence}",
        to=meeting.pair.mentee.person,
        about=meeting,
        data={"sequence": sequence, "by": str(Role.REVERSE_MENTOR)},
    )
    return Notification.objects.get(key=f"meeting_{change}:{meeting.pk}:{sequence}")


def test_a_late_notification_for_an_overtaken_change_is_cancelled_not_sent(pair: Pair) -> None:
    meeting = meeting_for(pair, starts_at=TOMORROW_10, sequence=2)
    stale = [
        update_for(meeting, "scheduled", 0),
        update_for(meeting, "rescheduled", 1),
        update_for(meeting, "cancelled", 2),  # the meeting is not cancelled
        update_for(Meeting(pk=meeting.pk + 1000, pair=pair), "rescheduled", 2),  # no such meeting
    ]
    current = update_for(meeting, "rescheduled", 2)

    for row in stale:
        assert notification_send(row.pk) == Notification.Status.CANCELLED
        row.refresh_from_db()
        assert row.status == Notification.Status.CANCELLED
    assert mail.outbox == []

    assert notification_send(current.pk) == Notification.Status.SENT
    [email] = mail.outbox
    assert email.to == [pair.mentee.person.email]
    assert "Session moved" in email.subject


def test_a_change_overtaken_before_its_message_went_is_never_sent(pair: Pair) -> None:
    # Booked and moved twice in quick succession, before any message went out: only the
    # latest time reaches the partner.
    meeting = schedule(pair)
    for hours in (1, 2):
        meetings.meeting_reschedule(
            meeting=meeting,
            by=pair.reverse_mentor,
            starts_at=TOMORROW_10 + timedelta(hours=hours),
            duration_minutes=45,
            topic=None,
        )
    assert Notification.objects.filter(status="pending").count() == 3

    for row in Notification.objects.order_by("pk"):
        notification_send(row.pk)

    assert dict(Notification.objects.values_list("key", "status")) == {
        f"meeting_scheduled:{meeting.pk}:0": "cancelled",
        f"meeting_rescheduled:{meeting.pk}:1": "cancelled",
        f"meeting_rescheduled:{meeting.pk}:2": "sent",
    }
    [email] = mail.outbox
    assert "Session moved to Tue 3 Mar, 12:00 (Europe/London)" in email.subject


def test_a_redelivered_notification_sends_once(
    pair: Pair, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        schedule(pair)
    [row] = Notification.objects.all()

    send_notification.delay(row.pk)
    assert notification_send(row.pk) == "not claimed"

    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 1)


def test_a_session_booked_in_new_york_shows_the_right_hour_in_london_across_the_clock_change(
    db: None, django_capture_on_commit_callbacks
) -> None:
    # The US moves to summer time on 8 March 2026, Europe only on 29 March: on 10 March
    # New York is four hours behind London, not the usual five.
    pair = agreed_pair(mentee_zone="America/New_York", mentor_zone="Europe/London")
    new_york_10am = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)

    with django_capture_on_commit_callbacks(execute=True):
        schedule(pair, by=pair.mentee, starts_at=new_york_10am)

    [email] = mail.outbox
    assert email.to == [pair.reverse_mentor.person.email]
    assert "Tue 10 Mar, 14:00 (Europe/London)" in email.subject
    assert "Tuesday 10 March 2026, 14:00 to 14:45 (Europe/London time)" in email.body
