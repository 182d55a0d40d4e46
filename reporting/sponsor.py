"""The sponsors' monthly status of a programme: what the status page, its CSV and charts, and
the monthly e-mail show, read from the programme-level KPI snapshots (reporting/kpis.py) and
a few counts, through ``sponsor_status``, the one function they all call. Nothing here reads
what a participant wrote, or a name.

How a figure reads, which are hidden (small groups, differencing) and how counts are banded:
reporting/sponsor_figures.py.

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

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from pairs.models import Pair
from programmes.models import KeySkill, Programme, Role, Topic
from reporting.kpis import month_start, next_month
from reporting.models import KpiSnapshot, SponsorAsk
from reporting.sponsor_figures import (
    CHARTED,
    CONFIDENCE,
    COUNT,
    EARLY_DAYS,
    FREQUENCY,
    HEADLINE,
    HEADLINE_BY_KPI,
    MARK_LABELS,
    NO_DATA,
    NPS,
    OFF_TRACK,
    ON_TRACK,
    RATE,
    RATE_AT_MOST,
    WATCH,
    Figure,
    Measure,
    RowKey,
    Trend,
    TrendPoint,
    count_text,
    figure_from,
    format_value,
    hidden_rows,
    mark_for,
    min_group,
    shown_value,
    suppressed_text,
    target_text,
    target_value,
)
from reporting.stories import StoryText, stories_for_sponsors
from risks.models import PairAction, RiskFlag

# Re-exported: the views, charts, admin and tests read the figures' vocabulary from here.
__all__ = [
    "CHARTED",
    "CONFIDENCE",
    "COUNT",
    "FREQUENCY",
    "HEADLINE",
    "MARK_LABELS",
    "NO_DATA",
    "NPS",
    "OFF_TRACK",
    "ON_TRACK",
    "RATE",
    "RATE_AT_MOST",
    "WATCH",
    "Figure",
    "Kpi",
    "SponsorStatus",
    "Trend",
    "TrendPoint",
    "count_text",
    "format_value",
    "hidden_rows",
    "mark_for",
    "min_group",
    "shown_value",
    "sponsor_months",
    "sponsor_status",
    "sponsor_status_path",
    "sponsor_trend",
    "suppressed_text",
]

Kpi = KpiSnapshot.Kpi


@dataclass(frozen=True)
class TopicRow:
    title: str
    this_month: int | None  # None: no session held in the month, or not shown exactly
    so_far: int  # the months shown exactly, added up
    this_month_text: str = ""  # "3", "0", "fewer than 5" or "–" (the month is not shown)
    so_far_text: str = ""  # "4", or "4+" when months not shown exactly were left out


@dataclass(frozen=True)
class Topics:
    rows: list[TopicRow]
    coverage_text: str  # "3 of 8 topics", "no data" or suppressed
    suppressed: bool  # the month's counts are not shown
    uncovered: list[str]  # road-map topics with no held session so far (as shown)
    months_left_out: int  # earlier months left out of "so far" (small groups)

    @property
    def banded(self) -> bool:
        """Some topic's counts are banded rather than exact."""
        return any(row.so_far_text.endswith("+") for row in self.rows)


@dataclass(frozen=True)
class Pairs:
    """How many pairs there are and what is being done about those at risk: counts only,
    each banded by ``count_text``. ``shown`` / ``shown_now`` are False when the pairs behind
    the counts involve fewer people than the smallest group."""

    shown: bool
    active_in_month: str  # counts as shown: banded below the smallest group (count_text)
    at_risk_in_month: str | None
    actions: list[tuple[str, str]]  # (what was done, how many times), in the month
    shown_now: bool
    active_now: str
    paused_now: str
    at_risk_now: str
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
    stories: list[StoryText] = field(default_factory=list)

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
    return reverse("reporting:sponsor_status", args=[programme.slug, month])


