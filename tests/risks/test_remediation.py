"""The remediation services: each action changes the pair as a manager expects, is recorded
with who and when, is refused in the manager's words when it makes no sense, and leaves
nothing half-done."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from notifications.services import notify
from pairs.models import Meeting, Pair
from pairs.reminders import session_reminders_due
from programmes.links import Purpose, make_token
from programmes.models import Participant
from risks import notices as risk_notices
from risks import remediation
from risks.checkins import PAUSE_LENGTH, checkin_answer, pairs_resume_due
from risks.models import CheckIn, PairAction, RiskFlag
from surveys.models import PulseRequest
from surveys.pulses import pulse_requests_due
from tests.pairs.meeting_helpers import agreed_pair
from tests.risks.remediation_helpers import meeting, open_flag

pytestmark = pytest.mark.django_db

NEUTRAL = "are you able to continue? If not, we can re-match you or pause for one month."


@pytest.fixture
def flag(pair) -> RiskFlag:
    return open_flag(pair, RiskFlag.Rule.NO_SESSION)


def actions(pair: Pair) -> list[tuple]:
    return list(PairAction.objects.filter(pair=pair).values_list("kind", "by", "flag", "note"))


def checkin_mail() -> list[Notification]:
    return list(Notification.objects.filter(kind="checkin_manager").order_by("pk"))


# --- Check-in -------------------------------------------------------------------------------


def test_it_sends_the_checkin_from_a_flag_to_both_and_records_who_and_when(pair, flag, manager):
    now = timezone.now()

    asked = remediation.pair_send_checkin(pair=pair, by=manager, flag=flag, now=now)

    assert {c.participant_id for c in asked} == {pair.mentee_id, pair.reverse_mentor_id}
    rows = CheckIn.objects.filter(pair=pair)
    assert {(c.trigger_id, c.flag_id, c.asked_at, c.choice) for c in rows} == {
        (None, flag.pk, now, "")
    }
    assert [n.object_id for n in checkin_mail()] == [c.pk for c in asked]
    action = PairAction.objects.get(pair=pair)
    assert (action.kind, action.by, action.flag, action.at) == (
        PairAction.Kind.CHECKIN,
        manager,
        flag,
        now,
    )


def test_it_emails_the_checkin_in_neutral_words(
    pair, flag, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        remediation.pair_send_checkin(pair=pair, by=manager, flag=flag)

    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [pair.mentee.person.email, pair.reverse_mentor.person.email]
    )
    for message in mail.outbox:
        assert NEUTRAL in message.body
        assert "answer=pause" in message.body


def test_the_checkin_a_manager_sends_does_not_speak_of_missed_meetings(
    pair, flag, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first, _ = remediation.pair_send_checkin(pair=pair, by=manager, flag=flag)

    # Its own kind, so its own wording: the scan's check-in speaks of two missed meetings.
    assert not Notification.objects.filter(kind="checkin").exists()
    message = risk_notices.checkin(
        Notification.objects.get(kind="checkin_manager", object_id=first.pk)
    )
    assert message.context["partner"] == pair.reverse_mentor.person
    assert {m.subject for m in mail.outbox} == {f"A quick check-in from {pair.cohort.programme}"}
    assert all("missed" not in m.body for m in mail.outbox)


def checkin_path(checkin: CheckIn) -> str:
    token = make_token(
        participant_id=checkin.participant_id, purpose=Purpose.CHECKIN, scope=checkin.pk
    )
    return reverse("risks:checkin", args=[token])


def test_the_checkin_page_of_a_managers_checkin_asks_without_speaking_of_missed_meetings(
    client, pair, flag, manager
):
    first, _ = remediation.pair_send_checkin(pair=pair, by=manager, flag=flag)

    page = client.get(checkin_path(first)).content.decode()

    assert "Your programme manager is checking in: are you able to continue?" in page
    assert "missed meetings" not in page


def test_it_sends_nothing_twice_for_the_same_flag(pair, flag, manager):
    remediation.pair_send_checkin(pair=pair, by=manager, flag=flag)
    CheckIn.objects.filter(pair=pair).update(choice=CheckIn.Choice.CONTINUE)  # even answered

    with pytest.raises(ValidationError, match="not sent twice") as refused:
        remediation.pair_send_checkin(pair=pair, by=manager, flag=flag)

    assert refused.value.code == "already_sent"
    assert CheckIn.objects.filter(pair=pair).count() == 2
    assert len(checkin_mail()) == 2
    assert len(actions(pair)) == 1


def test_it_waits_a_week_for_an_unanswered_checkin_before_asking_again(pair, manager):
    first = timezone.now()
    remediation.pair_send_checkin(pair=pair, by=manager, now=first)

    with pytest.raises(ValidationError, match="not answered yet"):
        remediation.pair_send_checkin(pair=pair, by=manager, now=first + timedelta(days=6))
    flag = open_flag(pair, RiskFlag.Rule.MISSED)
    with pytest.raises(ValidationError, match="not answered yet"):
        remediation.pair_send_checkin(pair=pair, by=manager, flag=flag, now=first)
    assert CheckIn.objects.count() == 2

    remediation.pair_send_checkin(pair=pair, by=manager, now=first + timedelta(days=7, hours=1))
    assert CheckIn.objects.count() == 4
    assert len(actions(pair)) == 2


def test_an_answered_checkin_does_not_hold_back_the_next_one(pair, manager):
    remediation.pair_send_checkin(pair=pair, by=manager)
    CheckIn.objects.update(choice=CheckIn.Choice.CONTINUE, answered_at=timezone.now())

    remediation.pair_send_checkin(pair=pair, by=manager)

    assert CheckIn.objects.count() == 4


def test_it_does_not_ask_a_withdrawn_participant(pair, flag, manager):
    Participant.objects.filter(pk=pair.reverse_mentor_id).update(
        status=Participant.Status.WITHDRAWN
    )

    asked = remediation.pair_send_checkin(pair=pair, by=manager, flag=flag)

    assert [c.participant_id for c in asked] == [pair.mentee_id]


@pytest.mark.parametrize(
    ("status", "message"),
    [(Pair.Status.PAUSED, "is paused until"), (Pair.Status.ENDED, "This pair ended")],
)
def test_it_refuses_a_checkin_for_a_pair_that_is_not_active(pair, flag, manager, status, message):
    Pair.objects.filter(pk=pair.pk).update(
        status=status, paused_until=timezone.localdate() + timedelta(days=9)
    )

    with pytest.raises(ValidationError, match=message):
        remediation.pair_send_checkin(pair=pair, by=manager, flag=flag)

    assert not CheckIn.objects.exists()
    assert not checkin_mail()
    assert actions(pair) == []


def test_it_refuses_a_flag_of_another_pair(programme, pair, manager):
    other = open_flag(agreed_pair(programme=programme))

    with pytest.raises(ValidationError, match="another pair"):
        remediation.pair_send_checkin(pair=pair, by=manager, flag=other)

    assert not CheckIn.objects.exists()


def test_an_answer_to_a_managers_checkin_works_like_any_other(pair, flag, manager):
    asked = remediation.pair_send_checkin(pair=pair, by=manager, flag=flag)

    checkin_answer(checkin=asked[0], choice=CheckIn.Choice.PAUSE)

    pair.refresh_from_db()
    assert (pair.status, pair.paused_until) == (
        Pair.Status.PAUSED,
        timezone.localdate() + PAUSE_LENGTH,
    )
    assert Notification.objects.filter(kind="checkin_answer", to_email=manager.email).exists()


# --- Pause ----------------------------------------------------------------------------------


def test_it_pauses_the_pair_for_a_month_and_records_it(pair, flag, manager):
    now = timezone.now()

    remediation.pair_pause_for_month(pair=pair, by=manager, flag=flag, now=now)

    pair.refresh_from_db()
    assert (pair.status, pair.paused_until) == (
        Pair.Status.PAUSED,
        timezone.localdate(now) + PAUSE_LENGTH,
    )
    assert actions(pair) == [(PairAction.Kind.PAUSE, manager.pk, flag.pk, "")]
    flag.refresh_from_db()
    assert flag.is_open  # a pause is not a resolution


def test_it_refuses_to_pause_a_paused_or_ended_pair(pair, manager):
    remediation.pair_pause_for_month(pair=pair, by=manager)
    pair.refresh_from_db()
    until = pair.paused_until

    with pytest.raises(ValidationError, match="is paused until"):
        remediation.pair_pause_for_month(pair=pair, by=manager)
    remediation.pair_end(pair=pair, by=manager, note="They both moved on.")
    with pytest.raises(ValidationError, match="This pair ended"):
        remediation.pair_pause_for_month(pair=pair, by=manager)

    pair.refresh_from_db()
    assert pair.status == Pair.Status.ENDED
    assert [kind for kind, *_ in actions(pair)] == [PairAction.Kind.END, PairAction.Kind.PAUSE]
    assert until is not None


def test_a_paused_pair_gets_no_reminders_or_pulse_requests_and_resumes_on_its_date(pair, manager):
    remediation.pair_pause_for_month(pair=pair, by=manager)
    meeting(pair, days=0.5)  # tomorrow morning: due for its reminder
    meeting(pair, days=-0.2, duration_minutes=45)  # ended hours ago: due for its pulse

    assert session_reminders_due() == 0
    assert pulse_requests_due() == 0
    assert not PulseRequest.objects.exists()

    with time_machine.travel(timezone.now() + PAUSE_LENGTH - timedelta(days=1)):
        assert pairs_resume_due() == 0
    with time_machine.travel(timezone.now() + PAUSE_LENGTH + timedelta(hours=1)):
        assert pairs_resume_due() == 1
        pair.refresh_from_db()
        assert (pair.status, pair.paused_until) == (Pair.Status.ACTIVE, None)
        meeting(pair, days=0.5)
        assert session_reminders_due() == 2  # both sides, now that it is active again


# --- End ------------------------------------------------------------------------------------


def test_it_ends_the_pair_with_the_managers_reason(pair, flag, manager):
    now = timezone.now()
    note = "  Both agreed to stop: " + "x" * 300

    remediation.pair_end(pair=pair, by=manager, note=note, flag=flag, now=now)

    pair.refresh_from_db()
    flag.refresh_from_db()
    assert (pair.status, pair.ended_on) == (Pair.Status.ENDED, timezone.localdate(now))
    assert pair.end_reason == note.strip()[:200]
    assert actions(pair) == [(PairAction.Kind.END, manager.pk, flag.pk, note.strip())]
    assert (flag.resolved_at, flag.resolved_by) == (now, manager)
    assert flag.resolution_note.startswith("Pair ended: Both agreed to stop")


def test_it_cancels_the_mail_of_sessions_still_to_come(pair, manager):
    later = timezone.now() + timedelta(hours=3)
    coming, past = meeting(pair, days=5), meeting(pair, days=-2, status=Meeting.Status.HELD)
    request = PulseRequest.objects.create(meeting=past, participant=pair.mentee)
    for kind, about, key in (
        ("session_reminder", coming, "coming"),
        ("session_reminder", past, "past"),
        ("pulse_nudge", request, "pulse"),
    ):
        notify(kind=kind, key=f"test-{key}", to=pair.mentee.person, about=about, not_before=later)

    remediation.pair_end(pair=pair, by=manager, note="Moved to another team.")

    status = dict(Notification.objects.filter(key__startswith="test-").values_list("key", "status"))
    assert status == {
        "test-coming": Notification.Status.CANCELLED,
        "test-past": Notification.Status.PENDING,  # about what already happened
        "test-pulse": Notification.Status.CANCELLED,
    }


@pytest.mark.parametrize("note", ["", "   \n "])
def test_it_refuses_to_end_a_pair_without_a_reason(pair, flag, manager, note):
    with pytest.raises(ValidationError) as refused:
        remediation.pair_end(pair=pair, by=manager, note=note, flag=flag)

    assert "why the pair ends" in refused.value.message_dict["note"][0]
    pair.refresh_from_db()
    flag.refresh_from_db()
    assert pair.status == Pair.Status.ACTIVE
    assert flag.is_open
    assert actions(pair) == []


def test_it_refuses_to_end_a_pair_twice(pair, manager):
    remediation.pair_end(pair=pair, by=manager, note="Done.")

    with pytest.raises(ValidationError, match="This pair ended on"):
        remediation.pair_end(pair=pair, by=manager, note="Again.")

    assert len(actions(pair)) == 1


# --- Resolve --------------------------------------------------------------------------------


def test_it_resolves_a_flag_with_the_managers_words(pair, flag, manager):
    now = timezone.now()

    remediation.flag_resolve(flag=flag, by=manager, note=" Spoke to both; sessions booked. ",
                             now=now)  # fmt: skip

    flag.refresh_from_db()
    assert (flag.resolved_at, flag.resolved_by, flag.resolution_note) == (
        now,
        manager,
        "Spoke to both; sessions booked.",
    )
    assert actions(pair) == [
        (PairAction.Kind.RESOLVE, manager.pk, flag.pk, "Spoke to both; sessions booked.")
    ]


def test_it_refuses_to_resolve_without_a_note(pair, flag, manager):
    with pytest.raises(ValidationError) as refused:
        remediation.flag_resolve(flag=flag, by=manager, note="  ")

    assert "note" in refused.value.message_dict
    flag.refresh_from_db()
    assert flag.is_open
    assert actions(pair) == []


def test_it_refuses_to_resolve_a_flag_twice(pair, flag, manager):
    remediation.flag_resolve(flag=flag, by=manager, note="Sorted.")

    with pytest.raises(ValidationError, match="resolved already") as refused:
        remediation.flag_resolve(flag=flag, by=manager, note="Sorted again.")

    assert "by Alice" in refused.value.messages[0]
    flag.refresh_from_db()
    assert flag.resolution_note == "Sorted."
    assert len(actions(pair)) == 1
