"""How the sponsors' figures read: the headline measures and their targets, the smallest
group, the one rule that hides small groups (``hidden_rows``) and bands small counts
(``count_text``), rounding, text and marks. reporting/sponsor.py assembles the month's status
from these; the page, CSV, charts and e-mail all read that status.

**Aggregates only, small groups suppressed.** Every figure comes from the whole programme's
snapshot rows (``cohort`` empty), never a cohort's, so no cohort can be subtracted from the
programme. Each snapshot knows the distinct people its value comes from (reporting/kpis.py
says whom, figure by figure), and one function, ``hidden_rows``, decides which rows sponsors
may not see: those from fewer than ``min_group(programme)`` people, and for the running
confidence figure also a month whose difference from the last month shown would be the
change of fewer than that many people. A hidden figure reads "fewer than N responses"
wherever it appears (page, chart, chart table, CSV, e-mail) and its value is dropped here, so
no caller can show it by mistake. A figure with nothing behind it (value None) reads "no
data", whatever its people. Monthly figures count their month only, so a hidden month cannot
be recovered from its neighbours.

**Counts** of pairs, of sessions on a topic and of what managers did (check-ins, pauses…) are
banded by ``count_text``: a count from 1 to N − 1 reads "fewer than N". A topic's "sessions so
far" adds up only the months whose count is shown exactly, so "so far" minus last month's "so
far" is never a banded or hidden month (a "+" says that some were left out).

**Marks.** Each headline figure is compared with the programme's target *as shown* (rounded:
rates to whole percentages, session frequency and confidence to one decimal, NPS to a whole
number), so a figure that reads like its target is on track:

- shares with a target to reach (notes logged, action commitment, follow-through, pulse
  response rate): on track at or above the target, watch within 10 percentage points below
  it, off track further below;
- shares with a ceiling (cancellation rate, reversion rate): on track at or below the
  ceiling, watch up to 10 points above it, off track beyond;
- session frequency: on track at or above the target, watch from 80% of it, off track below;
  in a month still under way the target is pro-rated to the days the figures cover, and no
  mark is given in its first week (too early to tell);
- programme NPS: watch within 10 points below the target;
- confidence change: watch within 0.2 below the target.

"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from lib.figures import NO_DATA
from programmes.models import Programme
from programmes.organisation import min_group_size_for
from reporting.kpis import CUMULATIVE
from reporting.models import KpiSnapshot

Kpi = KpiSnapshot.Kpi

ON_TRACK, WATCH, OFF_TRACK = "on_track", "watch", "off_track"
MARK_LABELS = {ON_TRACK: "On track", WATCH: "Watch", OFF_TRACK: "Off track", "": ""}

# How far a figure may miss its target and still be "watch" rather than "off track".
RATE_WATCH_POINTS = Decimal(10)  # percentage points
FREQUENCY_WATCH_SHARE = Decimal("0.8")  # of the target
NPS_WATCH_POINTS = Decimal(10)
CONFIDENCE_WATCH_POINTS = Decimal("0.2")
# In a month still under way, session frequency gets no mark before this many days.
EARLY_DAYS = 7

# How a figure reads and is judged.
RATE, RATE_AT_MOST, FREQUENCY, NPS, CONFIDENCE, COUNT = (
    "rate",
    "rate_at_most",
    "frequency",
    "nps",
    "confidence",
    "count",
)


@dataclass(frozen=True)
class Measure:
    kpi: str
    label: str
    explain: str
    kind: str
    target_field: str


# The headline figures, in the order the page, the CSV and the e-mail list them.
HEADLINE = [
    Measure(
        Kpi.SESSION_FREQUENCY,
        "Session frequency",
        "Sessions held per active pair in the month.",
        FREQUENCY,
        "sessions_per_month_target",
    ),
    Measure(
        Kpi.CANCELLATION_RATE,
        "Cancellation rate",
        "Sessions cancelled or missed, of those due.",
        RATE_AT_MOST,
        "target_cancellation_rate",
    ),
    Measure(
        Kpi.PULSE_RESPONSE_RATE,
        "Pulse response rate",
        "Three-question pulses answered after sessions.",
        RATE,
        "target_pulse_response_rate",
    ),
    Measure(
        Kpi.NOTES_LOGGED,
        "Notes logged",
        "Held sessions where someone noted what they learned.",
        RATE,
        "target_notes_logged",
    ),
    Measure(
        Kpi.ACTION_COMMITMENT,
        "Action commitment",
        "Pulses after a held session that commit to an action.",
        RATE,
        "target_action_commitment",
    ),
    Measure(
        Kpi.ACTION_FOLLOW_THROUGH,
        "Action follow-through",
        "Earlier actions that the next pulse reports done.",
        RATE,
        "target_action_follow_through",
    ),
    Measure(
        Kpi.REVERSION_RATE,
        "Reversion rate",
        "Held sessions where the executive did most of the teaching.",
        RATE_AT_MOST,
        "target_reversion_rate",
    ),
    Measure(
        Kpi.NPS,
        "Programme NPS",
        "Would participants recommend the programme (−100 to +100)? Asked at mid-point and end.",
        NPS,
        "target_nps",
    ),
    Measure(
        Kpi.CONFIDENCE_CHANGE,
        "Confidence change",
        "Average change in confidence in the key skills since intake (1–5 scale).",
        CONFIDENCE,
        "target_confidence_change",
    ),
]
HEADLINE_BY_KPI = {measure.kpi: measure for measure in HEADLINE}
CHARTED = [measure.kpi for measure in HEADLINE]


def min_group(programme: Programme) -> int:
    """The smallest group a sponsor's figure may come from: the organisation's minimum, or the
    programme's own when it asks for more (programmes/organisation.py)."""
    return min_group_size_for(programme)