def _month_bounds(month: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return month_start(month, zone), month_start(next_month(month), zone)


def _programme_rows(programme: Programme, **filters) -> list[KpiSnapshot]:
    return list(
        KpiSnapshot.objects.filter(programme=programme, cohort__isnull=True, **filters)
        .order_by("month", "kpi", "part")
        .only(
            "month",
            "kpi",
            "part",
            "value",
            "numerator",
            "denominator",
            "people",
            "people_changed",
            "computed_at",
        )
    )


def _trend(
    measure: Measure,
    programme: Programme,
    months: list[date],
    rows: dict[RowKey, KpiSnapshot],
    minimum: int,
    hidden: set[RowKey],
) -> Trend:
    target = target_value(measure, programme)
    points = []
    for month in months:
        figure = figure_from(
            rows.get((month, measure.kpi, "")),
            kpi=measure.kpi,
            label=measure.label,
            kind=measure.kind,
            minimum=minimum,
            hidden=hidden,
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
    minimum = min_group(programme)
    return _trend(measure, programme, months, rows, minimum, hidden_rows(rows, minimum))


def _frequency_target(
    measure: Measure, programme: Programme, month: date, as_of: datetime | None
) -> tuple[Decimal, str, bool, bool]:
    """(target, its text, in progress, markable) for session frequency in ``month``: in a
    month still under way when its figures were computed, the target covers the days
    before that day only."""
    target = target_value(measure, programme)
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
    rows: dict[RowKey, KpiSnapshot],
    minimum: int,
    hidden: set[RowKey],
) -> Topics:
    def counts_shown(m: date) -> bool:
        return (m, Kpi.TOPIC_COVERAGE, "") not in hidden

    overall = rows.get((month, Kpi.TOPIC_COVERAGE, ""))
    suppressed = not counts_shown(month)
    earlier = [m for m in months if m <= month]
    left_out = sum(1 for m in earlier if not counts_shown(m))
    result = []
    for topic in programme_topics:
        part = f"topic:{topic.pk}"
        # Per month: the exact count (from enough people), a band (held, but by fewer
        # people), or nothing at all (the month's counts are hidden).
        exact: dict[date, int] = {}
        banded: set[date] = set()
        for m in earlier:
            row = rows.get((m, Kpi.TOPIC_COVERAGE, part))
            if not counts_shown(m) or row is None or row.value is None:
                continue
            if (m, Kpi.TOPIC_COVERAGE, part) in hidden and round(row.value):
                banded.add(m)  # none held is from nobody: "0" says nothing of anyone
            else:
                exact[m] = round(row.value)
        so_far = sum(exact.values())
        if suppressed:
            this_month, text = None, "–"
        elif month in banded:
            this_month, text = None, count_text(1, minimum)
        else:
            this_month = exact.get(month)
            text = str(this_month or 0)
        result.append(
            TopicRow(
                title=topic.title,
                this_month=this_month,
                so_far=so_far,
                this_month_text=text,
                so_far_text=f"{so_far}+" if banded else str(so_far),
            )
        )
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
        uncovered=[row.title for row in result if row.so_far_text == "0"],
        months_left_out=left_out,
    )


@dataclass(frozen=True)
class PairsInMonth:
    """What the month's snapshot says of its pairs (``Pairs`` adds today's counts)."""

    shown: bool
    active_in_month: str
    at_risk_in_month: str | None


def _pairs_in_month(
    month: date, rows: dict[RowKey, KpiSnapshot], minimum: int, hidden: set[RowKey]
) -> PairsInMonth:
    # Pairs active in the month and those with a flag open in it, from the snapshot (its
    # people: those of the month's active pairs).
    at_risk = rows.get((month, Kpi.AT_RISK_PAIRS, ""))
    shown = (month, Kpi.AT_RISK_PAIRS, "") not in hidden
    at_risk_in_month = None
    if shown and at_risk is not None and at_risk.value is not None:
        at_risk_in_month = count_text(round(at_risk.value), minimum)
    active_in_month = at_risk.denominator if at_risk is not None else 0
    return PairsInMonth(
        shown=shown,
        active_in_month=count_text(active_in_month, minimum) if shown else "",
        at_risk_in_month=at_risk_in_month,
    )


