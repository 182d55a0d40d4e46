"""Response counts, computed in the database: pulses asked for and answered, the response rate,
"not a good fit" answers and programme NPS answers per moment. Counts only: nothing here reads a
free-text answer (learning, action, why), a safety answer or an NPS score, so whatever is built
on these functions (the admin today, KPIs and sponsor pages later) cannot leak one.

What counts:

- **requested**: PulseRequest rows, one per participant and session asked for a pulse (written
  an hour after the session, or when the participant answers first).
- **submitted**: requests that have a pulse, i.e. answered requests. ``pulse_submit`` writes the
  request together with the pulse, so every pulse has one and this is simply the number of
  pulses; counting answered requests rather than Pulse rows keeps the rate at or below 100%
  even if a pulse without a request ever appeared (it would then not count).
- **response rate**: submitted / requested, as a fraction; None (shown as "no data", never 0%)
  when nothing was requested. It is worked out from the two counts of a row once they are
  read (``rate_of``), not in the query: an annotation that refers to another one repeats
  that one's subquery in the SQL, so the rate would count every pulse a second time. Sorting
  a list by it (``RATE_ORDERING``) is the only time the query computes it.

Each count is a correlated subquery, not a join, so several can sit beside each other without
multiplying one another, each is computed once per row shown (PostgreSQL evaluates them after
the page's ORDER BY … LIMIT when the list is sorted by a column), and a list page costs one
query however many rows it shows.
"""

from typing import Protocol

from django.db.models import (
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.db.models.expressions import OrderBy
from django.db.models.functions import Cast, Coalesce, NullIf

from lib.figures import NO_DATA
from pairs.models import Pair
from programmes.models import Cohort
from surveys.models import NpsResponse, Pulse, PulseRequest


def _answered() -> Exists:
    """For a PulseRequest row: its participant has a pulse for its session."""
    return Exists(
        Pulse.objects.filter(meeting=OuterRef("meeting"), participant=OuterRef("participant"))
    )


def _count_per_outer_row(rows: QuerySet, path: str) -> Coalesce:
    """How many of ``rows`` have ``path`` pointing at the outer query's row, as a subquery
    (0 when none)."""
    counted = (
        rows.filter(**{path: OuterRef("pk")})
        .order_by()
        .values(path)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


# To sort rows annotated by ``annotate_cohort_counts`` or ``annotate_pair_counts`` by their
# response rate (an admin column's ``ordering``). NULL, "no data" when nothing was
# requested, comes last in ascending order and first in descending on every database
# (PostgreSQL's default; SQLite's is the reverse): the admin reverses this for "-".
RATE_ORDERING: OrderBy = (
    Cast(F("pulses_submitted"), FloatField()) / NullIf(F("pulses_requested"), 0)
).asc(nulls_last=True)


def _with_pulse_counts(queryset: QuerySet, path: str) -> QuerySet:
    requests = PulseRequest.objects.all()
    return queryset.annotate(
        pulses_requested=_count_per_outer_row(requests, path),
        pulses_submitted=_count_per_outer_row(requests.filter(_answered()), path),
    )


def annotate_cohort_counts(cohorts: QuerySet[Cohort]) -> QuerySet[Cohort]:
    """``cohorts`` with, on each row: ``pulses_requested``, ``pulses_submitted`` (ints; their
    rate is ``rate_of(row)``), and ``nps_midpoint`` and ``nps_end``, the NPS answers given at
    each moment (ints)."""
    return annotate_nps_counts(_with_pulse_counts(cohorts, "meeting__pair__cohort"))


def annotate_nps_counts(cohorts: QuerySet[Cohort]) -> QuerySet[Cohort]:
    """``cohorts`` with ``nps_midpoint`` and ``nps_end``, the NPS answers given at each
    moment (ints): at most two a participant, so cheap to count live."""
    answers = NpsResponse.objects.all()
    return cohorts.annotate(
        nps_midpoint=_count_per_outer_row(
            answers.filter(moment=NpsResponse.Moment.MIDPOINT), "participant__cohort"
        ),
        nps_end=_count_per_outer_row(
            answers.filter(moment=NpsResponse.Moment.END), "participant__cohort"
        ),
    )


def annotate_pair_counts(pairs: QuerySet[Pair]) -> QuerySet[Pair]:
    """``pairs`` with, on each row: ``pulses_requested``, ``pulses_submitted`` (as for
    cohorts) and ``not_a_good_fit``, how many of the pair's
    pulses answered "is this a good fit?" with no: a request to be re-matched."""
    return _with_pulse_counts(pairs, "meeting__pair").annotate(
        not_a_good_fit=_count_per_outer_row(Pulse.objects.filter(good_fit=False), "meeting__pair")
    )


def rematch_requested() -> Exists:
    """For a Pair row: someone in the pair answered "not a good fit"."""
    return Exists(Pulse.objects.filter(meeting__pair=OuterRef("pk"), good_fit=False))


def response_rate(*, submitted: int, requested: int) -> float | None:
    return submitted / requested if requested else None


class PulseCounted(Protocol):
    pulses_requested: int
    pulses_submitted: int


def rate_of(row: PulseCounted) -> float | None:
    """The response rate of a row annotated by ``annotate_cohort_counts`` or
    ``annotate_pair_counts``: a fraction, or None when nothing was requested."""
    return response_rate(submitted=row.pulses_submitted, requested=row.pulses_requested)


def format_rate(rate: float | None) -> str:
    """The rate as a percentage ("83%"), or "no data" when nothing was requested (never "0%",
    which would say that nobody answered)."""
    return NO_DATA if rate is None else f"{rate:.0%}"
