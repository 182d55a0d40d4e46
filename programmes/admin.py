"""The admin of the directory and participants: people, who takes part in which cohort, their
intake's progress (never its answers) and the people import. The programme, cohort and pair
lists, which show figures from every app, are in cockpit/admin.py."""

from typing import cast

from auditlog.models import LogEntry
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import (
    Case,
    CharField,
    QuerySet,
    Value,
    When,
)
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse

from audit.models import AuditEntry
from lib.admin_filters import (
    AllowListedFiltersMixin,
    ChoiceListFilter,
    field_filter_parameters,
)
from programmes import admin_organisation, services  # noqa: F401  (registers its admin)
from programmes.admin_audit import AuditEntryAdmin
from programmes.admin_import import import_people
from programmes.admin_users import OrganisationUserAdmin
from programmes.models import Cohort, KeySkill, Participant, Person, Programme, Topic
from programmes.scoping import ProgrammeScopedAdmin, is_org_admin, programme_q, scope_choices


class KeySkillInline(admin.TabularInline):
    model = KeySkill
    extra = 0
    fields = ["position", "name"]


class TopicInline(admin.TabularInline):
    model = Topic
    extra = 0
    fields = ["position", "title", "description"]


class CohortInline(admin.TabularInline):
    model = Cohort
    extra = 0
    fields = ["name", "starts_on", "ends_on", "status"]
    show_change_link = True


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    """The organisation's directory, shared by every programme. A person's participations
    are shown only through the participants' list, scoped to the reader's programmes; so a
    manager may delete a person only if they take part in none of the other programmes (the
    page that would list those participations is refused, naming none)."""

    # "N of M selected" counts only the filtered rows: the total of the whole table would be
    # a second count over every row the user may see, on every page (docs/performance.md).
    show_full_result_count = False
    # By name, then id in the same direction, so the (full_name, id) index gives the page
    # (the admin adds "-pk" to a bare name, which no index serves alongside it).
    ordering = ["full_name", "pk"]
    list_display = ["full_name", "email", "job_title", "department", "manager", "time_zone"]
    list_filter = ["department", "language"]
    list_select_related = ["manager"]
    search_fields = ["full_name", "email", "job_title", "department"]
    autocomplete_fields = ["manager"]

    def has_delete_permission(self, request: HttpRequest, obj: Person | None = None) -> bool:
        if not super().has_delete_permission(request, obj):
            return False
        if obj is None or is_org_admin(request.user):
            return True
        elsewhere = obj.participations.exclude(programme_q("cohort__programme", request.user))
        return not elsewhere.exists()


class CohortFilter(admin.RelatedFieldListFilter):
    """Cohorts are named with their programme: load both in one query, not one per cohort."""

    def field_choices(  # type: ignore[override]  # the choices are primary keys, not str
        self, field: object, request: HttpRequest, model_admin: admin.ModelAdmin
    ) -> list[tuple[int, str]]:
        cohorts = scope_choices(Cohort.objects.select_related("programme"), request.user)
        return [(c.pk, str(c)) for c in cohorts]


class ProgrammeFilter(admin.RelatedFieldListFilter):
    """The programmes the user may see (all of them for an organisation administrator)."""

    def field_choices(  # type: ignore[override]  # the choices are primary keys, not str
        self, field: object, request: HttpRequest, model_admin: admin.ModelAdmin
    ) -> list[tuple[int, str]]:
        return [(p.pk, str(p)) for p in scope_choices(Programme.objects.all(), request.user)]


class IntakeStateFilter(ChoiceListFilter):
    title = "intake"
    parameter_name = "intake"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("complete", "Complete"), ("started", "Started"), ("not_started", "Not started")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in {"complete", "started", "not_started"}:
            return queryset.filter(intake_state=self.value())
        return queryset