def pairs_now(
    programme: Programme, month: date, in_month: PairsInMonth, minimum: int, now: datetime
) -> Pairs:
    """The month's pair counts with today's and what managers did in the month: read
    afresh each time (two queries), never from a cache."""
    zone = ZoneInfo(programme.time_zone)
    # One query: the pairs as they are today. Those with an open flag are matched against
    # the set of flagged pairs, read once (a hashed subquery), rather than by a lookup per
    # pair: at 10,000 pairs that lookup was two thirds of the page (docs/performance.md).
    flagged = RiskFlag.objects.filter(resolved_at__isnull=True).values("pair_id")
    today = (
        Pair.objects.open()
        .filter(cohort__programme=programme)
        .order_by()
        .aggregate(
            active=Count("pk", filter=Q(status=Pair.Status.ACTIVE)),
            paused=Count("pk", filter=Q(status=Pair.Status.PAUSED)),
            at_risk=Count("pk", filter=Q(pk__in=flagged)),
            mentees=Count("mentee", distinct=True),
            mentors=Count("reverse_mentor", distinct=True),
        )
    )
    people_now = today["mentees"] + today["mentors"]
    shown_now = people_now == 0 or people_now >= minimum

    # One query: what managers did about pairs in the month, by kind.
    starts, ends = _month_bounds(month, zone)
    done = dict(
        PairAction.objects.filter(pair__cohort__programme=programme, at__gte=starts, at__lt=ends)
        .order_by()
        .values_list("kind")
        .annotate(n=Count("pk"))
    )
    actions = [
        (kind.label, count_text(done[kind.value], minimum))
        for kind in PairAction.Kind
        if done.get(kind.value)
    ]
    return Pairs(
        shown=in_month.shown,
        active_in_month=in_month.active_in_month,
        at_risk_in_month=in_month.at_risk_in_month,
        actions=actions if in_month.shown else [],
        shown_now=shown_now,
        active_now=count_text(today["active"], minimum) if shown_now else "",
        paused_now=count_text(today["paused"], minimum) if shown_now else "",
        at_risk_now=count_text(today["at_risk"], minimum) if shown_now else "",
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
    hidden = hidden_rows(rows, minimum)
    months = sorted({row.month for row in found})
    in_month = [row for row in found if row.month == month]
    as_of = max((row.computed_at for row in in_month), default=None)

    in_progress = False
    headline = []
    for measure in HEADLINE:
        target = target_value(measure, programme)
        target_label, markable = "", True
        if measure.kind == FREQUENCY:
            target, target_label, in_progress, markable = _frequency_target(
                measure, programme, month, as_of
            )
        headline.append(
            figure_from(
                rows.get((month, measure.kpi, "")),
                kpi=measure.kpi,
                label=measure.label,
                kind=measure.kind,
                minimum=minimum,
                hidden=hidden,
                target=target,
                target_label=target_label,
                explain=measure.explain,
                markable=markable,
            )
        )

    cancellation_parts = [
        figure_from(
            rows.get((month, Kpi.CANCELLATION_RATE, side)),
            kpi=Kpi.CANCELLATION_RATE,
            label=label,
            kind=RATE,
            minimum=minimum,
            hidden=hidden,
            part=side,
        )
        for side, label in (
            (Role.MENTEE, "cancelled by executives"),
            (Role.REVERSE_MENTOR, "cancelled by reverse-mentors"),
        )
    ]

    skills = list(KeySkill.objects.filter(programme=programme).order_by("position", "pk"))
    confidence_target = target_value(HEADLINE_BY_KPI[Kpi.CONFIDENCE_CHANGE], programme)
    confidence_by_skill = [
        figure_from(
            rows.get((month, Kpi.CONFIDENCE_CHANGE, f"skill:{skill.pk}")),
            kpi=Kpi.CONFIDENCE_CHANGE,
            label=skill.name,
            kind=CONFIDENCE,
            minimum=minimum,
            hidden=hidden,
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
        nps_latest = figure_from(
            rows[(nps_month, Kpi.NPS, "")],
            kpi=Kpi.NPS,
            label=nps_measure.label,
            kind=NPS,
            minimum=minimum,
            hidden=hidden,
            target=target_value(nps_measure, programme),
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
        trends=[_trend(measure, programme, months, rows, minimum, hidden) for measure in HEADLINE],
        topics=_topics(topics, month, months, rows, minimum, hidden),
        pairs=pairs_now(
            programme, month, _pairs_in_month(month, rows, minimum, hidden), minimum, now
        ),
        stories=list(stories_for_sponsors(programme=programme)),
    )
