"""Reminders of the agreement and session stages, found by beat's "what is due" scans
(``pairs.tasks.send_due_reminders``, every ten minutes), as the intake's are
(programmes/reminders.py says how such a scan works)."""

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from notifications.services import ask_unasked
from pairs import notices
from pairs.models import Agreement, Meeting, Pair
from pairs.queries import agreement_waits_for

AGREEMENT_REMINDER_AFTER = timedelta(days=3)
AGREEMENT_REMINDER_WINDOW = timedelta(days=2)
SESSION_REMINDER_AHEAD = timedelta(hours=24)


# --- The kickoff agreement --------------------------------------------------------------------


def agreement_reminders_due(*, now: datetime | None = None) -> int:
    """Remind each side of an active pair introduced at least three days ago that has no
    agreed version yet, unless that side has accepted the latest version (it waits for the
    partner); both sides when there is no version or nobody proposed it. Once per pair and
    participant. Returns how many reminders were asked."""
    now = now or timezone.now()
    due_at = now - AGREEMENT_REMINDER_AFTER
    agreed = Agreement.objects.filter(
        pair=OuterRef("pk"), mentee_accepted_at__isnull=False, mentor_accepted_at__isnull=False
    )
    pairs = list(
        Pair.objects.filter(
            status=Pair.Status.ACTIVE,
            introduced_at__lte=due_at,
            introduced_at__gt=due_at - AGREEMENT_REMINDER_WINDOW,
        )
        .exclude(Exists(agreed))
        .select_related("mentee__person", "reverse_mentor__person")
        .prefetch_related("agreements")
        .order_by("pk")
    )
    wanted = [(pair, participant) for pair in pairs for participant in agreement_waits_for(pair)]
    return ask_unasked(
        wanted,
        key=lambda item: notices.agreement_reminder_key(*item),
        ask=lambda item: notices.ask_agreement_reminder(*item),
    )


# --- Sessions -----------------------------------------------------------------------------------


def session_reminders_due(*, now: datetime | None = None) -> int:
    """Remind both sides of an active pair of each scheduled session starting within the next
    24 hours, once per session time: a session moved since gets a reminder of its own (its
    sequence moved on), and the old one is cancelled when it comes to be sent. Returns how
    many reminders were asked."""
    now = now or timezone.now()
    meetings = list(
        Meeting.objects.filter(
            status=Meeting.Status.SCHEDULED,
            pair__status=Pair.Status.ACTIVE,
            starts_at__gt=now,
            starts_at__lte=now + SESSION_REMINDER_AHEAD,
        )
        .select_related("pair__mentee__person", "pair__reverse_mentor__person")
        .order_by("starts_at", "pk")
    )
    wanted = [
        (meeting, participant)
        for meeting in meetings
        for participant in (meeting.pair.mentee, meeting.pair.reverse_mentor)
    ]
    return ask_unasked(
        wanted,
        key=lambda item: notices.session_reminder_key(*item),
        ask=lambda item: notices.ask_session_reminder(*item),
    )
