"""The KPI snapshots: each figure of docs/kpis.md per cohort and calendar month and for the
whole programme, written to KpiSnapshot. Pages read the snapshots and never recompute a figure,
so the admin, the sponsors' pages and the e-mails agree. The definitions (months, each figure,
``people`` and ``people_changed``) are in docs/kpis.md; this module says how they are counted.

``kpis_compute`` recomputes one programme and replaces all its rows in one transaction, with
the programme row locked so two runs take turns; recomputing writes equal rows. ``kpis_due``
(beat, every ten minutes) computes each programme whose night has come. Run twice, the second
run computes nothing.

Everything is counted in the database by aggregate queries grouped by cohort and month: two
over sessions (by month, and held ones by topic), one over pulse requests with their pulses,
one each over pairs, flags and NPS answers (a conditional count per month where a row spans
months), and one window query for the confidence change; Python only adds up aggregated
rows, so the cost does not grow with the programme. Learning and action are only tested for
blankness; nothing else a participant wrote is read.
"""

import logging
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, TypedDict
from zoneinfo import ZoneInfo

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.db.models import Max, Min, OuterRef, Q, Subquery
from django.utils import timezone

from programmes.models import Cohort, KeySkill, Programme, Role, Topic
from reporting.kpi_counts import (
    Counts,
    calendar_of,
    count_answers,
    count_confidence,
    count_flags,
    count_nps,
    count_pairs,
    count_sessions,
    month_start,
    next_month,
)
from reporting.models import KpiSnapshot

__all__ = ["CUMULATIVE", "kpis_compute", "kpis_due", "month_start", "next_month"]

logger = logging.getLogger(__name__)

Kpi = KpiSnapshot.Kpi

# Snapshots are computed each night once it is this late in the programme's time zone.
COMPUTE_AT = time(2, 0)
# A closed programme is still computed this long after its last cohort ended.
CLOSED_GRACE = timedelta(days=60)
# Figures whose month is a running total since the start (the others count the month only):
# two months' difference is the change of the people who moved it in between.
CUMULATIVE = frozenset({Kpi.CONFIDENCE_CHANGE})


# --- Figures ------------------------------------------------------------------------------------


def _ratio(numerator: float, denominator: int, scale: float = 1) -> float | None:
    return scale * numerator / denominator if denominator else None


def _figures(
    c: Counts, *, topic_ids: list[int], skill_ids: list[int]
) -> list[tuple[str, str, float | None, float, int, int, int]]:
    """(kpi, part, value, numerator, denominator, people, people_changed) for one scope and
    month; the people of each figure are the module docstring's."""
    pairs = c.pair_people
    covered = sum(1 for topic in topic_ids if c.held_by_topic[topic])
    flagged_value = c.flagged if (c.active_pairs or c.flagged) else None
    month_only: list[tuple[str, str, float | None, float, int, int]] = [
        (Kpi.SESSION_FREQUENCY, "", _ratio(c.held, c.active_pairs), c.held, c.active_pairs, pairs),
        (Kpi.NOTES_LOGGED, "", _ratio(c.noted, c.held), c.noted, c.held, c.noted_people),
        (Kpi.ACTION_COMMITMENT, "", _ratio(c.actions, c.held_answers), c.actions,
         c.held_answers, c.held_answer_people),
        (Kpi.ACTION_FOLLOW_THROUGH, "", _ratio(c.done, c.followed_up), c.done, c.followed_up,
         c.followed_up_people),
        (Kpi.PULSE_RESPONSE_RATE, "", _ratio(c.answered, c.requested), c.answered, c.requested,
         c.requested_people),
        (Kpi.CANCELLATION_RATE, "", _ratio(c.not_happened, c.due), c.not_happened, c.due,
         c.due_people),
        (Kpi.CANCELLATION_RATE, Role.MENTEE, _ratio(c.cancelled_by_mentee, c.due),
         c.cancelled_by_mentee, c.due, c.due_people),
        (Kpi.CANCELLATION_RATE, Role.REVERSE_MENTOR, _ratio(c.cancelled_by_mentor, c.due),
         c.cancelled_by_mentor, c.due, c.due_people),
        (Kpi.NPS, "", _ratio(c.promoters - c.detractors, c.answers, scale=100),
         c.promoters - c.detractors, c.answers, c.nps_people),
        (Kpi.REVERSION_RATE, "", _ratio(c.reverted, c.taught), c.reverted, c.taught,
         c.taught_people),
        (Kpi.AT_RISK_PAIRS, "", flagged_value, c.flagged, c.active_pairs, pairs),
        (Kpi.TOPIC_COVERAGE, "", _ratio(covered, len(topic_ids)) if c.held else None, covered,
         len(topic_ids), c.held_people),
    ]  # fmt: skip
    # A month's figure counts the month only: everyone behind it is new to it.
    rows = [(*row, row[-1]) for row in month_only]
    total = sum(c.skill_total[skill] for skill in skill_ids)
    counted = sum(c.skill_people[skill] for skill in skill_ids)
    rows.append(
        (Kpi.CONFIDENCE_CHANGE, "", _ratio(total, counted), total, counted, c.confidence_people,
         c.confidence_changed)
    )  # fmt: skip
    for skill in skill_ids:
        n = c.skill_people[skill]
        rows.append(
            (Kpi.CONFIDENCE_CHANGE, f"skill:{skill}", _ratio(c.skill_total[skill], n),
             c.skill_total[skill], n, n, c.skill_changed[skill])
        )  # fmt: skip
    for topic in topic_ids:
        held, people = c.held_by_topic[topic], c.topic_people[topic]
        rows.append(
            (Kpi.TOPIC_COVERAGE, f"topic:{topic}", held if c.held else None, held, c.held,
             people, people)
        )  # fmt: skip
    return rows


