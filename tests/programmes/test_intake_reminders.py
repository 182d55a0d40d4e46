"""The intake reminders, found by beat's "what is due" scan: 3 and 7 days after the invitation,
asked when due and not a minute before, once however often the scan runs, and cancelled at
send time once the intake is in."""

import pytest
from django.core import mail

from notifications.models import Notification
from notifications.sending import notification_send
from programmes.models import Cohort, Participant
from programmes.reminders import intake_reminders_due
from tests.factories import IntakeFactory
from tests.reminder_helpers import DAY, INVITED, MINUTE, asked, at, invited

pytestmark = pytest.mark.django_db

__all__ = ["invited"]  # the fixture


def test_intake_reminders_are_asked_three_and_seven_days_after_the_invitation(invited):
    counts = []
    for offset in (3 * DAY - MINUTE, 3 * DAY, 3 * DAY + MINUTE, 7 * DAY - MINUTE, 7 * DAY):
        with at(INVITED + offset):
            counts.append(intake_reminders_due())

    assert counts == [0, 1, 0, 0, 1]
    assert asked("intake_reminder") == [
        (f"intake_reminder:{invited.pk}:3", {"days": 3, "round": 0}),
        (f"intake_reminder:{invited.pk}:7", {"days": 7, "round": 0}),
    ]
    assert Notification.objects.get(key=f"intake_reminder:{invited.pk}:3").about == invited


def test_the_intake_reminders_mail_the_personal_link_warmly(
    invited, django_capture_on_commit_callbacks
):
    for days in (3, 7):
        with at(INVITED + days * DAY), django_capture_on_commit_callbacks(execute=True):
            intake_reminders_due()

    first, last = mail.outbox
    assert first.to == last.to == ["ada@example.org"]
    assert first.subject == (
        "Inclusive Leadership: a reminder to tell us what you'd like from reverse mentoring"
    )
    assert last.subject.startswith("Inclusive Leadership: one last reminder")
    assert first.body.startswith("Dear Ada Brook,")
    assert "http://testserver/" in first.body
    assert "(Spring)" in first.body


def test_a_submitted_intake_stops_the_seven_day_reminder(invited):
    with at(INVITED + 3 * DAY):
        assert intake_reminders_due() == 1
    with at(INVITED + 5 * DAY):
        IntakeFactory(participant=invited)
        # The three-day reminder was held (a local hour, a broker outage): it is not sent.
        assert notification_send(Notification.objects.get().pk) == "cancelled"
    with at(INVITED + 7 * DAY):
        assert intake_reminders_due() == 0

    assert [key for key, _ in asked("intake_reminder")] == [f"intake_reminder:{invited.pk}:3"]
    assert mail.outbox == []


def test_an_intake_saved_as_a_draft_still_gets_its_reminder(invited):
    IntakeFactory(participant=invited, submitted_at=None)

    with at(INVITED + 3 * DAY):
        assert intake_reminders_due() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"status": Participant.Status.WITHDRAWN},
        {"invitation_sent_at": None},
        {"cohort__status": Cohort.Status.MATCHING},
    ],
    ids=["withdrawn", "never-invited", "matching-started"],
)
def test_no_intake_reminder_once_it_cannot_help(invited, change):
    if "cohort__status" in change:
        Cohort.objects.filter(pk=invited.cohort_id).update(status=change["cohort__status"])
    else:
        Participant.objects.filter(pk=invited.pk).update(**change)

    with at(INVITED + 3 * DAY):
        assert intake_reminders_due() == 0
    assert not Notification.objects.exists()


def test_an_old_invitation_is_not_rescanned(invited):
    """A reminder the scans missed by more than its window (beat was down) is dropped rather
    than sent late; the three-day one is never sent alongside the seven-day one."""
    with at(INVITED + 5 * DAY + MINUTE):
        assert intake_reminders_due() == 0
    with at(INVITED + 7 * DAY):
        assert intake_reminders_due() == 1
    with at(INVITED + 9 * DAY + MINUTE):
        Notification.objects.all().delete()
        assert intake_reminders_due() == 0

    assert not Notification.objects.exists()
