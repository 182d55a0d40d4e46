"""The three lists programme managers run programmes from: programmes (with their KPI page),
cohorts (intake, pulses, open flags, the diagnosis) and pairs (sessions, notes, pulses,
flags, check-ins). Each shows figures that several apps keep, so they sit above all of them
(see cockpit/__init__.py)."""

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, TypedDict, cast

from django.contrib import admin
from django.db.models import (
    Count,
    Exists,
    OuterRef,
    QuerySet,
)
from django.db.models.functions import Coalesce, Now
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from lib.admin import ViewOnlyMixin
from lib.admin_filters import (
    AllowListedFiltersMixin,
    ChoiceListFilter,
    field_filter_parameters,
)
from pairs.admin import (
    AgreementInline,
    Held,
    MeetingInline,
    count_of,
    latest_of,
    note_count,
)
from pairs.models import Agreement, Meeting, Pair
from programmes import admin_intake
from programmes.admin import (
    CohortFilter,
    CohortInline,
    KeySkillInline,
    ProgrammeFilter,
    TopicInline,
)
from programmes.admin_roles import ProgrammeRolesAudit
from programmes.forms_programme import ProgrammeAdminForm
from programmes.models import Cohort, Participant, Programme, Role
from programmes.scoping import ProgrammeScopedAdmin, is_org_admin
from reporting.admin_kpis import programme_kpis
from reporting.cohort_figures import annotate_pulse_totals
from risks.admin_backtest import backtest_view
from risks.admin_diagnosis import diagnosis_view
from risks.models import CheckIn, RiskFlag
from surveys import counts

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class ProgrammeCounts(TypedDict):
        cohort_count: int

    class PulseCounts(TypedDict):  # surveys.counts
        pulses_requested: int
        pulses_submitted: int

    class CohortCounts(PulseCounts):
        mentee_count: int
        mentor_count: int
        intakes_done: int
        open_flag_count: int
        nps_midpoint: int
        nps_end: int
        pulses_counted_at: datetime | None

    class PairCounts(PulseCounts):
        is_agreed: bool
        held_count: int
        cancelled_count: int
        missed_count: int
        upcoming_count: int
        last_held_at: datetime | None
        notes_logged: int
        open_flag_count: int
        not_a_good_fit: int


TARGETS_HELP = (
    "The sponsors' monthly status marks each headline figure against its target here: on "
    "track, watch or off track. Shares are whole percentages of the month's sessions or "
    "pulses; the cancellation and reversion rates are met by staying at or below them. The "
    "confidence change is the mean rise on the 1–5 scale since the intake."
)


@admin.register(Programme)
class ProgrammeAdmin(ProgrammeScopedAdmin, ProgrammeRolesAudit, admin.ModelAdmin):
    """A manager sees and changes only the programmes they manage; only an organisation
    administrator adds or deletes a programme, or names its managers and sponsors."""

    programme_path = ""
    form = ProgrammeAdminForm
    ordering = ["name"]
    list_display = ["name", "status", "cohort_count", "sessions_per_month_target", "kpis_link"]
    list_filter = ["status"]
    search_fields = ["name", "purpose"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["sponsors", "managers"]
    inlines = [KeySkillInline, TopicInline, CohortInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "purpose", "status"]}),
        (
            "Targets",
            {
                "description": TARGETS_HELP,
                "fields": [
                    "sessions_per_month_target",
                    ("target_notes_logged", "target_pulse_response_rate"),
                    ("target_action_commitment", "target_action_follow_through"),
                    ("target_cancellation_rate", "target_reversion_rate"),
                    ("target_nps", "target_confidence_change"),
                ],
            },
        ),
        ("Reporting", {"fields": ["min_group_size", "time_zone"]}),
        (
            # The rules about safety and reversion; missed sessions, quiet spells and missing
            # pulses are the risk score's now (docs/at-risk.md), so their old thresholds,
            # still in the model, are not offered.
            "At-risk thresholds",
            {
                "classes": ["collapse"],
                "fields": [
                    "risk_safety_at_most",
                    ("risk_reversion_count", "risk_reversion_window"),
                ],
            },
        ),
        ("People", {"fields": ["managers", "sponsors"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Programme]:
        return super().get_queryset(request).annotate(cohort_count=Count("cohorts"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_org_admin(request.user) and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Programme | None = None) -> bool:
        return is_org_admin(request.user) and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Programme | None = None) -> list:
        readonly = list(super().get_readonly_fields(request, obj))
        if not is_org_admin(request.user):
            # Granting a role is the organisation administrators' (issue #18).
            readonly += ["managers", "sponsors"]
        return readonly

    # The change page's "KPIs" button (templates/admin/programmes/kpis_change_form.html).
    change_form_template = "admin/programmes/kpis_change_form.html"

    @admin.display(description="cohorts", ordering="cohort_count")
    def cohort_count(self, obj: "WithAnnotations[Programme, ProgrammeCounts]") -> int:
        return obj.cohort_count

    @admin.display(description="")
    def kpis_link(self, obj: Programme) -> str:
        url = reverse("admin:programmes_programme_kpis", args=[obj.pk])
        return format_html('<a href="{}">KPIs</a>', url)

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "<path:object_id>/kpis/",
                self.admin_site.admin_view(partial(programme_kpis, model_admin=self)),
                name="programmes_programme_kpis",
            ),
        ]
        return custom + super().get_urls()


