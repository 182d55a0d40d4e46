"""The rate limit on what participants do from their pages: a participant's partner gets one
e-mail per change, so a script (or a stuck key) on one pair page could otherwise flood them.
Counted in the database (``ParticipantAction``), since several web processes answer the
pages; the participant's row is locked while counting, so two requests at once take turns.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from programmes.models import Participant, ParticipantAction

Kind = ParticipantAction.Kind

WINDOW = timedelta(minutes=10)
# How many of each kind one participant may do within WINDOW. Generous for a person (a
# session booked, moved and marked; a few notes after a session), low for a script.
LIMITS: dict[str, int] = {Kind.PARTNER_MAIL: 10, Kind.NOTE: 20}
RATE_MESSAGE = (
    "You have made a lot of changes in the last few minutes, so we have paused for a moment "
    "to protect your partner's inbox. Nothing was saved: please try again in ten minutes."
)


def participant_lock(participant: Participant) -> None:
    """Lock the participant's row until the transaction ends: their submissions take turns.
    (A no-op on SQLite, which locks the whole database for a write.)"""
    Participant.objects.select_for_update().filter(pk=participant.pk).values_list("pk").get()


def action_count(*, participant: Participant, kind: str) -> None:
    """Count one ``kind`` of action by ``participant``, or raise a ValidationError (code
    ``rate_limited``) when they have reached the limit. Call inside the transaction that
    saves the action, so a refused or failed action is not counted."""
    participant_lock(participant)
    now = timezone.now()
    recent = ParticipantAction.objects.filter(participant=participant, kind=kind)
    # What has left the window counts for nothing any more: forget it.
    recent.filter(at__lte=now - WINDOW).delete()
    if recent.count() >= LIMITS[kind]:
        raise ValidationError(RATE_MESSAGE, code="rate_limited")
    ParticipantAction.objects.create(participant=participant, kind=kind, at=now)
