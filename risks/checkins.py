"""The missed-meetings check-in: after two missed or cancelled sessions in a row, each
participant of the pair is asked, in neutral words, whether they are able to continue, or
would rather be re-matched or pause for one month. One tap records the answer; a re-match
request or a pause goes to the programme's managers, never to the partner.

The rules:

- **When.** An active pair whose two latest sessions that have started were both missed or
  cancelled. Only sessions whose time has come count: a session still to come does not (a
  cancelled one included: it counts once its time has passed), and a past session nobody has
  logged is not a missed one, so it breaks the run until it is logged. The later of the two is
  the *trigger*: one check-in per participant and trigger, so a scan run twice asks once and a
  new check-in needs two new missed sessions. A trigger older than HORIZON is not asked about
  (a scan that was down, a pair back from a pause with nothing new since).
- **Answers.** Only the latest answer is kept, with its time. The same answer again changes
  nothing. A different one replaces it, except after a pause: the pair has been paused and the
  managers told, so that answer stands (a manager can change the pair). The check-in closes
  when its pair ends.
- **Effects, once per check-in.** "Continue" does nothing more. "Re-match me" alerts the
  managers; "pause" pauses an active pair until today + PAUSE_LENGTH, cancels the pair's
  unsent session and pulse e-mail and alerts the managers. A pause asked of a pair that is
  already paused (the partner asked first) is recorded and does nothing more. The alerts'
  keys name the check-in and the choice, so answering again never alerts twice; since a
  pause is final, a check-in pauses its pair at most once.
- **Resuming.** A paused pair whose ``paused_until`` has come is active again
  (``pairs_resume_due``, on the same beat task).
"""

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.dateformat import format as format_date

from notifications.services import notifications_cancel_about_any
from pairs.models import Meeting, Pair
from programmes.models import Participant
from risks import notices
from risks.models import CheckIn
from surveys.models import PulseRequest

HORIZON = timedelta(days=30)
PAUSE_LENGTH = timedelta(days=30)
CHOOSE_ONE = "Choose one of the three answers."


# --- Asking -------------------------------------------------------------------------------


def checkin_candidates(now: datetime) -> QuerySet[Meeting, int]:
    """The pair ids of the sessions that did not happen and started within HORIZON: a due
    pair's trigger is one of them. Read from the partial index ``meeting_not_happened_starts``,
    so the scan reads the month's missed and cancelled sessions, not every pair's history."""
    return Meeting.objects.filter(
        status__in=Meeting.NOT_HAPPENED, starts_at__gte=now - HORIZON, starts_at__lte=now
    ).values_list("pair", flat=True)


def _pairs_due(now: datetime) -> QuerySet[Pair]:
    """Active pairs whose latest two started sessions did not happen and whose later one has
    no check-in yet, each with ``trigger_id``: one query for any number of pairs, whose
    per-pair subqueries run only for the pairs of ``checkin_candidates``."""
    started = Meeting.objects.filter(pair=OuterRef("pk"), starts_at__lte=now).order_by(
        "-starts_at", "-pk"
    )
    asked = CheckIn.objects.filter(pair=OuterRef("pk"), trigger=OuterRef("trigger_id"))
    # The session that set off the pair's latest check-in: both of a new run must come after
    # it, so one more missed session (a third in a row, or one cancelled during a pause the
    # last check-in led to) asks nobody again.
    last_trigger = CheckIn.objects.filter(pair=OuterRef("pk"), trigger__isnull=False).order_by(
        "-trigger__starts_at"
    )
    return (
        Pair.objects.filter(status=Pair.Status.ACTIVE, pk__in=checkin_candidates(now))
        .annotate(
            trigger_id=Subquery(started.values("pk")[:1]),
            trigger_status=Subquery(started.values("status")[:1]),
            trigger_starts_at=Subquery(started.values("starts_at")[:1]),
            before_status=Subquery(started.values("status")[1:2]),
            before_starts_at=Subquery(started.values("starts_at")[1:2]),
            last_trigger_starts_at=Subquery(last_trigger.values("trigger__starts_at")[:1]),
        )
        .filter(
            Q(last_trigger_starts_at__isnull=True)
            | Q(before_starts_at__gt=F("last_trigger_starts_at")),
            trigger_status__in=Meeting.NOT_HAPPENED,
            before_status__in=Meeting.NOT_HAPPENED,
            trigger_starts_at__gte=now - HORIZON,
        )
        .exclude(Exists(asked))
        .select_related("mentee__person", "reverse_mentor__person")
        .order_by("pk")
    )