@admin.register(Cohort)
class CohortAdmin(ProgrammeScopedAdmin, admin.ModelAdmin):
    # "N of M selected" counts only the filtered rows (docs/performance.md).
    show_full_result_count = False
    programme_path = "programme"
    list_display = [
        "name",
        "programme",
        "dates",
        "status",
        "open_flags",
        "diagnosis_link",
        "mentee_count",
        "mentor_count",
        "intakes_complete",
        "pulses_answered",
        "response_rate",
        "nps_midpoint",
        "nps_end",
        "participants_link",
    ]
    list_filter = ["status", ("programme", ProgrammeFilter)]
    list_select_related = ["programme"]
    search_fields = ["name", "programme__name"]
    actions = ["close_intake", "reopen_intake"]
    # Counts only: the pulses' and NPS answers' text is never read here (surveys/counts.py).
    responses = [
        "pulses_counted",
        "pulses_requested",
        "pulses_submitted",
        "response_rate",
        "nps_midpoint",
        "nps_end",
    ]
    readonly_fields = [*responses, "intake_closed_at", "intake_closed_by"]

    @admin.action(
        description="Close intake (shows who has not finished first)", permissions=["change"]
    )
    def close_intake(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return admin_intake.close_intake(self, request, queryset)

    @admin.action(description="Reopen intake", permissions=["change"])
    def reopen_intake(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return admin_intake.reopen_intake(self, request, queryset)

    def get_fieldsets(self, request: HttpRequest, obj: Cohort | None = None) -> list:
        fieldsets: list[tuple[str | None, dict[str, list[str]]]] = [
            (None, {"fields": ["programme", "name", "starts_on", "ends_on", "status"]})
        ]
        if obj is not None and obj.intake_closed_at is not None:
            fieldsets.append(("Intake", {"fields": ["intake_closed_at", "intake_closed_by"]}))
        if obj is not None:
            fieldsets.append(("Responses (counts only)", {"fields": self.responses}))
        return fieldsets

    def get_queryset(self, request: HttpRequest) -> QuerySet[Cohort]:
        # Each count is its own correlated subquery (count_of), never a join of participants:
        # a join would group the cohorts, and PostgreSQL then computes the pulse counts beside
        # it once per participant, not once per cohort (over ten minutes at 10,000 pairs), and
        # the paginator's count would wrap the whole grouped query. As subqueries, the count
        # of the list is a plain count of cohorts (docs/performance.md, "Admin lists").
        # The pulse figures are the KPI snapshots' (reporting/cohort_figures.py): counted
        # live they were one lookup per pulse request of every cohort listed.
        active = Participant.objects.exclude(status=Participant.Status.WITHDRAWN)
        return annotate_pulse_totals(
            counts.annotate_nps_counts(
                super()
                .get_queryset(request)
                .select_related("programme")  # the change page's title names it
                .annotate(
                    mentee_count=count_of(active.filter(role=Role.MENTEE), "cohort"),
                    mentor_count=count_of(active.filter(role=Role.REVERSE_MENTOR), "cohort"),
                    intakes_done=count_of(
                        active.filter(intake__submitted_at__isnull=False), "cohort"
                    ),
                    open_flag_count=_open_flag_count("pair__cohort"),
                )
            )
        )

    @admin.display(description="dates", ordering="starts_on")
    def dates(self, obj: Cohort) -> str:
        return f"{obj.starts_on:%-d %b %Y} – {obj.ends_on:%-d %b %Y}"

    @admin.display(description="mentees", ordering="mentee_count")
    def mentee_count(self, obj: "WithAnnotations[Cohort, CohortCounts]") -> int:
        return obj.mentee_count

    @admin.display(description="reverse-mentors", ordering="mentor_count")
    def mentor_count(self, obj: "WithAnnotations[Cohort, CohortCounts]") -> int:
        return obj.mentor_count

    @admin.display(description="intakes complete", ordering="intakes_done")
    def intakes_complete(self, obj: "WithAnnotations[Cohort, CohortCounts]") -> str:
        return f"{obj.intakes_done} of {obj.mentee_count + obj.mentor_count}"

    @admin.display(description="pulses requested", ordering="pulses_requested")
    def pulses_requested(self, obj: "WithAnnotations[Cohort, CohortCounts]") -> int:
        return obj.pulses_requested

    @admin.display(description="pulses submitted", ordering="pulses_submitted")
    def pulses_submitted(self, obj: "WithAnnotations[Cohort, CohortCounts]") -> int:
        return obj.pulses_submitted

    @admin.display(description="pulses answered (nightly)", ordering="pulses_submitted")
    def pulses_answered(self, obj: "WithAnnotations[Cohort, CohortCounts]") -> str:
        return f"{obj.pulses_submitted} of {obj.pulses_requested}"

    @admin.display(description="pulse figures computed")
    def pulses_counted(self, obj: "WithAnnotations[Cohort, CohortCounts]") -> str:
        at = obj.pulses_counted_at
        return "not yet (each night)" if at is None else f"{timezone.localtime(at):%-d %b %Y %H:%M}"

    @admin.display(description="response rate (nightly)", ordering=counts.RATE_ORDERING)
    def response_rate(self, obj: "WithAnnotations[Cohort, CohortCounts]") -> str:
        return counts.format_rate(counts.rate_of(obj))

    @admin.display(description="NPS answers, mid-point", ordering="nps_midpoint")
    def nps_midpoint(self, obj: "WithAnnotations[Cohort, CohortCounts]") -> int:
        return obj.nps_midpoint

    @admin.display(description="NPS answers, end", ordering="nps_end")
    def nps_end(self, obj: "WithAnnotations[Cohort, CohortCounts]") -> int:
        return obj.nps_end

    @admin.display(description="")
    def participants_link(self, obj: Cohort) -> str:
        url = reverse("admin:programmes_participant_changelist") + f"?cohort__id__exact={obj.pk}"
        return format_html('<a href="{}">Participants</a>', url)

    @admin.display(description="open flags", ordering="open_flag_count")
    def open_flags(self, obj: "WithAnnotations[Cohort, CohortCounts]") -> str:
        url = reverse("admin:risks_riskflag_changelist") + f"?pair__cohort__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.open_flag_count)

    @admin.display(description="")
    def diagnosis_link(self, obj: Cohort) -> str:
        url = reverse("admin:programmes_cohort_diagnosis", args=[obj.pk])
        return format_html('<a href="{}">Diagnosis</a>', url)

    def get_urls(self) -> list[URLPattern]:

        def diagnosis(request: HttpRequest, cohort_id: int) -> HttpResponse:
            return diagnosis_view(request, cohort_id, model_admin=self)

        def risk_backtest(request: HttpRequest, cohort_id: int) -> HttpResponse:
            return backtest_view(request, cohort_id, model_admin=self)

        custom = [
            path(
                "<int:cohort_id>/diagnosis/",
                self.admin_site.admin_view(diagnosis),
                name="programmes_cohort_diagnosis",
            ),
            path(
                "<int:cohort_id>/risk-backtest/",
                self.admin_site.admin_view(risk_backtest),
                name="programmes_cohort_backtest",
            ),
        ]
        return custom + super().get_urls()


def _open_flag_count(pair_field: str) -> Coalesce:
    return count_of(RiskFlag.objects.filter(resolved_at__isnull=True), pair_field)


class CheckInInline(ViewOnlyMixin, admin.TabularInline):
    """The check-ins after two missed or cancelled sessions, and what each person chose."""

    model = CheckIn
    extra = 0
    fields = ["participant_name", "asked_at", "choice", "answered_at"]
    readonly_fields = cast(list[str], fields)

    def get_queryset(self, request: HttpRequest) -> QuerySet[CheckIn]:
        # Each row is titled with str(check_in), which names the participant.
        return super().get_queryset(request).select_related("participant__person")

    @admin.display(description="participant")
    def participant_name(self, obj: CheckIn) -> str:
        return f"{obj.participant.person.full_name} ({obj.participant.get_role_display()})"


class RematchFilter(ChoiceListFilter):
    """Pairs where someone answered "not a good fit" after a session: a re-match request."""

    title = "re-match requested"
    parameter_name = "rematch"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("yes", "Re-match requested"), ("no", "No re-match request")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(counts.rematch_requested())
        if self.value() == "no":
            return queryset.exclude(counts.rematch_requested())
        return queryset


@admin.register(Pair)
class PairAdmin(ProgrammeScopedAdmin, AllowListedFiltersMixin, ViewOnlyMixin, admin.ModelAdmin):
    # "N of M selected" counts only the filtered rows: the total of the whole table would be
    # a second count over every row the user may see, on every page (docs/performance.md).
    show_full_result_count = False
    programme_path = "cohort__programme"
    # Newest first, read from the index on (created_at, id): sorting by cohort (programme
    # name, start date) joined and sorted every pair the user may see before keeping a page
    # (docs/performance.md). Said here, not left to the model, because the success-story
    # autocomplete pages through this list. Sorting by a column on click may still sort them
    # all; filtering by cohort narrows that.
    ordering = ["-created_at", "-pk"]
    # Each row is 17 cells, six of them counted by subqueries: rendering a row costs more
    # than reading it, so a page is 50 pairs, as the at-risk queue's.
    list_per_page = 50
    list_display = [
        "mentee_name",
        "reverse_mentor_name",
        "cohort_name",
        "status",
        "started",
        "paused_or_ended",
        "agreed",
        "held",
        "cancelled",
        "missed",
        "upcoming",
        "notes_logged",
        "last_held",
        "pulses_answered",
        "response_rate",
        "not_a_good_fit",
        "open_flags",
    ]
    list_filter = [
        ("cohort__programme", ProgrammeFilter),
        ("cohort", CohortFilter),
        "status",
        RematchFilter,
    ]
    filter_parameters = field_filter_parameters("cohort__programme__id", "cohort__id", "status") | {
        RematchFilter.parameter_name
    }
    list_select_related = ["cohort__programme", "mentee__person", "reverse_mentor__person"]
    search_fields = ["mentee__person__full_name", "reverse_mentor__person__full_name"]
    fields = [
        "cohort",
        ("mentee_name", "reverse_mentor_name"),
        "status",
        ("started_on", "paused_until", "ended_on"),
        "end_reason",
        "replaces",
        "score",
        "introduced_at",
        "agreed",
        ("held", "cancelled", "missed", "upcoming"),
        ("notes_logged", "last_held"),
        ("pulses_requested", "pulses_submitted", "response_rate"),
        "not_a_good_fit",
        "open_flags",
    ]
    readonly_fields = [
        "mentee_name",
        "reverse_mentor_name",
        "agreed",
        "held",
        "cancelled",
        "missed",
        "upcoming",
        "notes_logged",
        "last_held",
        "pulses_requested",
        "pulses_submitted",
        "response_rate",
        "not_a_good_fit",
        "open_flags",
    ]
    inlines = [AgreementInline, MeetingInline, CheckInInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Pair]:
        # Every figure is its own correlated subquery (pairs/admin.py's count_of): joining
        # sessions to count them would repeat each pair once per session and multiply every
        # other count beside them, and make the database group all pairs before it can pick
        # a page of them. As subqueries, PostgreSQL works them out for the rows shown only.
        agreed = Agreement.objects.filter(
            pair=OuterRef("pk"),
            mentee_accepted_at__isnull=False,
            mentor_accepted_at__isnull=False,
        )
        meetings = Meeting.objects.all()
        return counts.annotate_pair_counts(
            super()
            .get_queryset(request)
            .select_related("cohort__programme", "mentee__person", "reverse_mentor__person")
            .annotate(
                is_agreed=Exists(agreed),
                held_count=count_of(meetings.filter(status=Held), "pair"),
                cancelled_count=count_of(meetings.filter(status=Meeting.Status.CANCELLED), "pair"),
                missed_count=count_of(meetings.filter(status=Meeting.Status.MISSED), "pair"),
                upcoming_count=count_of(
                    meetings.filter(status=Meeting.Status.SCHEDULED, starts_at__gte=Now()),
                    "pair",
                ),
                last_held_at=latest_of(meetings.filter(status=Held), "pair", "starts_at"),
                notes_logged=note_count("pair"),
                open_flag_count=_open_flag_count("pair"),
            )
        )

    @admin.display(description="mentee", ordering="mentee__person__full_name")
    def mentee_name(self, obj: Pair) -> str:
        return obj.mentee.person.full_name

    @admin.display(description="reverse-mentor", ordering="reverse_mentor__person__full_name")
    def reverse_mentor_name(self, obj: Pair) -> str:
        return obj.reverse_mentor.person.full_name

    @admin.display(description="cohort", ordering="cohort__starts_on")
    def cohort_name(self, obj: Pair) -> str:
        return obj.cohort.name

    @admin.display(description="started", ordering="started_on", empty_value="not yet")
    def started(self, obj: Pair) -> str | None:
        return f"{obj.started_on:%-d %b %Y}" if obj.started_on else None

    @admin.display(description="paused until / ended")
    def paused_or_ended(self, obj: Pair) -> str:
        if obj.status == Pair.Status.ENDED and obj.ended_on:
            return f"ended {obj.ended_on:%-d %b %Y}"
        if obj.status == Pair.Status.PAUSED and obj.paused_until:
            return f"paused until {obj.paused_until:%-d %b %Y}"
        return ""

    @admin.display(description="agreement", boolean=True, ordering="is_agreed")
    def agreed(self, obj: "WithAnnotations[Pair, PairCounts]") -> bool:
        return obj.is_agreed

    @admin.display(description="held", ordering="held_count")
    def held(self, obj: "WithAnnotations[Pair, PairCounts]") -> int:
        return obj.held_count

    @admin.display(description="cancelled", ordering="cancelled_count")
    def cancelled(self, obj: "WithAnnotations[Pair, PairCounts]") -> int:
        return obj.cancelled_count

    @admin.display(description="missed", ordering="missed_count")
    def missed(self, obj: "WithAnnotations[Pair, PairCounts]") -> int:
        return obj.missed_count

    @admin.display(description="upcoming", ordering="upcoming_count")
    def upcoming(self, obj: "WithAnnotations[Pair, PairCounts]") -> int:
        return obj.upcoming_count

    @admin.display(description="notes logged", ordering="notes_logged")
    def notes_logged(self, obj: "WithAnnotations[Pair, PairCounts]") -> int:
        return obj.notes_logged

    @admin.display(description="last held", ordering="last_held_at", empty_value="never")
    def last_held(self, obj: "WithAnnotations[Pair, PairCounts]") -> str | None:
        return f"{timezone.localtime(obj.last_held_at):%-d %b %Y}" if obj.last_held_at else None

    @admin.display(description="pulses requested", ordering="pulses_requested")
    def pulses_requested(self, obj: "WithAnnotations[Pair, PairCounts]") -> int:
        return obj.pulses_requested

    @admin.display(description="pulses submitted", ordering="pulses_submitted")
    def pulses_submitted(self, obj: "WithAnnotations[Pair, PairCounts]") -> int:
        return obj.pulses_submitted

    @admin.display(description="pulses submitted", ordering="pulses_submitted")
    def pulses_answered(self, obj: "WithAnnotations[Pair, PairCounts]") -> str:
        return f"{obj.pulses_submitted} of {obj.pulses_requested}"

    @admin.display(description="response rate", ordering=counts.RATE_ORDERING)
    def response_rate(self, obj: "WithAnnotations[Pair, PairCounts]") -> str:
        return counts.format_rate(counts.rate_of(obj))

    @admin.display(description="not a good fit", ordering="not_a_good_fit")
    def not_a_good_fit(self, obj: "WithAnnotations[Pair, PairCounts]") -> str:
        # A "not a good fit" answer is a request to be re-matched: make it stand out.
        if obj.not_a_good_fit:
            return format_html("<strong>{} (re-match requested)</strong>", obj.not_a_good_fit)
        return "0"

    @admin.display(description="open flags", ordering="open_flag_count")
    def open_flags(self, obj: "WithAnnotations[Pair, PairCounts]") -> str:
        # The at-risk queue, narrowed to this pair's flags.
        url = reverse("admin:risks_riskflag_changelist") + f"?pair__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.open_flag_count)