def suppressed_text(minimum: int) -> str:
    return f"fewer than {minimum} responses"


def count_text(count: int, minimum: int) -> str:
    """A count of pairs, sessions or actions as sponsors see it: banded below the smallest
    group ("2 paused" would point at two pairs), exact from it on; none is "0"."""
    if 0 < count < minimum:
        return f"fewer than {minimum}"
    return str(count)


RowKey = tuple[date, str, str]  # (month, kpi, part)


def hidden_rows(rows: dict[RowKey, KpiSnapshot], minimum: int) -> set[RowKey]:
    """The one rule for what sponsors may not see: the snapshot rows (with a value) computed
    from fewer than ``minimum`` people, and, for a running total (kpis.CUMULATIVE), a month
    whose difference from the last month shown comes from fewer than ``minimum`` people: the
    largest number who moved it in any month since then (fewer than them together, so this
    may hide more than needed, never less). No one moved it: the same figure, nothing to
    learn."""
    hidden = set()
    series: dict[tuple[str, str], list[KpiSnapshot]] = {}
    for (_, kpi, part), row in sorted(rows.items(), key=lambda item: item[0][0]):
        series.setdefault((kpi, part), []).append(row)
    for (kpi, part), found in series.items():
        shown_before, moved = False, 0
        for row in found:
            moved = max(moved, row.people_changed)
            if row.value is None:
                continue
            small = row.people < minimum or (
                kpi in CUMULATIVE and shown_before and 0 < moved < minimum
            )
            if small:
                hidden.add((row.month, kpi, part))
            else:
                shown_before, moved = True, 0
    return hidden


# --- Rounding, text and marks -------------------------------------------------------------------


def _decimal(value: float) -> Decimal:
    # str() gives the shortest repr (0.285, not 0.28499999…), so half-up rounding is honest.
    return Decimal(str(value))


