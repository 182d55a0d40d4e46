"""Pairs and sessions for the session tests, created directly: an active pair whose kickoff
agreement both sides accepted, between an executive and a reverse-mentor in given zones."""

from datetime import datetime, timedelta

from django.utils import timezone

from pairs.models import Meeting, Pair
from programmes.links import Purpose, make_token
from programmes.models import Participant, Programme
from tests.factories import MeetingFactory, PairFactory


def agreed_pair(
    *,
    programme: Programme | None = None,
    mentee_zone: str = "Europe/London",
    mentor_zone: str = "Europe/London",
    agreed: bool = True,
    **fields: object,
) -> Pair:
    """PairFactory's pair with its kickoff agreement, accepted by the executive only unless
    ``agreed``; in a new programme unless one is given."""
    if programme is not None:
        fields["cohort__programme"] = programme
    if not agreed:
        fields["agreement__mentor_accepted_at"] = None
    return PairFactory(mentee_zone=mentee_zone, mentor_zone=mentor_zone, agreement=True, **fields)


def meeting_for(pair: Pair, *, starts_at: datetime, **fields: object) -> Meeting:
    return MeetingFactory(pair=pair, starts_at=starts_at, **fields)


def pair_token(participant: Participant, *, purpose: Purpose = Purpose.PAIR) -> str:
    return make_token(
        participant_id=participant.pk,
        purpose=purpose,
        expires_at=timezone.now() + timedelta(days=60),
    )
