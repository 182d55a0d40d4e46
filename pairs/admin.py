"""The admin of sessions and guides, and the inlines the pair page of the admin shows
(cockpit/admin.py)."""

from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django import forms
from django.contrib import admin
from django.db.models import (
    Count,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone

from lib.admin import ViewOnlyMixin
from lib.admin_filters import (
    AllowListedFiltersMixin,
    ChoiceListFilter,
    field_filter_parameters,
)
from lib.admin_paging import CappedCountPaginator
from pairs.models import Agreement, Guide, Meeting, Note
from programmes.admin import CohortFilter, ProgrammeFilter
from programmes.admin_defaults import OrganisationDefaultsAdmin
from programmes.models import Topic
from programmes.scoping import ProgrammeScopedAdmin, scope_choices

# Pairs and sessions. Managers see where each pair stands (status, dates, how many sessions
# were held, cancelled or missed, whether notes are being logged, how many pulses were
# answered and any "not a good fit") but never what anyone wrote: Note is not registered,
# and no page here reads Note.text or a pulse's answers. Pairs come from matching runs and
# sessions are logged by the pair themselves, so both are view-only here.

Held = Meeting.Status.HELD
PAIR_PEOPLE = ["pair__mentee__person", "pair__reverse_mentor__person"]

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class NotesLogged(TypedDict):
        notes_logged: int


def count_of(rows: QuerySet, outer_field: str) -> Coalesce:
    """How many of ``rows`` point at the outer row through ``outer_field``, as a subquery:
    joining them alongside meetings would multiply the meeting counts."""
    counted = (
        rows.filter(**{outer_field: OuterRef("pk")})
        .order_by()
        .values(outer_field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def latest_of(rows: QuerySet, outer_field: str, field: str) -> Subquery:
    """The latest ``field`` of ``rows`` pointing at the outer row through ``outer_field`` (None
    when none), as a subquery, for the same reason as ``count_of``."""
    latest = rows.filter(**{outer_field: OuterRef("pk"), f"{field}__isnull": False})
    return Subquery(latest.order_by(f"-{field}").values(field)[:1])


def note_count(pair_field: str) -> Coalesce:
    return count_of(Note.objects.all(), pair_field)


class AgreementInline(ViewOnlyMixin, admin.TabularInline):
    model = Agreement
    extra = 0
    fields = [
        "number",
        "agreed",
        "driver",
        "cadence",
        "meeting_mode",
        "cancellation",
        "pledge",
        "proposed_by",
        "proposed_at",
        "mentee_accepted_at",
        "mentor_accepted_at",
    ]
    readonly_fields = cast(list[str], fields)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Agreement]:
        # Each row is titled with str(agreement), which names the pair's people.
        return super().get_queryset(request).select_related(*PAIR_PEOPLE)

    @admin.display(description="agreed", boolean=True)
    def agreed(self, obj: Agreement) -> bool:
        return obj.agreed


class MeetingInline(ViewOnlyMixin, admin.TabularInline):
    """The pair's sessions: when, what happened and who led; for notes, only how many."""

    model = Meeting
    verbose_name = "session"
    verbose_name_plural = "sessions"
    extra = 0
    fields = [
        "starts_at",
        "duration_minutes",
        "status",
        "cancelled_by",
        "topic",
        "led_by",
        "notes_logged",
    ]
    readonly_fields = cast(list[str], fields)
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Meeting]:
        return (
            super()
            .get_queryset(request)
            .select_related("topic", *PAIR_PEOPLE)
            .annotate(notes_logged=note_count("meeting"))
        )

    @admin.display(description="notes logged")
    def notes_logged(self, obj: "WithAnnotations[Meeting, NotesLogged]") -> int:
        return obj.notes_logged


class SessionWhenFilter(ChoiceListFilter):
    """When the session is, in a few fixed spans around now. It stands in for a date
    hierarchy, whose list of years or months is a DISTINCT over every session the user may see
    on every page; each span here is a range of the (starts_at, id) index."""

    title = "when"
    parameter_name = "when"
    SPANS = {
        "upcoming": ("Upcoming", timedelta(0), None),
        "next_7_days": ("Next 7 days", timedelta(0), timedelta(days=7)),
        "past_7_days": ("Past 7 days", timedelta(days=-7), timedelta(0)),
        "past_30_days": ("Past 30 days", timedelta(days=-30), timedelta(0)),
        "earlier": ("More than 30 days ago", None, timedelta(days=-30)),
    }

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [(value, label) for value, (label, _, _) in self.SPANS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        span = self.SPANS.get(str(self.value()))
        if span is None:
            return queryset
        _, start, end = span
        now = timezone.now()
        if start is not None:
            queryset = queryset.filter(starts_at__gte=now + start)
        if end is not None:
            queryset = queryset.filter(starts_at__lt=now + end)
        return queryset


@admin.register(Meeting)
class MeetingAdmin(ProgrammeScopedAdmin, AllowListedFiltersMixin, ViewOnlyMixin, admin.ModelAdmin):
    # "N of M selected" counts only the filtered rows: the total of the whole table would be
    # a second count over every row the user may see, on every page (docs/performance.md).
    show_full_result_count = False
    # Counts at most 10,000 sessions: a manager's exact count joins every session of the
    # programme to its pair and cohort (lib/admin_paging.py).
    paginator = CappedCountPaginator
    programme_path = "pair__cohort__programme"
    list_display = [
        "pair",
        "starts_at",
        "duration_minutes",
        "status",
        "cancelled_by",
        "topic",
        "led_by",
        "notes_logged",
    ]
    list_filter = [
        SessionWhenFilter,
        "status",
        "cancelled_by",
        ("pair__cohort__programme", ProgrammeFilter),
        ("pair__cohort", CohortFilter),
    ]
    filter_parameters = field_filter_parameters(
        "status", "cancelled_by", "pair__cohort__programme__id", "pair__cohort__id"
    ) | {SessionWhenFilter.parameter_name}
    list_select_related = ["pair__mentee__person", "pair__reverse_mentor__person", "topic"]
    search_fields = [
        "pair__mentee__person__full_name",
        "pair__reverse_mentor__person__full_name",
    ]
    # No date hierarchy (SessionWhenFilter instead): its years or months are a DISTINCT over
    # every session, and its first and last dates another scan, on every page. Newest first,
    # from the (starts_at, id) index.
    ordering = ["-starts_at", "-pk"]
    # cancel_reason is left out: it is typed by a participant, for their partner.
    fields = [
        "pair",
        "starts_at",
        "duration_minutes",
        "status",
        "cancelled_by",
        "scheduled_by",
        "topic",
        "led_by",
        "notes_logged",
        "created_at",
        "updated_at",
    ]
    readonly_fields = ["notes_logged", "created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Meeting]:
        return (
            super()
            .get_queryset(request)
            .select_related("pair__mentee__person", "pair__reverse_mentor__person", "topic")
            .annotate(notes_logged=note_count("meeting"))
        )

    @admin.display(description="notes logged", ordering="notes_logged")
    def notes_logged(self, obj: "WithAnnotations[Meeting, NotesLogged]") -> int:
        return obj.notes_logged


@admin.register(Guide)
class GuideAdmin(OrganisationDefaultsAdmin, admin.ModelAdmin):
    """Role cards, the first-meeting guide and agenda templates. Guides without a programme
    are the organisation's defaults, which every programme sees and only organisation
    administrators change; a manager reads them and adds their own programmes' guides
    (programmes/admin_defaults.py)."""

    list_display = ["title", "kind", "role", "fits_topic", "programme_or_default", "position"]
    list_filter = ["kind", "role", ("programme", ProgrammeFilter)]
    list_select_related = ["programme", "topic"]
    search_fields = ["title", "topic_title", "body"]
    fields = ["programme", "kind", "role", "topic", "topic_title", "title", "body", "position"]

    def get_form(
        self, request: HttpRequest, obj: Guide | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        form = super().get_form(request, obj, change=change, **kwargs)
        if "topic" in form.base_fields:
            # Topics are named by title only: say whose road map each one is on.
            topics = scope_choices(Topic.objects.select_related("programme"), request.user)
            topic = cast(forms.ModelChoiceField, form.base_fields["topic"])
            topic.queryset = topics
            topic.label_from_instance = lambda t: f"{t.programme} – {t.title}"  # type: ignore[assignment]  # this field only
        return form

    @admin.display(description="topic", ordering="topic_title")
    def fits_topic(self, obj: Guide) -> str:
        return obj.topic.title if obj.topic else obj.topic_title