def shown_value(kind: str, value: float) -> Decimal:
    """``value`` rounded as the page shows it: rates in whole percent, frequency and
    confidence to one decimal, NPS and counts whole."""
    if kind in (RATE, RATE_AT_MOST):
        return (_decimal(value) * 100).quantize(Decimal(1), ROUND_HALF_UP)
    if kind in (FREQUENCY, CONFIDENCE):
        return _decimal(value).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return _decimal(value).quantize(Decimal(1), ROUND_HALF_UP)


def _signed(value: Decimal) -> str:
    # "+0" and "-0.0" would say a change that is not there.
    return f"{value:+}" if value else f"{abs(value)}"


def format_value(kind: str, shown: Decimal) -> str:
    if kind in (RATE, RATE_AT_MOST):
        return f"{shown}%"
    if kind in (NPS, CONFIDENCE):
        return _signed(shown)
    return f"{shown}"


def target_value(measure: Measure, programme: Programme) -> Decimal:
    return Decimal(str(getattr(programme, measure.target_field)))


def target_text(kind: str, target: Decimal) -> str:
    if kind == RATE:
        return f"target {target}%"
    if kind == RATE_AT_MOST:
        return f"at most {target}%"
    if kind == FREQUENCY:
        return f"target {target} a month"
    return f"target {_signed(target)}"


def mark_for(kind: str, shown: Decimal, target: Decimal) -> str:
    """On track, watch or off track: see the module's docstring for the bands."""
    if kind == RATE_AT_MOST:
        if shown <= target:
            return ON_TRACK
        return WATCH if shown <= target + RATE_WATCH_POINTS else OFF_TRACK
    if shown >= target:
        return ON_TRACK
    watch_from = {
        RATE: target - RATE_WATCH_POINTS,
        FREQUENCY: target * FREQUENCY_WATCH_SHARE,
        NPS: target - NPS_WATCH_POINTS,
        CONFIDENCE: target - CONFIDENCE_WATCH_POINTS,
    }[kind]
    return WATCH if shown >= watch_from else OFF_TRACK


# --- Figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One figure as sponsors see it. ``value`` is the rounded value shown, None when there
    is no data or the figure is suppressed (so it cannot be shown by mistake)."""

    kpi: str
    label: str
    text: str
    target_text: str = ""
    mark: str = ""
    suppressed: bool = False
    value: Decimal | None = None
    people: int = 0
    explain: str = ""
    part: str = ""
    note: str = ""

    @property
    def mark_label(self) -> str:
        return MARK_LABELS[self.mark]

    @property
    def no_data(self) -> bool:
        return self.text == NO_DATA


def figure_from(
    row: KpiSnapshot | None,
    *,
    kpi: str,
    label: str,
    kind: str,
    minimum: int,
    hidden: set[RowKey],
    target: Decimal | None = None,
    target_label: str = "",
    explain: str = "",
    part: str = "",
    markable: bool = True,
) -> Figure:
    common: dict[str, Any] = {"kpi": kpi, "label": label, "explain": explain, "part": part}
    if target is not None and not target_label:
        target_label = target_text(kind, target)
    if row is None or row.value is None:
        return Figure(text=NO_DATA, target_text=target_label, **common)
    if (row.month, row.kpi, row.part) in hidden:
        return Figure(
            text=suppressed_text(minimum), target_text=target_label, suppressed=True, **common
        )
    shown = shown_value(kind, row.value)
    mark = mark_for(kind, shown, target) if target is not None and markable else ""
    return Figure(
        text=format_value(kind, shown),
        target_text=target_label,
        mark=mark,
        value=shown,
        people=row.people,
        **common,
    )


@dataclass(frozen=True)
class TrendPoint:
    month: date
    value: Decimal | None  # None: no data or suppressed (a gap in the chart)
    text: str
    suppressed: bool


@dataclass(frozen=True)
class Trend:
    kpi: str
    label: str
    kind: str
    target: Decimal
    target_text: str
    points: list[TrendPoint]
    min_group: int
