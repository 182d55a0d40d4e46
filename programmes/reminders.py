"""Reminders of the intake, found by beat's "what is due" scans
(``programmes.tasks.send_due_intake_reminders``, every ten minutes), never by long countdowns: a
countdown longer than the broker's visibility timeout runs again and again (DESIGN.md).

Each scan selects in the database what has come due within a bounded window, leaves out what
the outbox already holds (by key: asked before, whatever became of it), and asks the outbox
for the rest, one transaction per message. A reminder that could not be asked within its
window (beat was down for days, the pair was paused) is dropped: it would come too late to
help, and an old row is never scanned again.

The due condition is about the subject (when the invitation went, when the pair was
introduced, when the session starts), never about the hour where the recipient lives:
``notify`` holds participants' mail for a sensible local hour, and each builder checks again
at send time that the reminder is still wanted (the app's notices.py).
"""

from datetime import datetime, timedelta
from functools import partial

from django.db.models import Exists, OuterRef
from django.utils import timezone

from notifications.services import ask_unasked
from programmes import notices
from programmes.models import Cohort, Intake, Participant

INTAKE_REMINDER_DAYS = (3, 7)
# Shorter than the gap between the two intake reminders, so nobody gets both at once.
INTAKE_REMINDER_WINDOW = timedelta(days=2)


# --- Intake ---------------------------------------------------------------------------------


def intake_reminders_due(*, now: datetime | None = None) -> int:
    """Remind invited participants 3 and 7 days after their invitation while the cohort still
    takes intakes and theirs is not submitted; not a withdrawn participant. Returns how many
    reminders were asked."""
    now = now or timezone.now()
    submitted = Intake.objects.filter(participant=OuterRef("pk"), submitted_at__isnull=False)
    asked = 0
    for days in INTAKE_REMINDER_DAYS:
        due_at = now - timedelta(days=days)
        participants = list(
            Participant.objects.filter(
                invitation_sent_at__lte=due_at,
                invitation_sent_at__gt=due_at - INTAKE_REMINDER_WINDOW,
                cohort__status__in=Cohort.OPEN_FOR_INTAKE,
            )
            .exclude(status=Participant.Status.WITHDRAWN)
            .exclude(Exists(submitted))
            .select_related("person", "cohort")  # the cohort's intake round is in the key
            .order_by("pk")
        )
        asked += ask_unasked(
            participants,
            key=partial(notices.intake_reminder_key, days=days),
            ask=partial(notices.ask_intake_reminder, days=days),
        )
    return asked