def _snapshots(programme: Programme, now: datetime) -> list[KpiSnapshot]:
    cohorts = list(Cohort.objects.filter(programme=programme).order_by("starts_on", "pk"))
    cal = calendar_of(programme, cohorts, now)
    if cal is None:
        return []
    topic_ids = list(Topic.objects.filter(programme=programme).values_list("pk", flat=True))
    skill_ids = list(KeySkill.objects.filter(programme=programme).values_list("pk", flat=True))
    cohort_ids = list(cal.cohort_months)

    counts: dict[tuple[int, date], Counts] = {}
    count_sessions(counts, cohort_ids, cal, now)
    count_answers(counts, cohort_ids, cal)
    count_pairs(counts, cohort_ids, cal)
    count_flags(counts, cohort_ids, cal)
    count_nps(counts, cohorts, cal)
    count_confidence(counts, skill_ids, cal)

    snapshots = []

    def write(cohort_id: int | None, month: date, c: Counts) -> None:
        for kpi, part, value, numerator, denominator, people, changed in _figures(
            c, topic_ids=topic_ids, skill_ids=skill_ids
        ):
            snapshots.append(
                KpiSnapshot(
                    programme_id=programme.pk,
                    cohort_id=cohort_id,
                    month=month,
                    kpi=kpi,
                    part=part,
                    value=value,
                    numerator=numerator,
                    denominator=denominator,
                    people=people,
                    people_changed=changed,
                    computed_at=now,
                )
            )

    whole = {month: Counts() for month in cal.months}
    for cohort_id, months in cal.cohort_months.items():
        for month in months:
            c = counts.get((cohort_id, month)) or Counts()
            whole[month].add(c)
            write(cohort_id, month, c)
    for month, c in whole.items():
        write(None, month, c)
    return snapshots


# --- Services -----------------------------------------------------------------------------------


def kpis_compute(*, programme: Programme, now: datetime | None = None) -> int:
    """Recompute every snapshot of ``programme`` and replace its rows. Returns how many rows
    were written."""
    now = now or timezone.now()
    with transaction.atomic():
        programme = _lock(programme.pk)
        return _replace(programme, now)


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class ProgrammeSpan(TypedDict):  # annotated by kpis_due
        first_start: date | None
        last_end: date


def kpis_due(*, now: datetime | None = None) -> int:
    """Compute each programme whose nightly snapshots have come due. Returns how many
    programmes were computed."""
    now = now or timezone.now()
    latest = KpiSnapshot.objects.filter(programme=OuterRef("pk")).order_by("-computed_at")
    candidates = (
        Programme.objects.filter(
            Q(status=Programme.Status.RUNNING) | Q(status=Programme.Status.CLOSED)
        )
        .annotate(
            first_start=Min("cohorts__starts_on"),
            last_end=Max("cohorts__ends_on"),
            computed_at=Subquery(latest.values("computed_at")[:1]),
        )
        .order_by("pk")
    )
    computed = 0
    for programme in candidates:
        if not _is_due(programme, programme.computed_at, now):
            continue
        try:
            with transaction.atomic():
                locked = _lock(programme.pk)
                # Another run may have computed it while this one waited for the lock.
                done = KpiSnapshot.objects.filter(programme=locked).aggregate(at=Max("computed_at"))
                if not _is_due(programme, done["at"], now):
                    continue
                _replace(locked, now)
        except SoftTimeLimitExceeded:
            raise
        except Exception:
            # One programme's failure must not keep the others' figures from being computed;
            # it stays due, so the next scan tries it again.
            logger.exception("KPIs of programme %s could not be computed", programme.pk)
            continue
        computed += 1
    return computed


def last_compute_time(*, zone: ZoneInfo, now: datetime) -> datetime:
    """The latest COMPUTE_AT in ``zone`` at or before ``now``."""
    local = now.astimezone(zone)
    at = datetime.combine(local.date(), COMPUTE_AT, tzinfo=zone)
    if at > now:
        at = datetime.combine(local.date() - timedelta(days=1), COMPUTE_AT, tzinfo=zone)
    return at


def _is_due(
    programme: "WithAnnotations[Programme, ProgrammeSpan]",
    computed_at: datetime | None,
    now: datetime,
) -> bool:
    zone = ZoneInfo(programme.time_zone)
    today = now.astimezone(zone).date()
    # Nothing to compute before a cohort starts: such a programme would be "due" forever.
    if programme.first_start is None or programme.first_start > today:
        return False
    if programme.status == Programme.Status.CLOSED and programme.last_end < today - CLOSED_GRACE:
        return False
    return computed_at is None or computed_at < last_compute_time(zone=zone, now=now)


def _lock(programme_id: int) -> Programme:
    # Two computations of one programme take turns: the second waits here, then replaces the
    # first one's rows with equal ones rather than tripping over them.
    return Programme.objects.select_for_update().get(pk=programme_id)


def _replace(programme: Programme, now: datetime) -> int:
    snapshots = _snapshots(programme, now)
    KpiSnapshot.objects.filter(programme=programme).delete()
    KpiSnapshot.objects.bulk_create(snapshots)  # one INSERT: PostgreSQL takes any number of rows
    return len(snapshots)
