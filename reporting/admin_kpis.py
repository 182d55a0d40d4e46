"""The managers' KPI page of a programme in the admin: the snapshots reporting/kpis.py writes
each night, a table per scope (the whole programme, then each cohort) with the months as
columns and the figures as rows, and a button to recompute them now.

The page reads snapshots only: counts and figures, topic titles and key-skill names, never
anything a participant wrote. Managers see every figure, however few people it comes from
(the sponsors' pages are the ones that suppress small groups); each cell's tooltip says what
it was computed from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from lib.admin import check_permission
from lib.figures import NO_DATA
from programmes.models import Cohort, KeySkill, Programme, Role, Topic
from reporting import sponsor
from reporting.kpis import kpis_compute
from reporting.models import KpiSnapshot

Kpi = KpiSnapshot.Kpi


# How each figure reads, rounded exactly as the sponsors' page rounds it (half up), so the two
# pages never differ by a point: rates as percentages, frequency and confidence with one
# decimal (confidence signed), NPS as a signed whole number, counts whole.
KINDS: dict[str, str] = {
    Kpi.SESSION_FREQUENCY: sponsor.FREQUENCY,
    Kpi.NOTES_LOGGED: sponsor.RATE,
    Kpi.ACTION_COMMITMENT: sponsor.RATE,
    Kpi.ACTION_FOLLOW_THROUGH: sponsor.RATE,
    Kpi.PULSE_RESPONSE_RATE: sponsor.RATE,
    Kpi.CANCELLATION_RATE: sponsor.RATE,
    Kpi.CONFIDENCE_CHANGE: sponsor.CONFIDENCE,
    Kpi.NPS: sponsor.NPS,
    Kpi.REVERSION_RATE: sponsor.RATE,
    Kpi.AT_RISK_PAIRS: sponsor.COUNT,
    Kpi.TOPIC_COVERAGE: sponsor.RATE,
}


def format_figure(snapshot: KpiSnapshot | None) -> str:
    """A snapshot's value as the page shows it, or "no data" (never a 0 that is not there)."""
    if snapshot is None or snapshot.value is None:
        return NO_DATA
    kind = sponsor.COUNT if snapshot.part.startswith("topic:") else KINDS[snapshot.kpi]
    return sponsor.format_value(kind, sponsor.shown_value(kind, snapshot.value))


def _computed_from(snapshot: KpiSnapshot | None) -> str:
    if snapshot is None:
        return "Not computed for this month."
    if snapshot.value is None:
        return "Nothing to compute it from this month."
    people = "1 person" if snapshot.people == 1 else f"{snapshot.people} people"
    return f"{snapshot.numerator:g} / {snapshot.denominator}, from {people}"


@dataclass(frozen=True)
class Cell:
    text: str
    title: str

    @property
    def no_data(self) -> bool:
        return self.text == NO_DATA


@dataclass
class Row:
    label: str
    cells: list[Cell]
    breakdown: bool = False  # a part of the row above


@dataclass
class Table:
    title: str
    months: list[date]
    rows: list[Row] = field(default_factory=list)


def _row_specs(
    programme: Programme, topics: list[Topic], skills: list[KeySkill]
) -> list[tuple[str, str, str, bool]]:
    """(label, kpi, part, breakdown) for every row of a table, in the page's order."""
    target = programme.sessions_per_month_target
    return [
        (f"Session frequency (target {target} a month)", Kpi.SESSION_FREQUENCY, "", False),
        ("Notes logged", Kpi.NOTES_LOGGED, "", False),
        ("Action commitment", Kpi.ACTION_COMMITMENT, "", False),
        ("Action follow-through", Kpi.ACTION_FOLLOW_THROUGH, "", False),
        ("Pulse response rate", Kpi.PULSE_RESPONSE_RATE, "", False),
        ("Cancellation rate", Kpi.CANCELLATION_RATE, "", False),
        ("cancelled by the executive", Kpi.CANCELLATION_RATE, Role.MENTEE, True),
        ("cancelled by the reverse-mentor", Kpi.CANCELLATION_RATE, Role.REVERSE_MENTOR, True),
        ("Confidence change (all key skills)", Kpi.CONFIDENCE_CHANGE, "", False),
        *((skill.name, Kpi.CONFIDENCE_CHANGE, f"skill:{skill.pk}", True) for skill in skills),
        ("Programme NPS", Kpi.NPS, "", False),
        ("Reversion rate", Kpi.REVERSION_RATE, "", False),
        ("At-risk pairs", Kpi.AT_RISK_PAIRS, "", False),
        ("Topic coverage", Kpi.TOPIC_COVERAGE, "", False),
        *(
            (f"sessions on “{topic.title}”", Kpi.TOPIC_COVERAGE, f"topic:{topic.pk}", True)
            for topic in topics
        ),
    ]


