"""When a pair lapsed: the day 30 days had passed with no held session (docs/at-risk.md),
the days of a pause not counted: a manager's, or one a participant chose in the check-in the
product offered them. What the risk score predicts, and what its learning
(risks/learning.py) and backtest (risks/backtest.py) check it against.

``lapse_days`` reads any number of pairs in three queries: their held sessions, their pauses
(a manager's "pause" action, PairAction, and a check-in answered "pause", each lasting
risks.checkins.PAUSE_LENGTH), and nothing anyone wrote.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from pairs.models import Meeting, Pair
from risks.checkins import PAUSE_LENGTH
from risks.models import CheckIn, PairAction
from risks.signals import LAPSE_DAYS


def pair_span(pair: Pair, *, today: date) -> tuple[date, date]:
    """The days a pair could meet: from its start (or creation) to its end, its cohort's end
    or ``today``, whichever comes first."""
    zone = ZoneInfo(pair.cohort.programme.time_zone)
    start = pair.started_on or pair.created_at.astimezone(zone).date()
    end = min(d for d in (pair.ended_on, pair.cohort.ends_on, today) if d is not None)
    return start, max(start, end)


def lapse_day(
    start: date, end: date, held: Iterable[date], paused: Iterable[tuple[date, date]]
) -> date | None:
    """The first day the count of days without a held session (paused days not counted)
    reaches LAPSE_DAYS, between ``start`` and ``end``; None if it never does. The count
    starts the day after ``start``, as after a held session: a pair that never meets lapses
    30 days after it starts."""
    held_days = set(held) | {start}
    paused_days = {
        first + timedelta(days=i) for first, last in paused for i in range((last - first).days)
    }
    quiet = 0
    day = start
    while day <= end:
        if day in held_days:
            quiet = 0
        elif day not in paused_days:
            quiet += 1
            if quiet >= LAPSE_DAYS:
                return day
        day += timedelta(days=1)
    return None


def lapse_days(pairs: Iterable[Pair], *, today: date) -> dict[int, date | None]:
    """Each pair's lapse day (None: it did not lapse by the end of its span). Three queries,
    however many pairs (their cohorts and programmes loaded)."""
    pairs = list(pairs)
    ids = [p.pk for p in pairs]
    zones = {p.pk: ZoneInfo(p.cohort.programme.time_zone) for p in pairs}
    held: dict[int, list[date]] = defaultdict(list)
    for pair_id, starts_at in Meeting.objects.filter(
        pair__in=ids, status=Meeting.Status.HELD
    ).values_list("pair_id", "starts_at"):
        held[pair_id].append(starts_at.astimezone(zones[pair_id]).date())
    paused: dict[int, list[tuple[date, date]]] = defaultdict(list)
    pauses = [
        *PairAction.objects.filter(pair__in=ids, kind=PairAction.Kind.PAUSE).values_list(
            "pair_id", "at"
        ),
        *CheckIn.objects.filter(
            pair__in=ids, choice=CheckIn.Choice.PAUSE, answered_at__isnull=False
        ).values_list("pair_id", "answered_at"),
    ]
    for pair_id, at in pauses:
        if at is not None:  # (an unanswered check-in is not asked for)
            first = at.astimezone(zones[pair_id]).date()
            paused[pair_id].append((first, first + PAUSE_LENGTH))
    result = {}
    for pair in pairs:
        start, end = pair_span(pair, today=today)
        result[pair.pk] = lapse_day(start, end, held[pair.pk], paused[pair.pk])
    return result
