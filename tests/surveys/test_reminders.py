"""The surveys' reminders, found by beat's "what is due" scans: a nudge 48 hours after a pulse
request was e-mailed if it is still unanswered, and the programme questions when a cohort
reaches its mid-point and end. Each is asked when due and not a minute before, once per key
however often the scan runs; paused pairs get no pulse mail, even a nudge asked before the
pause; the mail waits for a sensible hour where the participant lives."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from notifications.models import Notification
from notifications.sending import notification_send
from pairs.models import Meeting, Pair
from programmes.models import Participant
from surveys import tasks
from surveys.feedback import END, MIDPOINT
from surveys.models import NpsResponse, Pulse, PulseRequest
from surveys.reminders import feedback_reminders_due, pulse_reminders_due
from tests.factories import ParticipantFactory
from tests.pairs.meeting_helpers import agreed_pair, meeting_for
from tests.surveys.feedback_helpers import END_CLOSES, END_OPENS, MIDPOINT_OPENS, feedback_pair

pytestmark = pytest.mark.django_db

SESSION = datetime(2026, 2, 9, 15, 0, tzinfo=UTC)
SENT = datetime(2026, 2, 9, 17, 0, tzinfo=UTC)  # the pulse request's e-mail went out
MINUTE = timedelta(minutes=1)
NUDGE_DUE = SENT + timedelta(hours=48)


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def midnight(day) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def keys(kind: str) -> list[str]:
    return sorted(Notification.objects.filter(kind=kind).values_list("key", flat=True))


# --- The pulse nudge ----------------------------------------------------------------------------


@pytest.fixture
def session(pair) -> Meeting:
    return meeting_for(pair, starts_at=SESSION)


@pytest.fixture
def request_(pair, session) -> PulseRequest:
    return PulseRequest.objects.create(
        meeting=session, participant=pair.mentee, requested_at=SENT, sent_at=SENT
    )


def test_a_pulse_nudge_is_asked_48_hours_after_the_request_was_emailed(request_):
    with at(NUDGE_DUE - MINUTE):
        assert pulse_reminders_due() == 0
    with at(NUDGE_DUE):
        assert pulse_reminders_due() == 1
    with at(NUDGE_DUE + timedelta(hours=1)):
        assert pulse_reminders_due() == 0

    assert keys("pulse_nudge") == [f"pulse_nudge:{request_.pk}"]
    assert Notification.objects.get().about == request_


def test_the_nudge_opens_the_pulse_in_one_tap_with_held_chosen(
    client, pair, request_, django_capture_on_commit_callbacks
):
    with at(NUDGE_DUE):
        with django_capture_on_commit_callbacks(execute=True):
            pulse_reminders_due()
        [email] = mail.outbox
        yes_link = next(line.strip() for line in email.body.splitlines() if "held=yes" in line)
        page = client.get(urlsplit(yes_link).path + "?" + urlsplit(yes_link).query)

    assert email.to == [pair.mentee.person.email]
    assert email.subject == "One minute on your session with Ravi Patel on Mon 9 Feb?"
    assert "on Monday 9 February at 15:00 went" in email.body
    assert "?held=no" in email.body
    assert page.status_code == 200
    assert 'value="yes" autocomplete="off" checked' in page.content.decode()


def test_no_nudge_for_an_answered_pulse(request_, session):
    Pulse.objects.create(
        meeting=session,
        participant=request_.participant,
        held=True,
        submitted_at=SENT + timedelta(hours=5),
        session_starts_at=session.starts_at,
    )

    with at(NUDGE_DUE):
        assert pulse_reminders_due() == 0
    assert not Notification.objects.exists()


def test_a_pulse_answered_after_the_nudge_was_asked_cancels_it(request_, session):
    with at(NUDGE_DUE):
        pulse_reminders_due()
        Pulse.objects.create(
            meeting=session,
            participant=request_.participant,
            held=True,
            submitted_at=NUDGE_DUE,
            session_starts_at=session.starts_at,
        )
        assert notification_send(Notification.objects.get().pk) == "cancelled"
    assert mail.outbox == []


def test_no_nudge_for_a_request_never_emailed(request_):
    """Answered first from the pair page: the request exists, its e-mail never went."""
    PulseRequest.objects.filter(pk=request_.pk).update(sent_at=None)

    with at(NUDGE_DUE):
        assert pulse_reminders_due() == 0


@pytest.mark.parametrize(
    "change",
    [
        {"status": Meeting.Status.CANCELLED, "cancelled_by": "mentee"},
        {"status": Meeting.Status.MISSED},
    ],
    ids=["cancelled", "missed"],
)
def test_no_nudge_for_a_session_that_did_not_happen(request_, session, change):
    Meeting.objects.filter(pk=session.pk).update(**change)

    with at(NUDGE_DUE):
        assert pulse_reminders_due() == 0


def test_a_paused_pair_gets_no_nudge(pair, request_):
    Pair.objects.filter(pk=pair.pk).update(status=Pair.Status.PAUSED)

    with at(NUDGE_DUE):
        assert pulse_reminders_due() == 0
    assert not Notification.objects.exists()


def test_a_nudge_asked_before_a_pause_is_cancelled_when_sent(pair, request_):
    with at(NUDGE_DUE):
        assert pulse_reminders_due() == 1
        Pair.objects.filter(pk=pair.pk).update(status=Pair.Status.PAUSED)
        assert notification_send(Notification.objects.get().pk) == "cancelled"

    assert Notification.objects.get().status == "cancelled"
    assert mail.outbox == []


def test_an_old_request_is_not_rescanned(request_):
    with at(NUDGE_DUE + timedelta(days=2) + MINUTE):
        assert pulse_reminders_due() == 0


def test_a_nudge_due_at_night_waits_for_the_morning_where_the_participant_lives(
    programme, settings
):
    """Due at 02:00 in Tokyo (17:00 UTC): asked then, held until 08:00 there."""
    settings.NOTIFICATIONS_LOCAL_HOURS = (8, 20)
    tokyo = ZoneInfo("Asia/Tokyo")
    pair = agreed_pair(programme=programme, mentee_zone="Asia/Tokyo")
    session = meeting_for(pair, starts_at=SESSION)
    request = PulseRequest.objects.create(
        meeting=session, participant=pair.mentee, requested_at=SENT, sent_at=SENT
    )
    assert NUDGE_DUE.astimezone(tokyo).hour == 2

    with at(NUDGE_DUE - MINUTE):
        assert pulse_reminders_due() == 0
    with at(NUDGE_DUE):
        assert pulse_reminders_due() == 1
        assert notification_send(Notification.objects.get().pk) == "not claimed"

    row = Notification.objects.get()
    assert row.key == f"pulse_nudge:{request.pk}"
    assert row.not_before == datetime(2026, 2, 12, 8, 0, tzinfo=tokyo)


# --- The programme questions -----------------------------------------------------------------


@pytest.fixture
def feedback(programme):
    return feedback_pair(programme)


def test_the_midpoint_questions_are_asked_when_their_window_opens(feedback):
    opens = midnight(MIDPOINT_OPENS)
    with at(opens - MINUTE):
        assert feedback_reminders_due() == 0
    with at(opens):
        assert feedback_reminders_due() == 2
    with at(opens + timedelta(hours=1)):
        assert feedback_reminders_due() == 0

    assert keys("feedback_request") == sorted(
        f"feedback_request:{who.pk}:{MIDPOINT}" for who in (feedback.mentee, feedback.mentor)
    )


def test_the_end_questions_follow_at_the_end_and_each_moment_is_asked_once(feedback):
    with at(midnight(MIDPOINT_OPENS)):
        assert feedback_reminders_due() == 2
    with at(midnight(END_OPENS) - MINUTE):
        assert feedback_reminders_due() == 0
    with at(midnight(END_OPENS)):
        assert feedback_reminders_due() == 2

    assert keys("feedback_request") == sorted(
        f"feedback_request:{who.pk}:{moment}"
        for who in (feedback.mentee, feedback.mentor)
        for moment in (MIDPOINT, END)
    )


def test_someone_who_has_answered_is_not_asked(feedback):
    NpsResponse.objects.create(
        participant=feedback.mentee,
        moment=MIDPOINT,
        score=9,
        submitted_at=midnight(MIDPOINT_OPENS),
    )

    with at(midnight(MIDPOINT_OPENS) + timedelta(hours=1)):
        assert feedback_reminders_due() == 1

    assert keys("feedback_request") == [f"feedback_request:{feedback.mentor.pk}:{MIDPOINT}"]


def test_nobody_withdrawn_or_never_paired_is_asked(feedback):
    Participant.objects.filter(pk=feedback.mentee.pk).update(status=Participant.Status.WITHDRAWN)
    ParticipantFactory(cohort=feedback.cohort, status=Participant.Status.INTAKE_COMPLETE)

    with at(midnight(MIDPOINT_OPENS)):
        assert feedback_reminders_due() == 1

    assert keys("feedback_request") == [f"feedback_request:{feedback.mentor.pk}:{MIDPOINT}"]


def test_a_tick_with_nothing_new_to_ask_is_decided_in_the_database(
    feedback, django_assert_num_queries
):
    with at(midnight(MIDPOINT_OPENS)):
        assert feedback_reminders_due() == 2
        # the cohorts with an open window, their participants not asked yet (none)
        with django_assert_num_queries(2):
            assert feedback_reminders_due() == 0


def test_nothing_is_asked_once_the_windows_have_closed(feedback):
    with at(midnight(END_CLOSES) + timedelta(days=1)):
        assert feedback_reminders_due() == 0


# --- The beat task ------------------------------------------------------------------------------


def test_the_beat_task_run_twice_asks_and_sends_one_message_per_key(
    programme, feedback, django_capture_on_commit_callbacks
):
    pair = agreed_pair(programme=programme)
    session = meeting_for(pair, starts_at=midnight(MIDPOINT_OPENS) - timedelta(hours=50))
    PulseRequest.objects.create(
        meeting=session,
        participant=pair.reverse_mentor,
        sent_at=midnight(MIDPOINT_OPENS) - timedelta(hours=48),
    )

    with at(midnight(MIDPOINT_OPENS)), django_capture_on_commit_callbacks(execute=True):
        first = tasks.send_due_survey_reminders()
        second = tasks.send_due_survey_reminders()

    assert first == {"pulse": 1, "feedback": 2}
    assert second == {"pulse": 0, "feedback": 0}
    assert Notification.objects.count() == 3
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert sorted(email.to[0] for email in mail.outbox) == sorted(
        [
            pair.reverse_mentor.person.email,
            feedback.mentee.person.email,
            feedback.mentor.person.email,
        ]
    )
