"""The pair's reminders, found by beat's "what is due" scans: the kickoff agreement 3 days after
the introduction, each session 24 hours ahead (the intake's are in
tests/programmes/test_intake_reminders.py). Each is asked when due and not a minute before,
once per key however often the scan runs, and cancelled at send time when it is no longer
wanted; participants' mail waits for a sensible hour where they live without changing when it
is due."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from notifications.models import Notification
from notifications.sending import notification_send
from pairs import meetings
from pairs import tasks as pair_tasks
from pairs.models import Agreement, Meeting, Pair
from pairs.reminders import agreement_reminders_due, session_reminders_due
from programmes import tasks as programme_tasks
from programmes.models import Participant, Role
from tests.pairs.meeting_helpers import agreed_pair, meeting_for
from tests.pairs.pair_setup import make_pair
from tests.reminder_helpers import DAY, MINUTE, asked, at, invited

pytestmark = pytest.mark.django_db

__all__ = ["invited"]  # the fixture, for the beat test that asks every reminder

INTRODUCED = datetime(2026, 2, 2, 10, 0, tzinfo=UTC)
SESSION = datetime(2026, 2, 10, 15, 0, tzinfo=UTC)  # 15:00 in London, 10:00 in New York


# --- The kickoff agreement --------------------------------------------------------------------


@pytest.fixture
def introduced(programme) -> Pair:
    pair = make_pair(programme).pair  # active, with no agreement yet
    Pair.objects.filter(pk=pair.pk).update(introduced_at=INTRODUCED)
    return pair


def propose(pair: Pair, by: Role) -> Agreement:
    return Agreement.objects.create(
        pair=pair,
        number=1,
        proposed_by=by,
        mentee_accepted_at=INTRODUCED if by == Role.MENTEE else None,
        mentor_accepted_at=INTRODUCED if by == Role.REVERSE_MENTOR else None,
    )


def test_an_agreement_reminder_goes_to_both_three_days_after_the_introduction(introduced):
    with at(INTRODUCED + 3 * DAY - MINUTE):
        assert agreement_reminders_due() == 0
    with at(INTRODUCED + 3 * DAY):
        assert agreement_reminders_due() == 2
    with at(INTRODUCED + 3 * DAY + 10 * MINUTE):
        assert agreement_reminders_due() == 0

    mentee, mentor = introduced.mentee, introduced.reverse_mentor
    assert asked("agreement_reminder") == sorted(
        [
            (f"agreement_reminder:{introduced.pk}:{mentee.pk}", {"participant": mentee.pk}),
            (f"agreement_reminder:{introduced.pk}:{mentor.pk}", {"participant": mentor.pk}),
        ]
    )


def test_the_agreement_reminder_goes_only_to_whoever_has_not_accepted(
    introduced, django_capture_on_commit_callbacks
):
    propose(introduced, Role.REVERSE_MENTOR)

    with at(INTRODUCED + 3 * DAY), django_capture_on_commit_callbacks(execute=True):
        assert agreement_reminders_due() == 1

    [email] = mail.outbox
    assert email.to == [introduced.mentee.person.email]
    assert email.subject == "Eli Okafor's proposal for how you work together is waiting for you"
    assert "Eli Okafor has proposed how the two of you will work together" in email.body
    assert "http://testserver/" in email.body


def test_a_default_agreement_nobody_proposed_reminds_both(introduced):
    Agreement.objects.create(pair=introduced, number=1)

    with at(INTRODUCED + 3 * DAY):
        assert agreement_reminders_due() == 2


@pytest.mark.parametrize("status", [Pair.Status.PAUSED, Pair.Status.PROPOSED, Pair.Status.ENDED])
def test_no_agreement_reminder_for_a_pair_that_is_not_active(introduced, status):
    Pair.objects.filter(pk=introduced.pk).update(status=status)

    with at(INTRODUCED + 3 * DAY):
        assert agreement_reminders_due() == 0


def test_no_agreement_reminder_once_both_have_agreed(introduced):
    agreement = propose(introduced, Role.REVERSE_MENTOR)
    Agreement.objects.filter(pk=agreement.pk).update(mentee_accepted_at=INTRODUCED + DAY)
    # A change proposed since is pending, but the kickoff agreement stands.
    Agreement.objects.create(
        pair=introduced, number=2, proposed_by=Role.MENTEE, mentee_accepted_at=INTRODUCED + DAY
    )

    with at(INTRODUCED + 3 * DAY):
        assert agreement_reminders_due() == 0


def test_an_agreement_reminder_agreed_before_it_is_sent_is_cancelled(introduced):
    agreement = propose(introduced, Role.REVERSE_MENTOR)
    with at(INTRODUCED + 3 * DAY):
        agreement_reminders_due()
    [row] = Notification.objects.all()
    Agreement.objects.filter(pk=agreement.pk).update(mentee_accepted_at=timezone.now())

    assert notification_send(row.pk) == "cancelled"
    assert mail.outbox == []


# --- Sessions -----------------------------------------------------------------------------------


@pytest.fixture
def session_pair(programme) -> Pair:
    return agreed_pair(
        programme=programme, mentee_zone="Europe/London", mentor_zone="America/New_York"
    )


@pytest.fixture
def session(session_pair) -> Meeting:
    return meeting_for(session_pair, starts_at=SESSION)


def session_keys(meeting: Meeting, sequence: int = 0) -> list[str]:
    pair = meeting.pair
    return sorted(
        f"session_reminder:{meeting.pk}:{who}:{sequence}"
        for who in (pair.mentee_id, pair.reverse_mentor_id)
    )


def test_a_session_reminder_goes_to_both_24_hours_ahead(session):
    with at(SESSION - timedelta(hours=24) - MINUTE):
        assert session_reminders_due() == 0
    with at(SESSION - timedelta(hours=24)):
        assert session_reminders_due() == 2
    with at(SESSION - timedelta(hours=23)):
        assert session_reminders_due() == 0

    assert [key for key, _ in asked("session_reminder")] == session_keys(session)
    assert {row.about for row in Notification.objects.all()} == {session}


def test_a_tick_with_nothing_new_to_ask_is_two_queries(session, django_assert_num_queries):
    with at(SESSION - timedelta(hours=24)):
        assert session_reminders_due() == 2
    # the sessions starting within 24 hours, the keys the outbox holds already
    with at(SESSION - timedelta(hours=23)), django_assert_num_queries(2):
        assert session_reminders_due() == 0


def test_the_session_reminder_gives_the_time_in_each_readers_zone_and_attaches_nothing(
    session, django_capture_on_commit_callbacks
):
    with at(SESSION - timedelta(hours=24)), django_capture_on_commit_callbacks(execute=True):
        session_reminders_due()

    by_reader = {email.to[0]: email for email in mail.outbox}
    pair = session.pair
    london = by_reader[pair.mentee.person.email]
    new_york = by_reader[pair.reverse_mentor.person.email]
    assert "Tuesday 10 February 2026, 15:00 to 15:45 (Europe/London time)" in london.body
    assert "Tuesday 10 February 2026, 10:00 to 10:45 (America/New_York time)" in new_york.body
    assert (
        london.subject
        == "Reminder: your session with Ravi Patel, Tue 10 Feb, 15:00 (Europe/London)"
    )
    assert "Margaret Hale knows in good time" in new_york.body
    assert london.attachments == new_york.attachments == []


def test_a_paused_pair_gets_no_session_reminder(session):
    Pair.objects.filter(pk=session.pair_id).update(status=Pair.Status.PAUSED)

    with at(SESSION - timedelta(hours=24)):
        assert session_reminders_due() == 0
    assert not Notification.objects.exists()


def test_a_session_reminder_asked_before_a_pause_is_cancelled_when_sent(session):
    with at(SESSION - timedelta(hours=24)):
        session_reminders_due()
        Pair.objects.filter(pk=session.pair_id).update(
            status=Pair.Status.PAUSED, paused_until=SESSION.date() + timedelta(days=30)
        )
        statuses = [notification_send(row.pk) for row in Notification.objects.all()]

    assert statuses == ["cancelled", "cancelled"]
    assert mail.outbox == []


def test_a_moved_session_gets_a_fresh_reminder_and_the_old_one_is_cancelled(session):
    with at(SESSION - timedelta(hours=24)):
        assert session_reminders_due() == 2
    old = [row.pk for row in Notification.objects.filter(kind="session_reminder")]
    later = SESSION + timedelta(hours=3)
    with at(SESSION - timedelta(hours=23)):
        meetings.meeting_reschedule(
            meeting=session,
            by=session.pair.reverse_mentor,
            starts_at=later,
            duration_minutes=45,
            topic=None,
        )
        assert session_reminders_due() == 0  # not 24 hours ahead of the new time yet
        assert [notification_send(pk) for pk in old] == ["cancelled", "cancelled"]
    with at(later - timedelta(hours=24)):
        assert session_reminders_due() == 2

    assert [key for key, _ in asked("session_reminder")] == sorted(
        session_keys(session, 0) + session_keys(session, 1)
    )
    fresh = Notification.objects.filter(kind="session_reminder").exclude(pk__in=old)
    with at(later - timedelta(hours=24)):
        assert [notification_send(row.pk) for row in fresh] == ["sent", "sent"]


@pytest.mark.parametrize("what", ["cancelled", "started"])
def test_a_session_reminder_for_a_cancelled_or_started_session_is_cancelled(session, what):
    with at(SESSION - timedelta(hours=24)):
        session_reminders_due()
    sending = SESSION - timedelta(hours=12)
    if what == "cancelled":
        with at(sending):
            meetings.meeting_cancel(meeting=session, by=session.pair.mentee)
    else:
        sending = SESSION + MINUTE  # held until a local morning that came after the start
    with at(sending):
        statuses = [
            notification_send(row.pk)
            for row in Notification.objects.filter(kind="session_reminder")
        ]

    assert statuses == ["cancelled", "cancelled"]


def test_no_reminder_for_a_session_that_is_not_scheduled_or_already_started(session_pair):
    meeting_for(
        session_pair, starts_at=SESSION, status=Meeting.Status.CANCELLED, cancelled_by="mentee"
    )
    meeting_for(session_pair, starts_at=SESSION - timedelta(hours=2))

    with at(SESSION - timedelta(hours=1)):
        assert session_reminders_due() == 0


# --- The local-hours rule and the beat task -----------------------------------------------------


def test_a_reminder_due_at_night_waits_for_the_morning_where_the_recipient_lives(
    session_pair, settings
):
    """The session starts at 02:00 in New York (07:00 in London): its reminder is due at
    02:00 there the day before, is asked then, and waits until 08:00 in each reader's zone."""
    settings.NOTIFICATIONS_LOCAL_HOURS = (8, 20)
    new_york, london = ZoneInfo("America/New_York"), ZoneInfo("Europe/London")
    starts = datetime(2026, 2, 11, 2, 0, tzinfo=new_york)
    meeting = meeting_for(session_pair, starts_at=starts)

    with at(starts - timedelta(hours=24) - MINUTE):
        assert session_reminders_due() == 0
    with at(starts - timedelta(hours=24)):
        assert session_reminders_due() == 2
        assert notification_send(Notification.objects.first().pk) == "not claimed"
    with at(starts - timedelta(hours=23, minutes=50)):
        assert session_reminders_due() == 0  # held, not forgotten: asked once

    held = {row.person_id: row.not_before for row in Notification.objects.all()}
    mentor, mentee = session_pair.reverse_mentor.person, session_pair.mentee.person
    assert held[mentor.pk] == datetime(2026, 2, 10, 8, 0, tzinfo=new_york)
    assert held[mentee.pk] == datetime(2026, 2, 10, 8, 0, tzinfo=london)
    assert {row.object_id for row in Notification.objects.all()} == {meeting.pk}


def test_the_beat_task_run_twice_asks_and_sends_one_message_per_key(
    invited, introduced, session, django_capture_on_commit_callbacks
):
    now = SESSION - timedelta(hours=20)
    Participant.objects.filter(pk=invited.pk).update(invitation_sent_at=now - 3 * DAY)
    Pair.objects.filter(pk=introduced.pk).update(introduced_at=now - 3 * DAY)

    with at(now), django_capture_on_commit_callbacks(execute=True):
        first = programme_tasks.send_due_intake_reminders() | pair_tasks.send_due_reminders()
        second = programme_tasks.send_due_intake_reminders() | pair_tasks.send_due_reminders()

    assert first == {"intake": 1, "agreement": 2, "session": 2}
    assert second == {"intake": 0, "agreement": 0, "session": 0}
    assert Notification.objects.count() == 5
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert len(mail.outbox) == 5
    assert len({(email.to[0], email.subject) for email in mail.outbox}) == 5
