from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from programmes.models import Cohort, KeySkill, Person, Programme, Topic


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
        ("People", {"fields": ["managers", "sponsors"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Programme]:
        return super().get_queryset(request).annotate(cohort_count=Count("cohorts"))

    @admin.display(description="cohorts", ordering="cohort_count")
    def cohort_count(self, obj: Programme) -> int:
        return obj.cohort_count


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ["name", "programme", "starts_on", "ends_on", "status"]
    list_filter = ["status", "programme"]
    list_select_related = ["programme"]
    search_fields = ["name", "programme__name"]
    date_hierarchy = "starts_on"


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["full_name", "email", "job_title", "department", "manager", "time_zone"]
    list_filter = ["department", "language"]
    list_select_related = ["manager"]
    search_fields = ["full_name", "email", "job_title", "department"]
    autocomplete_fields = ["manager"]
