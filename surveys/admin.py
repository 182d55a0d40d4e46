from typing import TYPE_CHECKING, TypedDict, cast

from django.contrib import admin
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from lib.admin import ViewOnlyMixin
from lib.admin_filters import (
    AllowListedFiltersMixin,
    ChoiceListFilter,
    field_filter_parameters,
)
from lib.admin_paging import CappedCountPaginator
from programmes.admin import CohortFilter
from programmes.scoping import ProgrammeScopedAdmin
from surveys.models import LinkRequest, NpsResponse, Pulse

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class Filled(TypedDict, total=False):  # _is_filled annotations
        has_learning: bool
        has_action: bool
        has_why: bool


@admin.register(LinkRequest)
class LinkRequestAdmin(AllowListedFiltersMixin, admin.ModelAdmin):
    """Read-only: who asked for their links again, and who hit the limit. Rows can be deleted
    (old ones hold personal data; see LinkRequest)."""

    list_display = ["requested_at", "email", "person", "ip_address", "rate_limited", "sent_at"]
    list_filter = ["rate_limited", ("person", admin.EmptyFieldListFilter), "requested_at"]
    # requested_at's "any date / today / past 7 days …" links are ranges on it.
    filter_parameters = field_filter_parameters("rate_limited") | {
        "person__isempty",
        "requested_at__gte",
        "requested_at__lt",
    }
    list_select_related = ["person"]
    search_fields = ["email", "ip_address"]
    date_hierarchy = "requested_at"
    readonly_fields = ["email", "person", "ip_address", "requested_at", "rate_limited", "sent_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: LinkRequest | None = None) -> bool:
        return False


# Pulses and programme NPS answers: managers see who answered and when, and whether something
# was logged, never what. The free text (learning, action, why), the safety answer and the NPS
# score are not shown, not searched, and cannot be filtered on: the admin otherwise accepts
# any lookup on a model's own fields in the URL (?safety__lte=2), which would let a row count
# give an answer away, so each list accepts only its declared filters
# (lib/admin_filters.py). Both are view-only: answers belong to the participants.


def _is_filled(field: str) -> ExpressionWrapper:
    return ExpressionWrapper(~Q(**{field: ""}), output_field=BooleanField())


class AnswersAdmin(AllowListedFiltersMixin, ViewOnlyMixin, admin.ModelAdmin):
    @admin.display(description="participant", ordering="participant__person__full_name")
    def participant_name(self, obj: Pulse | NpsResponse) -> str:
        return obj.participant.person.full_name


class LearningLoggedFilter(ChoiceListFilter):
    title = "learning logged"
    parameter_name = "learning_logged"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(has_learning=self.value() == "yes")
        return queryset


@admin.register(Pulse)
class PulseAdmin(ProgrammeScopedAdmin, AnswersAdmin):
    # "N of M selected" counts only the filtered rows: the total of the whole table would be
    # a second count over every row the user may see, on every page (docs/performance.md).
    show_full_result_count = False
    # Counts at most 10,000 pulses: a manager's exact count joins every pulse of the
    # programme to its session, pair and cohort (lib/admin_paging.py).
    paginator = CappedCountPaginator
    programme_path = "meeting__pair__cohort__programme"

    list_display = [
        "participant_name",
        "role",
        "session_date",
        "held",
        "learning_logged",
        "action_committed",
        "shared_with_partner",
        "submitted_at",
    ]
    list_filter = [("meeting__pair__cohort", CohortFilter), "held", LearningLoggedFilter, "shared"]
    filter_parameters = field_filter_parameters("meeting__pair__cohort__id", "held", "shared") | {
        LearningLoggedFilter.parameter_name
    }
    list_select_related = ["participant__person", "meeting"]
    search_fields = ["participant__person__full_name"]
    # The pulse's own copy of its session's time, indexed with the id: a page reads the index
    # instead of joining and sorting every pulse with its session (docs/performance.md).
    ordering = ["-session_starts_at", "-id"]
    fields = [
        "participant_name",
        "role",
        "meeting",
        "held",
        "not_held",
        "learning_logged",
        "action_committed",
        "shared_with_partner",
        "submitted_at",
    ]
    readonly_fields = cast(list[str], fields)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Pulse]:
        return (
            super()
            .get_queryset(request)
            .select_related(
                "participant__person",
                "meeting__pair__mentee__person",
                "meeting__pair__reverse_mentor__person",
            )
            .annotate(has_learning=_is_filled("learning"), has_action=_is_filled("action"))
        )

    @admin.display(description="side", ordering="participant__role")
    def role(self, obj: Pulse) -> str:
        return obj.participant.get_role_display()

    @admin.display(description="session", ordering="session_starts_at")
    def session_date(self, obj: Pulse) -> str:
        """The session's time this answer was about (as the session's own, unless it was
        moved after a "moved" answer)."""
        return f"{timezone.localtime(obj.session_starts_at):%-d %b %Y}"

    @admin.display(description="learning logged", boolean=True, ordering="has_learning")
    def learning_logged(self, obj: "WithAnnotations[Pulse, Filled]") -> bool:
        return obj.has_learning

    @admin.display(description="action committed", boolean=True, ordering="has_action")
    def action_committed(self, obj: "WithAnnotations[Pulse, Filled]") -> bool:
        return obj.has_action

    @admin.display(description="shared with partner", boolean=True, ordering="shared")
    def shared_with_partner(self, obj: Pulse) -> bool:
        return obj.shared


@admin.register(NpsResponse)
class NpsResponseAdmin(ProgrammeScopedAdmin, AnswersAdmin):
    """Who answered the programme questions, and when; never the score or the why (the
    cohort list counts the answers; scores are reported only as an aggregate)."""

    # "N of M selected" counts only the filtered rows: the total of the whole table would be
    # a second count over every row the user may see, on every page (docs/performance.md).
    show_full_result_count = False
    paginator = CappedCountPaginator  # as for pulses
    programme_path = "participant__cohort__programme"

    list_display = ["participant_name", "cohort_name", "moment", "why_given", "submitted_at"]
    list_filter = [("participant__cohort", CohortFilter), "moment"]
    filter_parameters = field_filter_parameters("participant__cohort__id", "moment")
    list_select_related = ["participant__person", "participant__cohort"]
    search_fields = ["participant__person__full_name"]
    ordering = ["-submitted_at", "-id"]  # from the index on both
    fields = ["participant_name", "cohort_name", "moment", "why_given", "submitted_at"]
    readonly_fields = cast(list[str], fields)

    def get_queryset(self, request: HttpRequest) -> QuerySet[NpsResponse]:
        return (
            super()
            .get_queryset(request)
            .select_related("participant__person", "participant__cohort")
            .annotate(has_why=_is_filled("why"))
        )

    @admin.display(description="cohort", ordering="participant__cohort__starts_on")
    def cohort_name(self, obj: NpsResponse) -> str:
        return obj.participant.cohort.name

    @admin.display(description="why given", boolean=True, ordering="has_why")
    def why_given(self, obj: "WithAnnotations[NpsResponse, Filled]") -> bool:
        return obj.has_why
