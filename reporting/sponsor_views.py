"""The sponsors' pages: the programmes a user sponsors, each programme's monthly status (a
two-minute read), its figures as CSV and its trend charts as SVG. Sponsors sign in with
Django's auth; participants have no accounts and never reach these pages.

Every view loads the programme through ``_programme_for_sponsor``: one of its sponsors, one of
its managers or a superuser may read it; anyone else gets a 404, so another programme's page,
CSV and charts do not even admit to existing. What is shown comes from reporting/sponsor.py
(aggregates only, small groups suppressed)."""

import csv
import re
from datetime import date
from typing import cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from audit.models import AuditEntry
from audit.records import audit_record
from lib.spreadsheets import csv_cell
from programmes.models import Programme
from reporting import sponsor
from reporting.charts import trend_svg
from reporting.sponsor_page import headline_rows, status_page, with_fingerprint

# Months a URL may name: an allow-list of four ASCII digits, a dash and 01–12, in years a
# programme can run in. Anything else is refused before a date is built, so no input reaches
# date() (OverflowError for 99999999999999999999, ValueError for year 0) or the month
# arithmetic past year 9999.
MONTH_PATTERN = r"[0-9]{4}-(?:0[1-9]|1[0-2])"
_MONTH = re.compile(MONTH_PATTERN)
FIRST_YEAR, LAST_YEAR = 2000, 2999


def parse_month(value: str) -> date:
    """``2026-11`` as the first day of that month; ValueError for anything else (other
    digits, other shapes, a year outside FIRST_YEAR–LAST_YEAR)."""
    if len(value) != 7 or not _MONTH.fullmatch(value):
        raise ValueError(f"Not a month: {value[:20]!r}")
    year, month = int(value[:4]), int(value[5:])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"Not a month: {value!r}")
    return date(year, month, 1)


class MonthConverter:
    """``2026-11`` in a URL, the first day of that month in the view; anything else does not
    match the URL (a 404)."""

    regex = MONTH_PATTERN

    def to_python(self, value: str) -> date:
        return parse_month(value)  # ValueError: the URL does not match (a 404)

    def to_url(self, value: date | str) -> str:
        return value if isinstance(value, str) else f"{value.year:04d}-{value.month:02d}"


class _BadMonth(Exception):
    pass


def _month_param(request: HttpRequest) -> date | None:
    """The ``?month=`` asked for: None when absent or empty, _BadMonth when it is not a
    month (the view answers 400)."""
    value = request.GET.get("month", "")
    if not value:
        return None
    try:
        return parse_month(value)
    except ValueError:
        raise _BadMonth from None


def _bad_month(request: HttpRequest, programme: Programme) -> HttpResponse:
    return render(
        request,
        "reporting/sponsor_bad_request.html",
        {"programme": programme},
        status=400,
    )


def _programme_for_sponsor(
    request: HttpRequest, slug: str, programmes: QuerySet[Programme] | None = None
) -> Programme:
    """The programme ``slug`` if the user sponsors it, manages it or is a superuser; a 404
    otherwise (never a 403: a page of someone else's programme is as good as absent)."""
    programmes = (Programme.objects.all() if programmes is None else programmes).filter(slug=slug)
    user = cast(User, request.user)  # signed in
    if not user.is_superuser:
        sponsors = Programme.sponsors.through.objects.filter(programme=OuterRef("pk"), user=user)
        managers = Programme.managers.through.objects.filter(programme=OuterRef("pk"), user=user)
        programmes = programmes.filter(Q(Exists(sponsors)) | Q(Exists(managers)))
    programme = programmes.first()
    if programme is None:
        raise Http404("No such programme.")
    return programme


@require_safe
@login_required
@never_cache
def sponsor_index(request: HttpRequest) -> HttpResponse:
    """The programmes the user sponsors, nothing else. One query."""
    programmes = list(
        Programme.objects.filter(sponsors=cast(User, request.user))
        .annotate(latest=Max("kpi_snapshots__month", filter=Q(kpi_snapshots__cohort__isnull=True)))
        .order_by("name")
    )
    return render(request, "reporting/sponsor_index.html", {"programmes": programmes})


@require_safe
@login_required
@never_cache
def sponsor_programme(request: HttpRequest, slug: str) -> HttpResponse:
    """To the latest month with figures (or the month picked in the selector)."""
    programme = _programme_for_sponsor(request, slug)
    months = sponsor.sponsor_months(programme)
    if not months:
        return render(request, "reporting/sponsor_no_figures.html", {"programme": programme})
    try:
        wanted = _month_param(request)
    except _BadMonth:
        return _bad_month(request, programme)
    # A month without figures (yet) shows the latest that has them.
    month = wanted if wanted in months else months[-1]
    return redirect(sponsor.sponsor_status_path(programme, month))


