"""The sponsors' status page without recomputing what has not changed.

Most of the page (the headline figures, topics, trends and their charts, NPS and confidence,
the month list) is a function of the programme's snapshots, which change only when the KPI
task recomputes them, and of a few settings. Those parts are rendered once and kept in the
cache under a key *read from the database*: the snapshots' latest computation, count and
highest id, the organisation's minimum group, every column of the programme (targets, its
own minimum, time zone, name), and its key skills and topics. Whatever changes one of them
changes the key, in every worker process at once; nothing has to remember to invalidate.

What may change at any moment is read afresh on every request and never cached: the month's
ask, the pairs today and the month's actions (``sponsor.pairs_now``), and the stories (a
withdrawn consent takes effect at once).

The cached parts are aggregates a sponsor of the programme may read, with small groups
already suppressed; the key names the programme, and access is checked before the cache is
read (``sponsor_views``). Nothing per user or per request (no CSRF token, no name) is in them.
"""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from django.core.cache import cache
from django.db.models import Count, Max, OuterRef, QuerySet, Subquery, Value
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString

from programmes.models import KeySkill, OrganisationSettings, Programme, Topic
from reporting import sponsor
from reporting.charts import trend_svg
from reporting.models import KpiSnapshot, SponsorAsk
from reporting.stories import StoryText, stories_for_sponsors

# Bumped when the fragments' templates or the figures' code change shape.
VERSION = 1
# Keys change with the data; the timeout only lets entries no key reaches any more go.
TIMEOUT = 60 * 60 * 24

# The page's parts that come from the snapshots, in page order, each a template.
FRAGMENTS = ("head", "glance", "figures", "about")


@dataclass(frozen=True)
class Figures:
    """What the status page shows of the snapshots for one month, rendered."""

    months: list[date]
    min_group: int
    in_month: sponsor.PairsInMonth
    html: dict[str, SafeString]  # by FRAGMENTS name, rendered (escaped) HTML

    @property
    def has_figures(self) -> bool:
        return bool(self.html)


def _snapshots(column: str, aggregate: type[Max] | type[Count]) -> Subquery:
    rows = KpiSnapshot.objects.filter(programme=OuterRef("pk"), cohort__isnull=True).order_by()
    return Subquery(rows.values("programme").annotate(found=aggregate(column)).values("found")[:1])


def with_fingerprint(programmes: QuerySet[Programme], month: date) -> QuerySet[Programme]:
    """``programmes`` with what the cache key reads and the month's ask, in the same query."""
    asks = SponsorAsk.objects.filter(programme=OuterRef("pk"), month=month)
    return programmes.annotate(
        snapshots_at=_snapshots("computed_at", Max),
        snapshots_top=_snapshots("pk", Max),
        snapshots_count=_snapshots("pk", Count),
        organisation_min_group=Subquery(
            OrganisationSettings.objects.filter(pk=OrganisationSettings.SINGLETON_PK).values(
                "min_group_size"
            )
        ),
        month_ask=Subquery(asks.values("text")[:1]),
    )


def _key(programme: Programme, month: date) -> str:
    """The cache key of ``month``'s figures: one query (the key skills and topics), beside
    the fingerprint the programme was loaded with (``with_fingerprint``)."""
    # Unordered (SQLite refuses an ORDER BY inside a UNION); the rows are sorted here.
    skills = KeySkill.objects.filter(programme=programme).annotate(kind=Value("skill")).order_by()
    topics = Topic.objects.filter(programme=programme).annotate(kind=Value("topic")).order_by()
    labels = sorted(
        skills.values_list("kind", "pk", "name", "position").union(
            topics.values_list("kind", "pk", "title", "position"), all=True
        )
    )
    columns = [
        (field.attname, getattr(programme, field.attname))
        for field in Programme._meta.concrete_fields
    ]
    fingerprint = (
        programme.snapshots_at,  # type: ignore[attr-defined]
        programme.snapshots_top,  # type: ignore[attr-defined]
        programme.snapshots_count,  # type: ignore[attr-defined]
        programme.organisation_min_group,  # type: ignore[attr-defined]
        columns,
        labels,
    )
    digest = hashlib.sha256(repr(fingerprint).encode()).hexdigest()
    return f"sponsor-figures:{VERSION}:{programme.pk}:{month.isoformat()}:{digest}"


def _render(status: sponsor.SponsorStatus) -> Figures:
    in_month = sponsor.PairsInMonth(
        shown=status.pairs.shown,
        active_in_month=status.pairs.active_in_month,
        at_risk_in_month=status.pairs.at_risk_in_month,
    )
    if not status.has_figures:
        return Figures(status.months, status.min_group, in_month, html={})
    programme, month = status.programme, status.month
    context = {
        "programme": programme,
        "status": status,
        "charts": [
            (trend, trend_svg(trend, highlight=month, id_prefix="chart")) for trend in status.trends
        ],
        "headline_rows": headline_rows(status),
        "csv_url": reverse("reporting:sponsor_figures_csv", args=[programme.slug, month]),
    }
    html = {
        name: render_to_string(f"reporting/sponsor_status_{name}.html", context)
        for name in FRAGMENTS
    }
    return Figures(status.months, status.min_group, in_month, html=html)


def headline_rows(status: sponsor.SponsorStatus) -> list[tuple[sponsor.Figure, list]]:
    """Each headline figure with its breakdowns (the cancellation rate's sides)."""
    return [
        (figure, status.cancellation_parts if figure.kpi == sponsor.Kpi.CANCELLATION_RATE else [])
        for figure in status.headline
    ]


@dataclass(frozen=True)
class StatusPage:
    figures: Figures
    ask: str
    pairs: sponsor.Pairs | None
    stories: list[StoryText]


def status_page(*, programme: Programme, month: date, now: datetime) -> StatusPage:
    """The page's parts for ``programme`` (loaded ``with_fingerprint``) in ``month``: the
    figures from the cache when the key matches (one query for the key, then the three live
    reads), else computed and rendered (``sponsor.sponsor_status``) and kept."""
    key = _key(programme, month)
    figures = cache.get(key)
    if figures is None:
        status = sponsor.sponsor_status(programme=programme, month=month, now=now)
        figures = _render(status)
        cache.set(key, figures, TIMEOUT)
        return StatusPage(figures, status.ask, status.pairs, status.stories)
    if not figures.has_figures:
        return StatusPage(figures, "", None, [])
    return StatusPage(
        figures,
        programme.month_ask or "",  # type: ignore[attr-defined]
        sponsor.pairs_now(programme, month, figures.in_month, figures.min_group, now),
        list(stories_for_sponsors(programme=programme)),
    )
