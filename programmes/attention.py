"""Which pairs of a programme need a manager's attention, and why, in plain words: what the
weekly digest to managers lists (programmes/digests.py). Computed when asked until issue #8
stores at-risk flags; the rules are DESIGN.md's defaults, with the programme's own thresholds
where it has them.

The rules, for each ACTIVE or PAUSED pair (only sessions whose time has come count, in start
order, as for the check-in):

- the last ``risk_missed_in_a_row`` sessions were missed or cancelled; otherwise
  ``risk_missed_in_window`` sessions missed or cancelled within ``risk_window_days``;
- an active pair has held no session for ``risk_days_without_session`` days (counted from the
  latest held session, or from the pair's start when it has held none);
- someone answered "not a good fit" (only asked after the first session);
- a psychological-safety answer at or below ``risk_safety_at_most``;
- a check-in answered "re-match me" or "pause" in the last CHECKIN_DAYS days.

With no stored flag to resolve, a pulse answer counts for ``risk_window_days`` after it was
given, so one answer does not stay on the digest for ever. Reasons are counts and dates only:
never what anyone wrote, and never the safety answer itself.

A fixed number of queries per programme (the pairs, their past sessions, the pulse answers
that matter, the recent check-in answers), however many pairs it has.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.dateformat import format as format_date

from programmes.models import CheckIn, Meeting, Pair, Programme
from surveys.models import Pulse

CHECKIN_DAYS = 14
OPEN = (Pair.Status.ACTIVE, Pair.Status.PAUSED)
NOT_HAPPENED = (Meeting.Status.MISSED, Meeting.Status.CANCELLED)
LOW_SAFETY = "a low answer to the private safety question"


@dataclass
class Attention:
    pair: Pair
    reasons: list[str] = field(default_factory=list)


def _day(value: date) -> str:
    return format_date(value, "j F Y")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def pairs_needing_attention(programme: Programme, *, now: datetime) -> list[Attention]:
    """The programme's open pairs that trip at least one rule, each with its reasons, in the
    order of the pairs' cohorts and creation."""
    pairs = list(
        Pair.objects.filter(cohort__programme=programme, status__in=OPEN)
        .select_related("cohort", "mentee__person", "reverse_mentor__person")
        .order_by("cohort__starts_on", "cohort_id", "created_at", "pk")
    )
    if not pairs:
        return []
    ids = [pair.pk for pair in pairs]
    window = timedelta(days=programme.risk_window_days)

    started: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    for pair_id, status, starts_at in (
        Meeting.objects.filter(pair_id__in=ids, starts_at__lte=now)
        .order_by("pair_id", "-starts_at", "-pk")
        .values_list("pair_id", "status", "starts_at")
    ):
        started[pair_id].append((status, starts_at))

    answers: dict[int, set[str]] = defaultdict(set)
    # Only the two answers that matter, as flags: no free text is read.
    for pair_id, good_fit, safety in (
        Pulse.objects.filter(meeting__pair_id__in=ids, submitted_at__gte=now - window)
        .filter(Q(good_fit=False) | Q(safety__lte=programme.risk_safety_at_most))
        .values_list("meeting__pair_id", "good_fit", "safety")
    ):
        if good_fit is False:
            answers[pair_id].add("fit")
        if safety is not None and safety <= programme.risk_safety_at_most:
            answers[pair_id].add("safety")

    checkins: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    for pair_id, choice, answered_at in (
        CheckIn.objects.filter(
            pair_id__in=ids,
            choice__in=(CheckIn.Choice.REMATCH, CheckIn.Choice.PAUSE),
            answered_at__gte=now - timedelta(days=CHECKIN_DAYS),
        )
        .order_by("pair_id", "answered_at", "pk")
        .values_list("pair_id", "choice", "answered_at")
    ):
        checkins[pair_id].append((choice, answered_at))

    found = []
    for pair in pairs:
        reasons = _session_reasons(programme, pair, started[pair.pk], now)
        if "fit" in answers[pair.pk]:
            reasons.append('someone answered "not a good fit" after the first session')
        if "safety" in answers[pair.pk]:
            reasons.append(LOW_SAFETY)
        for choice, answered_at in checkins[pair.pk]:
            asked = "to be re-matched" if choice == CheckIn.Choice.REMATCH else "to pause"
            reasons.append(
                f"someone asked {asked} in the check-in on {_day(timezone.localdate(answered_at))}"
            )
        if reasons:
            found.append(Attention(pair=pair, reasons=reasons))
    return found


def _session_reasons(
    programme: Programme, pair: Pair, started: list[tuple[str, datetime]], now: datetime
) -> list[str]:
    """``started``: the pair's sessions whose time has come, latest first."""
    reasons = []
    in_a_row = programme.risk_missed_in_a_row
    latest = [status for status, _ in started[:in_a_row]]
    since = now - timedelta(days=programme.risk_window_days)
    in_window = sum(1 for status, at in started if status in NOT_HAPPENED and at >= since)
    if len(latest) == in_a_row and all(status in NOT_HAPPENED for status in latest):
        reasons.append(
            f"the last {_plural(in_a_row, 'session')} were missed or cancelled"
            if in_a_row > 1
            else "the last session was missed or cancelled"
        )
    elif in_window >= programme.risk_missed_in_window:
        reasons.append(
            f"{_plural(in_window, 'session')} missed or cancelled in the last "
            f"{programme.risk_window_days} days"
        )
    if pair.status == Pair.Status.ACTIVE:
        held = next((at for status, at in started if status == Meeting.Status.HELD), None)
        limit = timedelta(days=programme.risk_days_without_session)
        if held is not None and now - held >= limit:
            reasons.append(
                f"no session held for {(now - held).days} days "
                f"(the last on {_day(timezone.localdate(held))})"
            )
        elif held is None:
            began = pair.started_on or timezone.localdate(pair.created_at)
            if timezone.localdate(now) - began >= limit:
                reasons.append(f"no session held since the pair started on {_day(began)}")
    return reasons
