"""Pairs and sessions for the session tests, created directly: an active pair whose kickoff
agreement both sides accepted, between an executive and a reverse-mentor in given zones."""

from datetime import datetime, timedelta
from uuid import uuid4

from django.utils import timezone

from pairs.models import Agreement, Meeting, Pair
from programmes.links import Purpose, make_token
from programmes.models import Participant, Programme, Role
from tests.factories import CohortFactory, ParticipantFactory, ProgrammeFactory


def agreed_pair(
    *,
    programme: Programme | None = None,
    mentee_zone: str = "Europe/London",
    mentor_zone: str = "Europe/London",
    agreed: bool = True,
    **fields: object,
) -> Pair:
    cohort = CohortFactory(programme=programme or ProgrammeFactory())
    mentee = ParticipantFactory(
        cohort=cohort,
        role=Role.MENTEE,
        status=Participant.Status.MATCHED,
        person__full_name="Margaret Hale",
        person__time_zone=mentee_zone,
    )
    mentor = ParticipantFactory(
        cohort=cohort,
        role=Role.REVERSE_MENTOR,
        status=Participant.Status.MATCHED,
        person__full_name="Ravi Patel",
        person__time_zone=mentor_zone,
    )
    fields.setdefault("status", Pair.Status.ACTIVE)
    pair = Pair.objects.create(cohort=cohort, mentee=mentee, reverse_mentor=mentor, **fields)
    now = timezone.now()
    Agreement.objects.create(
        pair=pair,
        number=1,
        mentee_accepted_at=now,
        mentor_accepted_at=now if agreed else None,
        proposed_by=Role.MENTEE,
    )
    return pair


def meeting_for(pair: Pair, *, starts_at: datetime, **fields: object) -> Meeting:
    fields.setdefault("duration_minutes", 45)
    fields.setdefault("scheduled_by", Role.REVERSE_MENTOR)
    return Meeting.objects.create(pair=pair, starts_at=starts_at, uid=uuid4(), **fields)


def pair_token(participant: Participant, *, purpose: Purpose = Purpose.PAIR) -> str:
    return make_token(
        participant_id=participant.pk,
        purpose=purpose,
        expires_at=timezone.now() + timedelta(days=60),
    )
