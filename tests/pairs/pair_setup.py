"""A pair with people, intakes and road map, shared by the pair page, agreement and notes
tests. Rows are created directly: these tests are about what the pair page does with them."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse

from pairs.models import Meeting, Pair
from programmes.links import Purpose, make_token
from programmes.models import Cohort, Participant, Programme, Role, Topic
from tests.factories import (
    CohortFactory,
    IntakeFactory,
    ParticipantFactory,
    PersonFactory,
    TopicFactory,
)

ROAD_MAP = ("Digital habits", "Our culture", "What customers see")


@dataclass
class PairSetup:
    pair: Pair
    mentee: Participant
    mentor: Participant
    topics: list[Topic]

    @property
    def cohort(self) -> Cohort:
        return self.pair.cohort


def make_pair(
    programme: Programme, *, status: str = Pair.Status.ACTIVE, **pair_fields
) -> PairSetup:
    cohort = CohortFactory(programme=programme, status=Cohort.Status.RUNNING)
    topics = list(Topic.objects.filter(programme=programme)) or [
        TopicFactory(programme=programme, title=title) for title in ROAD_MAP
    ]
    mentee = ParticipantFactory(
        cohort=cohort,
        role=Role.MENTEE,
        status=Participant.Status.MATCHED,
        person=PersonFactory(
            full_name="Morgan Hale", job_title="Chief Financial Officer", department="Finance"
        ),
    )
    mentor = ParticipantFactory(
        cohort=cohort,
        role=Role.REVERSE_MENTOR,
        status=Participant.Status.MATCHED,
        person=PersonFactory(
            full_name="Eli Okafor",
            job_title="Graduate Engineer",
            department="Platform",
            time_zone="America/New_York",
        ),
    )
    mentee_intake = IntakeFactory(
        participant=mentee,
        objectives_text="MENTEE-OBJECTIVES-SECRET",
        boundaries_text="MENTEE-BOUNDARIES-SECRET",
        goal_1="Understand how graduates use AI tools",
        goal_2="Run a meeting without slides",
    )
    mentee_intake.off_limits.set([topics[2]])
    mentor_intake = IntakeFactory(
        participant=mentor,
        objectives_text="MENTOR-OBJECTIVES-SECRET",
        boundaries_text="MENTOR-BOUNDARIES-SECRET",
        goal_1="Learn how budgets are decided",
    )
    mentor_intake.can_share.set([topics[0], topics[1]])
    mentor_intake.off_limits.set([topics[2]])
    pair = Pair.objects.create(
        cohort=cohort, mentee=mentee, reverse_mentor=mentor, status=status, **pair_fields
    )
    return PairSetup(pair=pair, mentee=mentee, mentor=mentor, topics=topics)


def meeting(pair: Pair, starts_at: datetime, **fields) -> Meeting:
    return Meeting.objects.create(pair=pair, starts_at=starts_at, uid=uuid.uuid4(), **fields)


def token_for(participant: Participant) -> str:
    return make_token(participant_id=participant.pk, purpose=Purpose.PAIR)


def page_url(participant: Participant, name: str = "pairs:pair", *args) -> str:
    return reverse(name, args=[token_for(participant), *args])
