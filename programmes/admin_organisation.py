"""The organisation's settings in the admin: organisation administrators only. A programme
manager holds none of its permissions (programmes/roles.py), so it is not in their sidebar and
its pages answer 403, as adding a programme does. Its one row is never added nor deleted."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from programmes.models import OrganisationSettings
from programmes.scoping import is_org_admin


@admin.register(OrganisationSettings)
class OrganisationSettingsAdmin(admin.ModelAdmin):
    fieldsets = [
        ("Matching", {"fields": ["max_mentoring_load"]}),
        ("Sponsors' reporting", {"fields": ["min_group_size"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrganisationSettings]:
        # The row is made if a flushed database lost it, so the list always has it to open.
        OrganisationSettings.load()
        return super().get_queryset(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_org_admin(request.user) and super().has_module_permission(request)

    def has_view_permission(
        self, request: HttpRequest, obj: OrganisationSettings | None = None
    ) -> bool:
        return is_org_admin(request.user) and super().has_view_permission(request, obj)

    def has_change_permission(
        self, request: HttpRequest, obj: OrganisationSettings | None = None
    ) -> bool:
        return is_org_admin(request.user) and super().has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: OrganisationSettings | None = None
    ) -> bool:
        return False
