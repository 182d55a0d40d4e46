"""The surveys' "what is due" scans (``surveys.tasks.send_due_survey_reminders``, every ten
minutes): a nudge for a pulse still unanswered two days after its e-mail, and the programme
questions once a cohort reaches its mid-point and end.

Like the programme's reminders (programmes/reminders.py), each scan selects in the database
what has come due within a bounded window, leaves out what the outbox already holds, and asks
for the rest one transaction per message. The due condition never depends on the hour where
the recipient lives: ``notify`` holds the mail for that, and the builders check again at send
time (surveys/notices.py).
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from notifications.models import Notification
from notifications.services import ask_unasked
from pairs.models import Meeting, Pair
from programmes.models import Cohort, Participant
from surveys import notices
from surveys.feedback import (
    END_CLOSES_AFTER,
    MOMENTS,
    feedback_due,
    feedback_today,
    feedback_window,
)
from surveys.models import Pulse, PulseRequest

PULSE_NUDGE_AFTER = timedelta(hours=48)
# A nudge that could not be asked within two days of falling due is dropped (the pulse link
# itself works for two weeks, but a late nudge about an old session helps nobody).
PULSE_NUDGE_WINDOW = timedelta(days=2)


def pulse_reminders_due(*, now: datetime | None = None) -> int:
    """Nudge once for each pulse request e-mailed at least 48 hours ago and still
    unanswered, while the pair is active and the session was not cancelled or missed.
    Returns how many nudges were asked."""
    now = now or timezone.now()
    due_at = now - PULSE_NUDGE_AFTER
    answered = Pulse.objects.filter(
        meeting=OuterRef("meeting_id"), participant=OuterRef("participant_id")
    )
    requests = list(
        PulseRequest.objects.filter(
            sent_at__lte=due_at,
            sent_at__gt=due_at - PULSE_NUDGE_WINDOW,
            meeting__pair__status=Pair.Status.ACTIVE,
            meeting__status__in=Meeting.MAYBE_HELD,
        )
        .exclude(Exists(answered))
        .select_related("participant__person")
        .order_by("pk")
    )
    return ask_unasked(requests, key=notices.pulse_nudge_key, ask=notices.ask_pulse_nudge)


def _feedback_asked(moment: str) -> Exists:
    """Whether the outbox holds the participant's message for ``moment``, matched on the key
    surveys.notices.ask_feedback_request names it with (and its unique index)."""
    key = Concat(
        Value("feedback_request:"),
        Cast(OuterRef("pk"), output_field=CharField()),
        Value(f":{moment}"),
        output_field=CharField(),
    )
    return Exists(Notification.objects.filter(key=key))


def feedback_reminders_due(*, now: datetime | None = None) -> int:
    """Ask the programme questions of every participant for whom ``feedback_due`` lists a
    moment today (UTC), once per participant and moment. The database narrows it down to the
    participants of cohorts with an open window who have a pair and have not been asked for
    that moment yet (on most ticks: nobody); ``feedback_due`` has the last word on each.
    Returns how many were asked."""
    now = now or timezone.now()
    today = feedback_today(now)
    cohorts = Cohort.objects.filter(starts_on__lte=today, ends_on__gte=today - END_CLOSES_AFTER)
    open_in: dict[str, list[int]] = {moment: [] for moment in MOMENTS}
    for cohort in cohorts:
        for moment in MOMENTS:
            if feedback_window(cohort, moment).is_open(today):
                open_in[moment].append(cohort.pk)
    wanted: Q | Combinable = Q(pk__in=[])
    for moment, cohort_ids in open_in.items():
        if cohort_ids:
            wanted |= Q(cohort_id__in=cohort_ids) & ~_feedback_asked(moment)
    participants = (
        Participant.objects.filter(wanted)
        .exclude(status=Participant.Status.WITHDRAWN)
        .filter(
            Exists(Pair.objects.filter(mentee=OuterRef("pk")))
            | Exists(Pair.objects.filter(reverse_mentor=OuterRef("pk")))
        )
        .annotate(**{f"asked_{moment}": _feedback_asked(moment) for moment in MOMENTS})
        .select_related("cohort", "person")
        .order_by("pk")
    )
    asked = 0
    for participant in participants:
        for moment in feedback_due(participant, today=today):
            if getattr(participant, f"asked_{moment}"):  # open for the other moment only
                continue
            with transaction.atomic():
                notices.ask_feedback_request(participant, moment)
            asked += 1
    return asked
