from django.contrib import admin, messages
from django.db.models import Case, CharField, Count, Q, QuerySet, Value, When
from django.http import HttpRequest
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from programmes import services
from programmes.models import Cohort, KeySkill, Participant, Person, Programme, Topic


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


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "cohort_count", "sessions_per_month_target"]
    list_filter = ["status"]
    search_fields = ["name", "purpose"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["sponsors", "managers"]
    inlines = [KeySkillInline, TopicInline, CohortInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "purpose", "status"]}),
        ("Targets and reporting", {"fields": ["sessions_per_month_target", "min_group_size"]}),
        (
            "At-risk thresholds",
            {
                "classes": ["collapse"],
                "fields": [
                    "risk_missed_in_a_row",
                    ("risk_missed_in_window", "risk_window_days"),
                    "risk_days_without_session",
                    "risk_held_without_pulse",
                    "risk_safety_at_most",
                    ("risk_reversion_count", "risk_reversion_window"),
                ],
            },
        ),
        ("People", {"fields": ["managers", "sponsors"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Programme]:
        return super().get_queryset(request).annotate(cohort_count=Count("cohorts"))

    @admin.display(description="cohorts", ordering="cohort_count")
    def cohort_count(self, obj: Programme) -> int:
        return obj.cohort_count


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "programme",
        "dates",
        "status",
        "mentee_count",
        "mentor_count",
        "intakes_complete",
        "participants_link",
    ]
    list_filter = ["status", "programme"]
    list_select_related = ["programme"]
    search_fields = ["name", "programme__name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Cohort]:
        active = ~Q(participants__status=Participant.Status.WITHDRAWN)
        return (
            super()
            .get_queryset(request)
            .annotate(
                mentee_count=Count(
                    "participants",
                    filter=active & Q(participants__role=Participant.Role.MENTEE),
                ),
                mentor_count=Count(
                    "participants",
                    filter=active & Q(participants__role=Participant.Role.REVERSE_MENTOR),
                ),
                intakes_done=Count(
                    "participants",
                    filter=active & Q(participants__intake__submitted_at__isnull=False),
                ),
            )
        )

    @admin.display(description="dates", ordering="starts_on")
    def dates(self, obj: Cohort) -> str:
        return f"{obj.starts_on:%-d %b %Y} – {obj.ends_on:%-d %b %Y}"

    @admin.display(description="mentees", ordering="mentee_count")
    def mentee_count(self, obj: Cohort) -> int:
        return obj.mentee_count

    @admin.display(description="reverse-mentors", ordering="mentor_count")
    def mentor_count(self, obj: Cohort) -> int:
        return obj.mentor_count

    @admin.display(description="intakes complete", ordering="intakes_done")
    def intakes_complete(self, obj: Cohort) -> str:
        return f"{obj.intakes_done} of {obj.mentee_count + obj.mentor_count}"

    @admin.display(description="")
    def participants_link(self, obj: Cohort) -> str:
        url = reverse("admin:programmes_participant_changelist") + f"?cohort__id__exact={obj.pk}"
        return format_html('<a href="{}">Participants</a>', url)


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["full_name", "email", "job_title", "department", "manager", "time_zone"]
    list_filter = ["department", "language"]
    list_select_related = ["manager"]
    search_fields = ["full_name", "email", "job_title", "department"]
    autocomplete_fields = ["manager"]


class CohortFilter(admin.RelatedFieldListFilter):
    """Cohorts are named with their programme: load both in one query, not one per cohort."""

    def field_choices(
        self, field: object, request: HttpRequest, model_admin: admin.ModelAdmin
    ) -> list[tuple[int, str]]:
        return [(c.pk, str(c)) for c in Cohort.objects.select_related("programme")]


class IntakeStateFilter(admin.SimpleListFilter):
    title = "intake"
    parameter_name = "intake"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("complete", "Complete"), ("started", "Started"), ("not_started", "Not started")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in {"complete", "started", "not_started"}:
            return queryset.filter(intake_state=self.value())
        return queryset


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    """Managers see where each participant stands, never what they wrote: the intake's
    answers are not shown anywhere in the admin."""

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
        "cohort__programme",
        ("cohort", CohortFilter),
        "role",
        "status",
        IntakeStateFilter,
    ]
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
    actions = ["send_intake_invitations"]

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
            participants=queryset.select_related("cohort")
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

    def get_urls(self) -> list[URLPattern]:
        from programmes.admin_import import import_people

        custom = [
            path(
                "import/",
                self.admin_site.admin_view(import_people),
                name="programmes_participant_import",
            ),
        ]
        return custom + super().get_urls()
