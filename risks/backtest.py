"""The backtest of the risk score on one cohort (``manage.py risk_backtest --cohort <id>``
and the button on the cohort's diagnosis page): its history replayed day by day, each pair
scored as it was known at the end of each day (risks.score.scores_for, as logged then), set
against what happened: the first day at "watch", the first at "act", the day it lapsed (if
it did) and the lead time between the first "act" and the lapse.

It uses the programme's current weights (learned or default) and ignores pauses in the
replay (a paused pair's days are scored like the others'; its lapse day does not count
them). Five queries per day replayed, plus four; counts, dates and names only.
"""

import statistics
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from pairs.models import Pair
from programmes.models import Cohort
from risks.lapses import lapse_days, pair_span
from risks.score import ACT, WATCH, scores_for

# A flag this many days before the lapse leaves a manager time to act (issue #19's goal).
EARLY_DAYS = 14


@dataclass(frozen=True)
class Row:
    pair: Pair
    first_watch: date | None
    first_act: date | None
    lapsed_on: date | None

    @property
    def names(self) -> str:
        return f"{self.pair.mentee.person.full_name} & {self.pair.reverse_mentor.person.full_name}"

    @property
    def lead_days(self) -> int | None:
        """Days from the first "act" to the lapse, when the score acted before it."""
        if self.lapsed_on is None or self.first_act is None or self.first_act > self.lapsed_on:
            return None
        return (self.lapsed_on - self.first_act).days


@dataclass(frozen=True)
class Backtest:
    cohort: Cohort
    first_day: date | None
    last_day: date | None
    rows: list[Row]

    @property
    def lapsed(self) -> list[Row]:
        return [row for row in self.rows if row.lapsed_on is not None]

    @property
    def flagged_early(self) -> int:
        return sum(1 for row in self.lapsed if (row.lead_days or 0) >= EARLY_DAYS)

    @property
    def flagged_in_time(self) -> int:
        return sum(1 for row in self.lapsed if row.lead_days is not None)

    @property
    def false_flags(self) -> int:
        return sum(1 for row in self.rows if row.lapsed_on is None and row.first_act)

    @property
    def median_lead(self) -> float | None:
        leads = [row.lead_days for row in self.lapsed if row.lead_days is not None]
        return statistics.median(leads) if leads else None


def backtest(cohort: Cohort, *, today: date | None = None) -> Backtest:
    today = today or timezone.localdate()
    pairs = list(
        Pair.objects.started()
        .filter(cohort=cohort)
        .select_related("cohort__programme", "mentee__person", "reverse_mentor__person")
        .order_by("pk")
    )
    lapses = lapse_days(pairs, today=today)
    spans = {pair.pk: pair_span(pair, today=today) for pair in pairs}
    watch: dict[int, date] = {}
    act: dict[int, date] = {}
    first = min((start for start, _ in spans.values()), default=None)
    last = max((end for _, end in spans.values()), default=None)
    day = first
    while day is not None and last is not None and day <= last:
        alive = [
            pair
            for pair in pairs
            if spans[pair.pk][0] <= day <= spans[pair.pk][1]
            and day <= (lapses[pair.pk] or last)
            and pair.pk not in act
        ]
        for pk, score in scores_for(alive, on=day).items() if alive else ():
            if score.level in (WATCH, ACT):
                watch.setdefault(pk, day)
            if score.level == ACT:
                act.setdefault(pk, day)
        day += timedelta(days=1)
    rows = [
        Row(
            pair=pair,
            first_watch=watch.get(pair.pk),
            first_act=act.get(pair.pk),
            lapsed_on=lapses[pair.pk],
        )
        for pair in pairs
    ]
    return Backtest(cohort=cohort, first_day=first, last_day=last, rows=rows)


def _day(value: date | None) -> str:
    return value.isoformat() if value else "-"


def report_lines(result: Backtest) -> list[str]:
    """The report as plain text lines (the command prints them)."""
    lines = [
        f"Risk backtest of {result.cohort} ({_day(result.first_day)} to {_day(result.last_day)})",
        "pair | first watch | first act | lapsed | lead time (days)",
    ]
    for row in result.rows:
        lead = "-" if row.lead_days is None else str(row.lead_days)
        lines.append(
            f"{row.names} | {_day(row.first_watch)} | {_day(row.first_act)} | "
            f"{_day(row.lapsed_on)} | {lead}"
        )
    median = "-" if result.median_lead is None else f"{result.median_lead:g}"
    lines += [
        f"Pairs: {len(result.rows)}; lapsed: {len(result.lapsed)}; flagged before the lapse: "
        f"{result.flagged_in_time}; flagged {EARLY_DAYS} or more days before: "
        f"{result.flagged_early}; median lead time: {median} days",
        f"Pairs that did not lapse yet were flagged: {result.false_flags} of "
        f"{len(result.rows) - len(result.lapsed)}",
    ]
    return lines
