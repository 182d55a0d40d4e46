from collections.abc import Callable
from functools import partial
from typing import cast

from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html

from lib.admin_filters import AllowListedFiltersMixin, field_filter_parameters
from matching import admin_late, admin_views
from matching.engine import DEFAULT_WEIGHTS
from matching.forms import MatchingPolicyForm
from matching.models import MatchingPolicy, MatchingRun, PairRule
from programmes.admin import ProgrammeFilter
from programmes.scoping import ProgrammeScopedAdmin, is_org_admin, programme_q


@admin.register(MatchingPolicy)
class MatchingPolicyAdmin(ProgrammeScopedAdmin, admin.ModelAdmin):
    """Weights per programme. A programme without a policy gets the defaults the first time
    it is matched; its policy then appears here."""

    programme_path = "programme"
    form = MatchingPolicyForm
    list_display = [
        "programme",
        *(f"weight_{name}" for name in DEFAULT_WEIGHTS),
        "allow_without_shared_time",
        "protect_worst_off",
    ]
    list_select_related = ["programme"]
    list_filter = [("programme", ProgrammeFilter)]
    search_fields = ["programme__name"]
    autocomplete_fields = ["programme"]
    fieldsets = [
        (None, {"fields": ["programme"]}),
        (
            "Weights",
            {
                "description": (
                    "Each criterion's weight, from 0 to 1. Weights are relative: they are "
                    "scaled to sum to one, so only their proportions matter."
                ),
                "fields": [f"weight_{name}" for name in DEFAULT_WEIGHTS],
            },
        ),
        ("Options", {"fields": ["allow_without_shared_time", "protect_worst_off"]}),
    ]


@admin.register(PairRule)
class PairRuleAdmin(ProgrammeScopedAdmin, AllowListedFiltersMixin, admin.ModelAdmin):
    """Locks and exclusions recorded from a review, and blocks for good; delete one to undo.
    A manager sees their cohorts' rules, and the blocks for good of people who take part in
    their programmes."""

    programme_path = "cohort__programme"

    list_display = [
        "kind",
        "cohort",
        "mentee",
        "reverse_mentor",
        "note",
        "created_by",
        "created_at",
    ]
    list_filter = ["kind"]
    filter_parameters = field_filter_parameters("kind")
    list_select_related = ["cohort__programme", "mentee", "reverse_mentor", "created_by"]
    search_fields = ["mentee__full_name", "reverse_mentor__full_name", "cohort__name"]
    autocomplete_fields = ["mentee", "reverse_mentor"]
    raw_id_fields = ["cohort"]
    readonly_fields = ["created_by", "created_at"]

    def scope_q(self, request: HttpRequest) -> Q:
        user = request.user
        in_theirs = programme_q("mentee__participations__cohort__programme", user) | programme_q(
            "reverse_mentor__participations__cohort__programme", user
        )
        blocks = PairRule.objects.filter(in_theirs, cohort__isnull=True).values("pk")
        return super().scope_q(request) | Q(pk__in=blocks)

    def save_model(self, request: HttpRequest, obj: PairRule, form: object, change: bool) -> None:
        if not change:
            obj.created_by = cast(User, request.user)
        super().save_model(request, obj, form, change)


@admin.register(MatchingRun)
class MatchingRunAdmin(ProgrammeScopedAdmin, AllowListedFiltersMixin, admin.ModelAdmin):
    """Runs are started from the "Start a matching run" page and reviewed on their own page:
    there is no add or change form."""

    programme_path = "cohort__programme"

    list_display = [
        "cohort",
        "status",
        "progress_display",
        "matched",
        "waiting",
        "total",
        "lowest",
        "started",
    ]
    list_filter = ["status", ("cohort__programme", ProgrammeFilter)]
    filter_parameters = field_filter_parameters("status", "cohort__programme__id")
    list_select_related = ["cohort__programme", "created_by"]
    search_fields = ["cohort__name", "cohort__programme__name"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="progress", ordering="progress")
    def progress_display(self, obj: MatchingRun) -> str:
        if obj.status in admin_views.IN_PROGRESS:
            return format_html(
                '<progress max="100" value="{}">{} %</progress> {} %',
                obj.progress,
                obj.progress,
                obj.progress,
            )
        return f"{obj.progress} %"

    @admin.display(description="matched", ordering="matched_count")
    def matched(self, obj: MatchingRun) -> int:
        return obj.matched_count

    @admin.display(description="waiting", ordering="waiting_count")
    def waiting(self, obj: MatchingRun) -> int:
        return obj.waiting_count

    @admin.display(description="started", ordering="created_at")
    def started(self, obj: MatchingRun) -> str:
        when = formats.date_format(timezone.localtime(obj.created_at), "j M Y H:i")
        return f"{when} by {obj.created_by}" if obj.created_by else when

    @admin.display(description="total score", ordering="total_score")
    def total(self, obj: MatchingRun) -> str:
        return "–" if obj.total_score is None else f"{obj.total_score:.2f}"

    @admin.display(description="lowest score", ordering="lowest_score")
    def lowest(self, obj: MatchingRun) -> str:
        return "–" if obj.lowest_score is None else f"{obj.lowest_score:.2f}"

    def get_queryset(self, request: HttpRequest) -> QuerySet[MatchingRun]:
        return super().get_queryset(request).select_related("cohort__programme", "created_by")

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        if object_id.isdigit():
            if not is_org_admin(request.user) and not (
                self.get_queryset(request).filter(pk=int(object_id)).exists()
            ):
                raise Http404  # another programme's run, as if there were none
            return HttpResponseRedirect(
                reverse("admin:matching_matchingrun_review", args=[int(object_id)])
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self) -> list[URLPattern]:
        def view(function: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
            return self.admin_site.admin_view(partial(function, site=self.admin_site))

        name = "matching_matchingrun_"
        custom = [
            path("start/", view(admin_views.start_run), name=name + "start"),
            path("<int:run_id>/review/", view(admin_views.review), name=name + "review"),
            path("<int:run_id>/progress/", view(admin_views.progress), name=name + "progress"),
            path("<int:run_id>/rule/", view(admin_views.pair_rule), name=name + "rule"),
            path("<int:run_id>/partner/", view(admin_views.change_partner), name=name + "partner"),
            path("<int:run_id>/swap/", view(admin_views.swap), name=name + "swap"),
            path("<int:run_id>/rerun/", view(admin_views.rerun), name=name + "rerun"),
            path("<int:run_id>/approve/", view(admin_views.approve), name=name + "approve"),
            path(
                "match/<int:participant_id>/", view(admin_late.match_one), name=name + "match_one"
            ),
        ]
        return custom + super().get_urls()
