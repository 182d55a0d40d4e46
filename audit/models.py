from typing import Any, NoReturn

from auditlog.models import AbstractLogEntry
from django.db import models


class AuditEntry(AbstractLogEntry):
    """One audited action, written once and never changed (a PostgreSQL trigger refuses an
    UPDATE or a DELETE, and the model refuses to save twice): django-auditlog's log entry with
    the event it records and the programme it belongs to.

    ``changes`` holds only what the action changed in the programme's records (statuses,
    roles, counts, message kinds), never free text written by a participant. The programme is
    kept as an id and a name without a foreign-key constraint, so deleting a programme leaves
    its trail whole."""

    class Event(models.TextChoices):
        ROLE_GRANTED = "role_granted", "Role granted"
        ROLE_REVOKED = "role_revoked", "Role revoked"
        PEOPLE_IMPORTED = "people_imported", "People imported"
        INVITATIONS_SENT = "invitations_sent", "Intake invitations sent"
        INTAKE_CLOSED = "intake_closed", "Intake closed"
        INTAKE_REOPENED = "intake_reopened", "Intake reopened"
        MATCHING_STARTED = "matching_started", "Matching run started"
        MATCHING_APPROVED = "matching_approved", "Matching run approved"
        PAIR_MATCHED = "pair_matched", "Pair matched one by one"
        PAIR_PAUSED = "pair_paused", "Pair paused"
        PAIR_REMATCHED = "pair_rematched", "Pair re-matched"
        PAIR_ENDED = "pair_ended", "Pair ended"
        FLAG_RESOLVED = "flag_resolved", "Flag resolved"
        WORDING_CHANGED = "wording_changed", "Message wording changed"
        EXPORT_DOWNLOADED = "export_downloaded", "Export downloaded"

    # django-auditlog's, named for the people who read the trail: the record's name then.
    object_repr: "models.TextField[str, str]" = models.TextField("record")
    event: "models.CharField[str, str]" = models.CharField(
        max_length=30, choices=Event, db_index=True
    )
    programme: "models.ForeignKey[Any, Any]" = models.ForeignKey(
        "programmes.Programme",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        help_text="Blank for what concerns the whole organisation (an administrator's role).",
    )
    programme_name: "models.CharField[str, str]" = models.CharField(
        "programme", max_length=200, blank=True
    )

    class Meta(AbstractLogEntry.Meta):
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["programme", "timestamp"], name="audit_by_programme"),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()}: {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("An audit entry is written once and never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("An audit entry is never deleted.")