def checkins_due(*, now: datetime | None = None) -> int:
    """Ask the check-ins that have come due (see the module's rules): a CheckIn for each
    participant, with its e-mail in the outbox. Returns how many were asked; run twice, the
    second run asks none."""

    now = now or timezone.now()
    asked = 0
    for pair in _pairs_due(now):
        with transaction.atomic():
            # The pair row is locked so a concurrent scan, answer or session change waits;
            # then the pair is looked at again, as it is now.
            Pair.objects.select_for_update().get(pk=pair.pk)
            again = _pairs_due(now).filter(pk=pair.pk).values_list("trigger_id", flat=True)  # type: ignore[misc]  # an annotation
            if list(again) != [pair.trigger_id]:  # type: ignore[attr-defined]  # annotated
                continue
            for participant in (pair.mentee, pair.reverse_mentor):
                if participant.status == Participant.Status.WITHDRAWN:
                    continue
                checkin, created = CheckIn.objects.get_or_create(
                    participant=participant,
                    trigger_id=pair.trigger_id,  # type: ignore[attr-defined]  # annotated
                    defaults={"pair": pair, "asked_at": now},
                )
                if created:
                    notices.ask_checkin(checkin)
                    asked += 1
    return asked


# --- Answering ----------------------------------------------------------------------------


def paused_message(pair: Pair) -> str:
    until = f" until {format_date(pair.paused_until, 'j F Y')}" if pair.paused_until else ""
    return (
        f"Your pair is paused{until}, as you asked. It picks up again by itself then; to "
        "change that sooner, ask your programme manager."
    )


def checkin_check(checkin: CheckIn, pair: Pair, choice: str) -> None:
    """Raise a ValidationError, in the participant's words, if ``choice`` cannot be recorded."""
    if choice not in CheckIn.Choice.values:
        raise ValidationError({"answer": CHOOSE_ONE}, code="invalid_choice")
    if pair.status not in Pair.OPEN_STATUSES:
        raise ValidationError("Your pair has ended, so there is nothing to answer.", code="closed")
    if checkin.choice == CheckIn.Choice.PAUSE and choice != CheckIn.Choice.PAUSE:
        raise ValidationError(paused_message(pair), code="paused")


def checkin_answer(*, checkin: CheckIn, choice: str, now: datetime | None = None) -> CheckIn:
    """Record ``choice`` for ``checkin`` and do what it asks, once (see the module's rules).
    Returns the check-in as saved, with its pair as it is now. Raises ValidationError when
    the answer cannot be taken."""

    now = now or timezone.now()
    with transaction.atomic():
        # Answers, scans and the partner's answer to the same pair take turns.
        pair = Pair.objects.select_for_update().get(pk=checkin.pair_id)
        checkin = CheckIn.objects.select_related("participant__person").get(pk=checkin.pk)
        checkin.pair = pair
        checkin_check(checkin, pair, choice)
        if checkin.choice == choice:
            return checkin
        checkin.choice, checkin.answered_at = choice, now
        checkin.save(update_fields=["choice", "answered_at"])
        if choice == CheckIn.Choice.REMATCH:
            notices.ask_checkin_answer(checkin, choice)
        elif choice == CheckIn.Choice.PAUSE and pair.status == Pair.Status.ACTIVE:
            pair_pause(pair=pair, until=timezone.localdate(now) + PAUSE_LENGTH)
            notices.ask_checkin_answer(checkin, choice, paused_until=pair.paused_until)
    return checkin


def pair_pause(*, pair: Pair, until: date) -> None:
    """Pause a pair (whose row the caller holds locked) until ``until`` and cancel its unsent
    mail about the time of the pause: the e-mails about its sessions up to then (scheduled,
    moved, cancelled, logged, reminders) and its pulse requests. A session after the pause
    keeps its invitation."""
    pair.status, pair.paused_until = Pair.Status.PAUSED, until
    pair.save(update_fields=["status", "paused_until"])
    _cancel_pending_mail(pair, until)


def _cancel_pending_mail(pair: Pair, until: date) -> None:
    """One UPDATE per kind of subject (sessions, pulse requests), however many there are."""
    end = datetime.combine(until, datetime.min.time(), tzinfo=timezone.get_current_timezone())
    notifications_cancel_about_any(Meeting.objects.filter(pair=pair, starts_at__lt=end))
    notifications_cancel_about_any(PulseRequest.objects.filter(meeting__pair=pair))


# --- Resuming -----------------------------------------------------------------------------


def pairs_resume_due(*, now: datetime | None = None) -> int:
    """Paused pairs whose pause is over are active again; returns how many. A pause with no
    end date (a manager's) is left alone. One conditional UPDATE, so running it twice is
    harmless."""
    today = timezone.localdate(now or timezone.now())
    return Pair.objects.filter(status=Pair.Status.PAUSED, paused_until__lte=today).update(
        status=Pair.Status.ACTIVE, resumed_on=F("paused_until"), paused_until=None
    )
