"""What a pair is now, read from its rows: who is on which side, and the terms agreed. The
services, the messages and the pages above read it here."""

from django.core.exceptions import ValidationError

from pairs.models import Agreement, Pair
from programmes.models import Participant, Role


def side_of(*, pair: Pair, participant: Participant) -> Role:
    """The side ``participant`` is on in ``pair``; ValidationError if they are not in it."""
    if participant.pk == pair.mentee_id:
        return Role.MENTEE
    if participant.pk == pair.reverse_mentor_id:
        return Role.REVERSE_MENTOR
    raise ValidationError("You are not part of this pair.", code="not_in_pair")


def partner_of(*, pair: Pair, participant: Participant) -> Participant:
    side = side_of(pair=pair, participant=participant)
    return pair.reverse_mentor if side == Role.MENTEE else pair.mentee


def agreement_versions(pair: Pair) -> list[Agreement]:
    """All versions, newest first; uses ``prefetch_related("agreements")`` when present."""
    return sorted(pair.agreements.all(), key=lambda agreement: agreement.number, reverse=True)


def agreement_current(pair: Pair) -> Agreement | None:
    """The latest agreed version: what the pair has agreed to now."""
    return next((version for version in agreement_versions(pair) if version.agreed), None)


def agreement_pending(pair: Pair) -> Agreement | None:
    """The latest version, if it is newer than the current one and not agreed yet."""
    versions = agreement_versions(pair)
    if versions and not versions[0].agreed:
        return versions[0]
    return None


def agreement_waits_for(pair: Pair) -> list[Participant]:
    """The sides the kickoff agreement waits for: nobody once a version is agreed; else
    whoever has not accepted the latest version, or both when there is none. Uses
    ``prefetch_related("agreements")`` when present."""
    if agreement_current(pair) is not None:
        return []
    latest = agreement_pending(pair)
    sides = ((pair.mentee, "mentee_accepted_at"), (pair.reverse_mentor, "mentor_accepted_at"))
    return [who for who, field in sides if latest is None or getattr(latest, field) is None]
