"""The sponsors' monthly status of a programme: what the status page, its CSV and charts, and
the monthly e-mail show, read from the programme-level KPI snapshots (programmes/kpis.py) and
a few counts. Nothing here reads what a participant wrote, or a name.

**Aggregates only, small groups suppressed.** Every figure comes from the whole programme's
snapshot rows (``cohort`` empty), never a cohort's. A figure whose ``people`` is below
``min_group(programme)`` is not shown: its text is "fewer than N responses" wherever it
appears (page, chart, CSV, e-mail) and its value is dropped here, so no caller can show it by
mistake. A figure with nothing behind it (value None) reads "no data", whatever its people.

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

Served with a fixed number of queries whatever the programme's size: the snapshots (one query
for every month, so the trends come with it), topic titles, key-skill names, the month's ask,
the stories, one aggregate over the programme's pairs and one count of the month's actions.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from programmes.kpis import month_start, next_month
from programmes.models import (
    KeySkill,
    KpiSnapshot,
    Pair,
    PairAction,
    Programme,
    RiskFlag,
    Role,
    SponsorAsk,
    Topic,
)
from programmes.stories import stories_for_sponsors

Kpi = KpiSnapshot.Kpi

NO_DATA = "no data"
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
    """The smallest group a sponsor's figure may come from: the SPONSOR_MIN_GROUP setting, or
    the programme's own ``min_group_size`` when it asks for more (never fewer)."""
    return max(settings.SPONSOR_MIN_GROUP, programme.min_group_size)


def suppressed_text(minimum: int) -> str:
    return f"fewer than {minimum} responses"


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


def _target_value(measure: Measure, programme: Programme) -> Decimal:
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


def _figure(
    row: KpiSnapshot | None,
    *,
    kpi: str,
    label: str,
    kind: str,
    minimum: int,
    target: Decimal | None = None,
    target_label: str = "",
    explain: str = "",
    part: str = "",
    markable: bool = True,
) -> Figure:
    common = {"kpi": kpi, "label": label, "explain": explain, "part": part}
    if target is not None and not target_label:
        target_label = target_text(kind, target)
    if row is None or row.value is None:
        return Figure(text=NO_DATA, target_text=target_label, **common)
    if row.people < minimum:
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


@dataclass(frozen=True)
class TopicRow:
    title: str
    this_month: int | None  # None: no session held in the month (or suppressed)
    so_far: int


@dataclass(frozen=True)
class Topics:
    rows: list[TopicRow]
    coverage_text: str  # "3 of 8 topics", "no data" or suppressed
    suppressed: bool  # the month's counts are not shown
    uncovered: list[str]  # road-map topics with no held session so far
    months_left_out: int  # earlier months left out of "so far" (small groups)


@dataclass(frozen=True)
class Pairs:
    """How many pairs there are and what is being done about those at risk: counts only.
    ``shown`` / ``shown_now`` are False when the pairs behind the counts involve fewer
    people than the smallest group."""

    shown: bool
    active_in_month: int
    at_risk_in_month: int | None
    actions: list[tuple[str, int]]  # (what was done, how many times), in the month
    shown_now: bool
    active_now: int
    paused_now: int
    at_risk_now: int
    today: date


@dataclass
class SponsorStatus:
    programme: Programme
    month: date
    months: list[date]
    headline: list[Figure]
    ask: str
    min_group: int
    topics: Topics
    pairs: Pairs
    in_progress: bool = False  # the month is still under way
    as_of: datetime | None = None  # when the month's figures were computed
    cancellation_parts: list[Figure] = field(default_factory=list)
    confidence_by_skill: list[Figure] = field(default_factory=list)
    nps_latest: Figure | None = None
    nps_latest_month: date | None = None
    trends: list[Trend] = field(default_factory=list)
    stories: list[dict[str, str]] = field(default_factory=list)

    @property
    def has_figures(self) -> bool:
        return self.month in self.months

    @property
    def previous_month(self) -> date | None:
        earlier = [month for month in self.months if month < self.month]
        return earlier[-1] if earlier else None

    @property
    def next_month(self) -> date | None:
        later = [month for month in self.months if month > self.month]
        return later[0] if later else None

    @property
    def counts(self) -> dict[str, int]:
        """How many headline figures are on track, to watch and off track."""
        marks = Counter(figure.mark for figure in self.headline)
        return {mark: marks[mark] for mark in (ON_TRACK, WATCH, OFF_TRACK)}

    @property
    def unmarked(self) -> int:
        """Headline figures with no mark: no data, too few responses, or too early."""
        return sum(1 for figure in self.headline if not figure.mark)


# --- Reading ------------------------------------------------------------------------------------


def sponsor_months(programme: Programme) -> list[date]:
    """The months that have programme-level snapshots, oldest first. One query."""
    return list(
        KpiSnapshot.objects.filter(programme=programme, cohort__isnull=True)
        .order_by("month")
        .values_list("month", flat=True)
        .distinct()
    )


def sponsor_status_path(programme: Programme, month: date) -> str:
    return reverse("programmes:sponsor_status", args=[programme.slug, month])