@require_safe
@login_required
@never_cache
def sponsor_status(request: HttpRequest, slug: str, month: date) -> HttpResponse:
    """The monthly status page: the figures from the cache while the snapshots and settings
    behind them are unchanged (reporting/sponsor_page.py), the live parts read afresh.

    Queries (seven, whatever the programme's size): the session and the user (login), the
    programme with the permission check, the cache key's fingerprint and the month's ask,
    the cache key's key skills and topics, the pairs today, the month's actions and the
    stories; on a miss, sponsor.sponsor_status's queries besides."""
    programmes = with_fingerprint(Programme.objects.all(), month)
    programme = _programme_for_sponsor(request, slug, programmes)
    page = status_page(programme=programme, month=month, now=timezone.now())
    figures = page.figures
    if not figures.has_figures:
        return render(
            request,
            "reporting/sponsor_no_figures.html",
            {"programme": programme, "month": month, "months": figures.months},
            status=404,
        )
    return render(
        request,
        "reporting/sponsor_status.html",
        {
            "programme": programme,
            "month": month,
            "min_group": figures.min_group,
            "fragments": figures.html,
            "ask": page.ask,
            "pairs": page.pairs,
            "stories": page.stories,
        },
    )


def figure_rows(status: sponsor.SponsorStatus) -> list[list[str]]:
    """The CSV's rows (month, figure, value as shown, target, mark): the headline figures
    with their breakdowns, confidence per key skill, pairs and topic coverage."""
    month = f"{status.month:%Y-%m}"
    suppressed = sponsor.suppressed_text(status.min_group)
    rows = []

    def add(label: str, text: str, target: str = "", mark: str = "") -> None:
        rows.append([month, label, text, target, mark])

    for figure, parts in headline_rows(status):
        add(figure.label, figure.text, figure.target_text, figure.mark_label)
        for part in parts:
            add(f"{figure.label}: {part.label}", part.text)
    for figure in status.confidence_by_skill:
        add(
            f"Confidence change: {figure.label}",
            figure.text,
            figure.target_text,
            figure.mark_label,
        )
    pairs = status.pairs
    if pairs.shown:
        add("Active pairs", pairs.active_in_month)
        add(
            "Pairs with an at-risk flag",
            sponsor.NO_DATA if pairs.at_risk_in_month is None else pairs.at_risk_in_month,
        )
        for label, count in pairs.actions:
            add(f"Actions taken: {label}", count)
    else:
        add("Active pairs", suppressed)
        add("Pairs with an at-risk flag", suppressed)
    topics = status.topics
    add("Topic coverage", topics.coverage_text)
    for topic in topics.rows:
        add(
            f"Sessions on topic: {topic.title}",
            suppressed if topics.suppressed else topic.this_month_text,
        )
    return rows


@require_safe
@login_required
@never_cache
def sponsor_figures_csv(request: HttpRequest, slug: str, month: date) -> HttpResponse:
    """The month's figures as CSV, exactly as the page shows them (suppressed ones as
    "fewer than N responses")."""
    programme = _programme_for_sponsor(request, slug)
    status = sponsor.sponsor_status(programme=programme, month=month)
    if not status.has_figures:
        raise Http404("No figures for this month.")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{programme.slug}-{month:%Y-%m}-figures.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(["month", "figure", "value", "target", "mark"])
    for row in figure_rows(status):
        writer.writerow([csv_cell(cell) for cell in row])
    audit_record(
        AuditEntry.Event.EXPORT_DOWNLOADED,
        by=request.user,
        target=programme,
        programme=programme,
        changes={"export": ("", f"sponsor figures of {month:%B %Y}")},
    )
    return response


@require_safe
@login_required
@never_cache
def sponsor_chart(request: HttpRequest, slug: str, kpi: str) -> HttpResponse:
    """One headline figure's trend as an SVG image; ``?month=2026-11`` highlights a month
    (anything else but a month answers 400)."""
    programme = _programme_for_sponsor(request, slug)
    if kpi not in sponsor.CHARTED:
        raise Http404("No such chart.")
    try:
        highlight = _month_param(request)
    except _BadMonth:
        return _bad_month(request, programme)
    trend = sponsor.sponsor_trend(programme=programme, kpi=kpi)
    svg = trend_svg(trend, highlight=highlight)
    return HttpResponse(
        '<?xml version="1.0" encoding="utf-8"?>\n' + svg,
        content_type="image/svg+xml; charset=utf-8",
    )
