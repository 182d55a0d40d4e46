"""Granting and revoking the programme roles, recorded in the audit trail: each person made
(or no longer) a manager or a sponsor of a programme is one entry."""

from typing import Any

from django.contrib.auth.models import User
from django.forms import ModelForm
from django.http import HttpRequest

from audit.models import AuditEntry
from audit.records import audit_record
from programmes.models import Programme

# Each many-to-many field of a programme that grants a role, and the role's name.
ROLE_FIELDS = {"managers": "manager", "sponsors": "sponsor"}


def role_holders(programme: Programme) -> dict[str, set[int]]:
    """The ids of the users holding each role of ``programme`` (none before it is saved)."""
    if programme.pk is None:
        return {field: set() for field in ROLE_FIELDS}
    return {
        field: set(getattr(programme, field).values_list("pk", flat=True)) for field in ROLE_FIELDS
    }


def roles_record(
    *, by: Any, programme: Programme, before: dict[str, set[int]], after: dict[str, set[int]]
) -> None:
    """One entry per person granted or revoked a role of ``programme``."""
    changed = {pk for field in ROLE_FIELDS for pk in before[field] ^ after[field]}
    users = User.objects.in_bulk(changed)
    for field, role in ROLE_FIELDS.items():
        for pk in sorted(after[field] - before[field]):
            audit_record(
                AuditEntry.Event.ROLE_GRANTED,
                by=by,
                target=users[pk],
                programme=programme,
                changes={"role": ("", role)},
            )
        for pk in sorted(before[field] - after[field]):
            audit_record(
                AuditEntry.Event.ROLE_REVOKED,
                by=by,
                target=users[pk],
                programme=programme,
                changes={"role": (role, "")},
            )


class ProgrammeRolesAudit:
    """For the Programme admin: the roles its form grants and revokes go to the trail. (The
    programme's own fields are saved before ``save_related``; its roles are saved in it.)"""

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        programme = form.instance
        before = role_holders(programme)  # a new programme has none yet
        super().save_related(request, form, formsets, change)  # type: ignore[misc]  # a ModelAdmin mixin
        roles_record(
            by=request.user, programme=programme, before=before, after=role_holders(programme)
        )
