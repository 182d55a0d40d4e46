"""Writing the audit trail: :func:`audit_record` is the one way an entry is written."""

from collections.abc import Mapping
from typing import Any, cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Model

from audit.models import AuditEntry

Event = AuditEntry.Event
Action = AuditEntry.Action

# What each event does to its record, in django-auditlog's terms.
ACTIONS = {
    Event.PEOPLE_IMPORTED: Action.CREATE,
    Event.MATCHING_STARTED: Action.CREATE,
    Event.EXPORT_DOWNLOADED: Action.ACCESS,
}


def _scalar(value: Any) -> str:
    return "" if value is None else str(value)


def audit_record(
    event: Event,
    *,
    by: AbstractBaseUser | AnonymousUser | None,
    target: Model | type[Model],
    programme: Model | None,
    changes: Mapping[str, tuple[Any, Any]] | None = None,
    action: int | None = None,
) -> AuditEntry:
    """Record that ``by`` did ``event`` to ``target`` (in ``programme``, or the whole
    organisation), in the caller's transaction so it stands or falls with the action.
    ``changes`` maps a field to its value before and after, as plain values: statuses, counts,
    names, never a participant's words."""
    actor = by if by is not None and by.is_authenticated else None
    entry = AuditEntry.objects.log_create(  # force_log: always written
        target,
        force_log=True,
        event=event,
        action=ACTIONS.get(event, Action.UPDATE) if action is None else action,
        actor=actor,
        actor_email=getattr(actor, "email", None) or None,
        changes={
            field: [_scalar(old), _scalar(new)] for field, (old, new) in (changes or {}).items()
        },
        programme_id=None if programme is None else programme.pk,
        programme_name="" if programme is None else str(programme),
    )
    return cast(AuditEntry, entry)
