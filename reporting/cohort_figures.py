"""A cohort's pulse figures for the managers' cohort list, read from its KPI snapshots: the
pulses requested and answered over every month of the cohort, as the KPI task last computed
them (each night). Counting them live meant one lookup per pulse request of every cohort
listed, 1.5 s a cohort of 1,000 pairs (docs/performance.md, "Admin lists"); the snapshots
hold the same counts per month (docs/kpis.md, "pulse response rate": ``numerator`` answered,
``denominator`` requested), a few rows a cohort. Counts only, like the snapshots."""

from django.db.models import FloatField, IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Cast, Coalesce

from programmes.models import Cohort
from reporting.models import KpiSnapshot


def _total(column: str) -> Coalesce:
    rows = (
        KpiSnapshot.objects.filter(
            cohort=OuterRef("pk"), kpi=KpiSnapshot.Kpi.PULSE_RESPONSE_RATE, part=""
        )
        .order_by()
        .values("cohort")
        .annotate(total=Sum(Cast(column, FloatField())))
        .values("total")
    )
    return Coalesce(Cast(Subquery(rows), IntegerField()), 0)


def annotate_pulse_totals(cohorts: QuerySet[Cohort]) -> QuerySet[Cohort]:
    """``cohorts`` with ``pulses_requested`` and ``pulses_submitted`` (ints, as
    ``surveys.counts`` names them, so ``rate_of`` and ``RATE_ORDERING`` apply) and
    ``pulses_counted_at``, when the snapshots they come from were computed (None before the
    first computation)."""
    computed = KpiSnapshot.objects.filter(cohort=OuterRef("pk")).order_by("-computed_at")
    return cohorts.annotate(
        pulses_requested=_total("denominator"),
        pulses_submitted=_total("numerator"),
        pulses_counted_at=Subquery(computed.values("computed_at")[:1]),
    )
