"""User accounts, which organisation administrators manage: they make someone staff, put them
in the managers' or administrators' group, deactivate an account, set a password. What only a
superuser may do stays theirs: make a superuser, give a permission of its own, and change or
delete a superuser's account (whose password, once set, would be theirs to use). Each access
granted or taken away is one entry of the audit trail, the organisation's own."""

from typing import Any

from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group, User
from django.forms import ModelForm
from django.http import HttpRequest

from audit.models import AuditEntry
from audit.records import audit_record

# A user's flags that grant access, and how the trail names each.
ACCESS_FLAGS = {
    "is_active": "active account",
    "is_staff": "admin access",
    "is_superuser": "superuser",
}
SUPERUSER_ONLY = ["is_superuser", "user_permissions"]


def _record(by: Any, user: User, granted: bool, role: str) -> None:
    audit_record(
        AuditEntry.Event.ROLE_GRANTED if granted else AuditEntry.Event.ROLE_REVOKED,
        by=by,
        target=user,
        programme=None,
        changes={"role": ("", role) if granted else (role, "")},
    )


def access_record(*, by: Any, user: User, form: ModelForm) -> None:
    """One entry per flag turned on or off and per group joined or left, as the form just
    saved them (``form.initial`` holds what the page showed)."""
    for field, role in ACCESS_FLAGS.items():
        if field in form.changed_data:
            _record(by, user, bool(form.cleaned_data[field]), role)
    if "groups" in form.changed_data:
        before = {group.pk for group in form.initial.get("groups", [])}
        after = {group.pk for group in form.cleaned_data["groups"]}
        names = dict(Group.objects.filter(pk__in=before ^ after).values_list("pk", "name"))
        for pk in sorted(after - before):
            _record(by, user, True, names[pk])
        for pk in sorted(before - after):
            _record(by, user, False, names[pk])


class OrganisationUserAdmin(UserAdmin):
    def _guarded(self, request: HttpRequest, obj: Any) -> bool:
        """A superuser's account, which only a superuser changes."""
        return obj is not None and obj.is_superuser and not request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._guarded(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._guarded(request, obj) and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += SUPERUSER_ONLY
        return readonly

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        if change:
            access_record(by=request.user, user=form.instance, form=form)