@admin.register(Participant)
class ParticipantAdmin(ProgrammeScopedAdmin, AllowListedFiltersMixin, admin.ModelAdmin):
    """Managers see where each participant stands, never what they wrote: the intake's
    answers are not shown anywhere in the admin, nor searched, nor filtered on."""

    # "N of M selected" counts only the filtered rows: the total of the whole table would be
    # a second count over every row the user may see, on every page (docs/performance.md).
    show_full_result_count = False
    programme_path = "cohort__programme"
    # Newest first, read from the index on (created_at, id): the model's order (cohort, role,
    # name) joins and sorts every participant the user may see before keeping a page
    # (docs/performance.md). A click on a column still sorts them all; the cohort list's
    # link narrows the list to one cohort.
    ordering = ["-created_at", "-pk"]

    list_display = [
        "person",
        "role",
        "cohort_name",
        "status",
        "intake_status",
        "invitation_sent_at",
        "training_completed_on",
    ]
    list_filter = [
        ("cohort__programme", ProgrammeFilter),
        ("cohort", CohortFilter),
        "role",
        "status",
        IntakeStateFilter,
    ]
    filter_parameters = field_filter_parameters(
        "cohort__programme__id", "cohort__id", "role", "status"
    ) | {IntakeStateFilter.parameter_name}
    list_select_related = ["person", "cohort__programme"]
    search_fields = ["person__full_name", "person__email", "person__department"]
    autocomplete_fields = ["person"]
    readonly_fields = ["invitation_sent_at", "intake_status"]
    fields = [
        "cohort",
        "person",
        "role",
        "capacity",
        "status",
        "training_completed_on",
        "invitation_sent_at",
        "intake_status",
    ]
    actions = ["send_intake_invitations", "match_now"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Participant]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                intake_state=Case(
                    When(intake__submitted_at__isnull=False, then=Value("complete")),
                    When(intake__draft_saved_at__isnull=False, then=Value("started")),
                    default=Value("not_started"),
                    output_field=CharField(),
                )
            )
        )

    @admin.display(description="cohort", ordering="cohort__starts_on")
    def cohort_name(self, obj: Participant) -> str:
        return obj.cohort.name

    @admin.display(description="intake", ordering="intake_state")
    def intake_status(self, obj: Participant) -> str:
        return {"complete": "Complete", "started": "Started"}.get(
            getattr(obj, "intake_state", ""), "Not started"
        )

    @admin.action(description="Send intake invitations")
    def send_intake_invitations(self, request: HttpRequest, queryset: QuerySet) -> None:
        result = services.participants_send_intake_invitations(
            participants=queryset.select_related("cohort__programme"), by=cast(User, request.user)
        )
        self.message_user(request, f"{result.queued} invitation(s) queued.", messages.SUCCESS)
        if result.already_invited:
            self.message_user(
                request,
                f"{result.already_invited} already invited: not sent again.",
                messages.INFO,
            )
        if result.not_open:
            self.message_user(
                request,
                f"{result.not_open} skipped: withdrawn, or their cohort's intake is closed.",
                messages.WARNING,
            )

    @admin.action(description="Match this participant now")
    def match_now(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """To the matching's preview for one participant (a late intake, a freed place)."""
        chosen = list(queryset.values_list("pk", flat=True)[:2])
        if len(chosen) != 1:
            self.message_user(
                request,
                "Choose one participant: each is matched after a preview.",
                messages.WARNING,
            )
            return None
        return HttpResponseRedirect(
            reverse("admin:matching_matchingrun_match_one", args=[chosen[0]])
        )

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "import/",
                self.admin_site.admin_view(import_people),
                name="programmes_participant_import",
            ),
        ]
        return custom + super().get_urls()


# Accounts: organisation administrators manage them, within what only superusers may do.
admin.site.unregister(User)
admin.site.register(User, OrganisationUserAdmin)

# The trail is audit.AuditEntry; django-auditlog's own entries, which nothing writes, are
# not shown (nor would their admin be scoped to anyone's programmes).
if admin.site.is_registered(LogEntry):
    admin.site.unregister(LogEntry)
admin.site.register(AuditEntry, AuditEntryAdmin)