def kpi_tables(programme: Programme) -> tuple[list[Table], KpiSnapshot | None]:
    """The page's tables (the whole programme first, then each cohort with figures) and a
    snapshot to say when they were computed (None when there are none). Four queries,
    however many cohorts and months."""
    cohorts = list(Cohort.objects.filter(programme=programme).order_by("starts_on", "pk"))
    topics = list(Topic.objects.filter(programme=programme))
    skills = list(KeySkill.objects.filter(programme=programme))
    snapshots = list(KpiSnapshot.objects.filter(programme=programme).order_by())
    by_key = {(s.cohort_id, s.month, s.kpi, s.part): s for s in snapshots}
    months: dict[int | None, set[date]] = {}
    for snapshot in snapshots:
        months.setdefault(snapshot.cohort_id, set()).add(snapshot.month)

    specs = _row_specs(programme, topics, skills)
    scopes = [(None, "Whole programme")] + [(cohort.pk, cohort.name) for cohort in cohorts]
    tables = []
    for cohort_id, title in scopes:
        if cohort_id not in months:
            continue
        table = Table(title=title, months=sorted(months[cohort_id]))
        for label, kpi, part, breakdown in specs:
            found = [by_key.get((cohort_id, month, kpi, part)) for month in table.months]
            cells = [Cell(format_figure(s), _computed_from(s)) for s in found]
            table.rows.append(Row(label=label, cells=cells, breakdown=breakdown))
        tables.append(table)
    return tables, snapshots[0] if snapshots else None


def _get_programme_for_user(
    request: HttpRequest, object_id: str, *, model_admin: ModelAdmin, change: bool = False
) -> Programme:
    # An id is ASCII digits: int() would also read "１" or "٢" as a programme's id.
    programme = (
        model_admin.get_object(request, object_id)
        if object_id.isascii() and object_id.isdigit()
        else None
    )
    if programme is None:
        raise Http404("No such programme.")
    check_permission(model_admin, request, programme, change=change)
    return programme


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def programme_kpis(
    request: HttpRequest, object_id: str, *, model_admin: ModelAdmin
) -> HttpResponse:
    # Recomputing writes derived figures only, but it is a change made from this page, so
    # it asks for the right to change the programme.
    change = request.method == "POST"
    programme = _get_programme_for_user(request, object_id, model_admin=model_admin, change=change)
    url = reverse("admin:programmes_programme_kpis", args=[programme.pk])
    if change:
        written = kpis_compute(programme=programme)
        messages.success(request, f"The KPIs were recomputed: {written} figures.")
        return HttpResponseRedirect(url)

    tables, latest = kpi_tables(programme)
    opts = Programme._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"KPIs of {programme}",
        "subtitle": None,
        "opts": opts,
        "original": programme,
        "programme": programme,
        "tables": tables,
        "computed_at": latest.computed_at if latest else None,
        "can_recompute": model_admin.has_change_permission(request, programme),
        "recompute_url": url,
        # What the sponsors read, built from these same snapshots.
        "sponsor_url": reverse("reporting:sponsor_programme", args=[programme.slug]),
    }
    return TemplateResponse(request, "admin/reporting/kpis.html", context)