def _month_bounds(month: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return month_start(month, zone), month_start(next_month(month), zone)


def _programme_rows(programme: Programme, **filters) -> list[KpiSnapshot]:
    return list(
        KpiSnapshot.objects.filter(programme=programme, cohort__isnull=True, **filters)
        .order_by("month", "kpi", "part")
        .only("month", "kpi", "part", "value", "numerator", "denominator", "people", "computed_at")
    )


def _trend(
    measure: Measure,
    programme: Programme,
    months: list[date],
    rows: dict[tuple[date, str, str], KpiSnapshot],
    minimum: int,
) -> Trend:
    target = _target_value(measure, programme)
    points = []
    for month in months:
        figure = _figure(
            rows.get((month, measure.kpi, "")),
            kpi=measure.kpi,
            label=measure.label,
            kind=measure.kind,
            minimum=minimum,
        )
        points.append(TrendPoint(month, figure.value, figure.text, figure.suppressed))
    return Trend(
        kpi=measure.kpi,
        label=measure.label,
        kind=measure.kind,
        target=target,
        target_text=target_text(measure.kind, target),
        points=points,
        min_group=minimum,
    )


def sponsor_trend(*, programme: Programme, kpi: str) -> Trend:
    """One headline figure over every month of the programme (for its chart). One query.
    ``kpi`` must be one of CHARTED."""
    measure = HEADLINE_BY_KPI[kpi]
    found = _programme_rows(programme, kpi=kpi, part="")
    rows = {(row.month, row.kpi, row.part): row for row in found}
    months = sorted({row.month for row in found})
    return _trend(measure, programme, months, rows, min_group(programme))


def _frequency_target(
    measure: Measure, programme: Programme, month: date, as_of: datetime | None
) -> tuple[Decimal, str, bool, bool]:
    """(target, its text, in progress, markable) for session frequency in ``month``: in a
    month still under way when its figures were computed, the target covers the days
    before that day only."""
    target = _target_value(measure, programme)
    text = target_text(FREQUENCY, target)
    if as_of is None:
        return target, text, False, True
    zone = ZoneInfo(programme.time_zone)
    _, ends = _month_bounds(month, zone)
    if as_of >= ends:
        return target, text, False, True
    elapsed = (as_of.astimezone(zone).date() - month).days
    days = (next_month(month) - month).days
    due = (target * elapsed / days).quantize(Decimal("0.1"), ROUND_HALF_UP)
    day = as_of.astimezone(zone).date()
    text = f"{text} ({due} by {day.day} {day:%b})"
    return due, text, True, elapsed >= EARLY_DAYS


def _topics(
    programme_topics: list[Topic],
    month: date,
    months: list[date],
    rows: dict[tuple[date, str, str], KpiSnapshot],
    minimum: int,
) -> Topics:
    def small(row: KpiSnapshot | None) -> bool:
        return row is not None and row.value is not None and row.people < minimum

    overall = rows.get((month, Kpi.TOPIC_COVERAGE, ""))
    suppressed = small(overall)
    # Months whose own counts are suppressed stay out of "so far", or subtracting the
    # months shown would give them away.
    counted = [m for m in months if m <= month and not small(rows.get((m, Kpi.TOPIC_COVERAGE, "")))]
    left_out = sum(1 for m in months if m <= month) - len(counted)
    result = []
    for topic in programme_topics:
        part = f"topic:{topic.pk}"
        row = rows.get((month, Kpi.TOPIC_COVERAGE, part))
        this_month = None
        if not suppressed and row is not None and row.value is not None:
            this_month = round(row.value)
        so_far = 0
        for m in counted:
            earlier = rows.get((m, Kpi.TOPIC_COVERAGE, part))
            if earlier is not None and earlier.value is not None:
                so_far += round(earlier.value)
        result.append(TopicRow(topic.title, this_month, so_far))
    if overall is None or overall.value is None:
        coverage = NO_DATA
    elif suppressed:
        coverage = suppressed_text(minimum)
    else:
        coverage = f"{round(overall.numerator)} of {overall.denominator} topics"
    return Topics(
        rows=result,
        coverage_text=coverage,
        suppressed=suppressed,
        uncovered=[row.title for row in result if row.so_far == 0],
        months_left_out=left_out,
    )


def _pairs(
    programme: Programme,
    month: date,
    rows: dict[tuple[date, str, str], KpiSnapshot],
    minimum: int,
    now: datetime,
) -> Pairs:
    zone = ZoneInfo(programme.time_zone)
    # Pairs active in the month and those with a flag open in it, from the snapshot.
    at_risk = rows.get((month, Kpi.AT_RISK_PAIRS, ""))
    people = at_risk.people if at_risk is not None else 0
    active_in_month = at_risk.denominator if at_risk is not None else 0
    shown = people == 0 or people >= minimum

    # One query: the pairs as they are today.
    open_flag = RiskFlag.objects.filter(pair=OuterRef("pk"), resolved_at__isnull=True)
    today = (
        Pair.objects.filter(
            cohort__programme=programme, status__in=[Pair.Status.ACTIVE, Pair.Status.PAUSED]
        )
        .order_by()
        .aggregate(
            active=Count("pk", filter=Q(status=Pair.Status.ACTIVE)),
            paused=Count("pk", filter=Q(status=Pair.Status.PAUSED)),
            at_risk=Count("pk", filter=Q(Exists(open_flag))),
            mentees=Count("mentee", distinct=True),
            mentors=Count("reverse_mentor", distinct=True),
        )
    )
    people_now = today["mentees"] + today["mentors"]

    # One query: what managers did about pairs in the month, by kind.
    starts, ends = _month_bounds(month, zone)
    done = dict(
        PairAction.objects.filter(pair__cohort__programme=programme, at__gte=starts, at__lt=ends)
        .order_by()
        .values_list("kind")
        .annotate(n=Count("pk"))
    )
    actions = [(kind.label, done[kind.value]) for kind in PairAction.Kind if done.get(kind.value)]
    return Pairs(
        shown=shown,
        active_in_month=active_in_month if shown else 0,
        at_risk_in_month=(
            round(at_risk.value)
            if shown and at_risk is not None and at_risk.value is not None
            else None
        ),
        actions=actions if shown else [],
        shown_now=people_now == 0 or people_now >= minimum,
        active_now=today["active"],
        paused_now=today["paused"],
        at_risk_now=today["at_risk"],
        today=now.astimezone(zone).date(),
    )


def sponsor_status(
    *, programme: Programme, month: date, now: datetime | None = None
) -> SponsorStatus:
    """Everything the status page and e-mail say about ``programme`` in ``month`` (its first
    day). A month without snapshots gives "no data" figures (``has_figures`` False).
    Seven queries, whatever the programme's size."""
    now = now or timezone.now()
    month = month.replace(day=1)
    minimum = min_group(programme)

    found = _programme_rows(programme)  # every month: the trends need them
    rows = {(row.month, row.kpi, row.part): row for row in found}
    months = sorted({row.month for row in found})
    in_month = [row for row in found if row.month == month]
    as_of = max((row.computed_at for row in in_month), default=None)

    in_progress = False
    headline = []
    for measure in HEADLINE:
        target = _target_value(measure, programme)
        target_label, markable = "", True
        if measure.kind == FREQUENCY:
            target, target_label, in_progress, markable = _frequency_target(
                measure, programme, month, as_of
            )
        headline.append(
            _figure(
                rows.get((month, measure.kpi, "")),
                kpi=measure.kpi,
                label=measure.label,
                kind=measure.kind,
                minimum=minimum,
                target=target,
                target_label=target_label,
                explain=measure.explain,
                markable=markable,
            )
        )

    cancellation_parts = [
        _figure(
            rows.get((month, Kpi.CANCELLATION_RATE, side)),
            kpi=Kpi.CANCELLATION_RATE,
            label=label,
            kind=RATE,
            minimum=minimum,
            part=side,
        )
        for side, label in (
            (Role.MENTEE, "cancelled by executives"),
            (Role.REVERSE_MENTOR, "cancelled by reverse-mentors"),
        )
    ]

    skills = list(KeySkill.objects.filter(programme=programme).order_by("position", "pk"))
    confidence_target = _target_value(HEADLINE_BY_KPI[Kpi.CONFIDENCE_CHANGE], programme)
    confidence_by_skill = [
        _figure(
            rows.get((month, Kpi.CONFIDENCE_CHANGE, f"skill:{skill.pk}")),
            kpi=Kpi.CONFIDENCE_CHANGE,
            label=skill.name,
            kind=CONFIDENCE,
            minimum=minimum,
            target=confidence_target,
            part=f"skill:{skill.pk}",
        )
        for skill in skills
    ]

    # NPS is asked twice a cohort, so most months have none: the latest answers up to
    # this month, with their month.
    nps_measure = HEADLINE_BY_KPI[Kpi.NPS]
    nps_month = next(
        (
            m
            for m in reversed(months)
            if m <= month and getattr(rows.get((m, Kpi.NPS, "")), "value", None) is not None
        ),
        None,
    )
    nps_latest = None
    if nps_month is not None:
        nps_latest = _figure(
            rows[(nps_month, Kpi.NPS, "")],
            kpi=Kpi.NPS,
            label=nps_measure.label,
            kind=NPS,
            minimum=minimum,
            target=_target_value(nps_measure, programme),
        )

    topics = list(Topic.objects.filter(programme=programme).order_by("position", "pk"))
    ask = (
        SponsorAsk.objects.filter(programme=programme, month=month)
        .values_list("text", flat=True)
        .first()
    )
    return SponsorStatus(
        programme=programme,
        month=month,
        months=months,
        headline=headline,
        ask=ask or "",
        min_group=minimum,
        in_progress=in_progress,
        as_of=as_of,
        cancellation_parts=cancellation_parts,
        confidence_by_skill=confidence_by_skill,
        nps_latest=nps_latest,
        nps_latest_month=nps_month,
        trends=[_trend(measure, programme, months, rows, minimum) for measure in HEADLINE],
        topics=_topics(topics, month, months, rows, minimum),
        pairs=_pairs(programme, month, rows, minimum, now),
        stories=list(stories_for_sponsors(programme=programme)),
    )
