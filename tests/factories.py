"""factory_boy factories for every model the tests build. Each makes a realistic row with the
fewest choices; a test names only what it is about."""

from datetime import date, timedelta
from uuid import uuid4

import factory
from django.contrib.auth.models import User
from django.utils import timezone

from pairs.models import Agreement, Meeting, Note, Pair
from programmes.models import (
    Cadence,
    Cohort,
    Intake,
    KeySkill,
    Participant,
    Person,
    Programme,
    Role,
    Topic,
)
from risks.models import CheckIn, RiskFlag
from surveys.models import Pulse, PulseRequest


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("correct horse battery staple")


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme

    name = factory.Sequence(lambda n: f"Programme {n}")
    slug = factory.Sequence(lambda n: f"programme-{n}")
    purpose = "Leaders learn from colleagues earlier in their careers."
    status = Programme.Status.RUNNING


class KeySkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KeySkill

    programme = factory.SubFactory(ProgrammeFactory)
    name = factory.Sequence(lambda n: f"Skill {n}")
    position = factory.Sequence(int)


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    programme = factory.SubFactory(ProgrammeFactory)
    title = factory.Sequence(lambda n: f"Topic {n}")
    position = factory.Sequence(int)


class CohortFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cohort

    programme = factory.SubFactory(ProgrammeFactory)
    name = factory.Sequence(lambda n: f"Cohort {n}")
    starts_on = factory.LazyFunction(lambda: date.today() - timedelta(days=30))
    ends_on = factory.LazyAttribute(lambda c: c.starts_on + timedelta(days=90))
    status = Cohort.Status.RUNNING


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    full_name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"person{n}@example.org")
    job_title = "Analyst"
    department = "Operations"
    time_zone = "Europe/London"


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participant

    cohort = factory.SubFactory(CohortFactory)
    person = factory.SubFactory(PersonFactory)
    role = Role.MENTEE


class IntakeFactory(factory.django.DjangoModelFactory):
    """A submitted intake with answers a real person might give; topics are attached by the
    test, since they belong to the participant's programme."""

    class Meta:
        model = Intake

    participant = factory.SubFactory(ParticipantFactory)
    objectives_text = "I want to understand how new joiners experience our culture."
    communication_style = Intake.CommunicationStyle.DIRECT
    feedback_style = Intake.FeedbackStyle.CANDID
    availability = factory.LazyFunction(lambda: [9, 10, 33, 34, 57])
    cadence = Cadence.FORTNIGHTLY
    meeting_mode = Intake.MeetingMode.EITHER
    goal_1 = "Use our collaboration tools the way my team does"
    boundaries_text = "Please no questions about my family."
    consent_pledge = True
    consent_data = True
    submitted_at = factory.LazyFunction(timezone.now)


class AgreementFactory(factory.django.DjangoModelFactory):
    """The first kickoff agreement, on the model's default terms, proposed by the executive
    and accepted by both at the same moment."""

    class Meta:
        model = Agreement

    pair = factory.SubFactory("tests.factories.PairFactory")
    number = 1
    proposed_by = Role.MENTEE
    mentee_accepted_at = factory.LazyFunction(timezone.now)
    mentor_accepted_at = factory.SelfAttribute("mentee_accepted_at")


class PairFactory(factory.django.DjangoModelFactory):
    """An active pair of a running cohort: Margaret Hale, the executive, and Ravi Patel, the
    reverse-mentor, both matched and living in ``mentee_zone`` and ``mentor_zone`` (London).

    ``agreement=True`` adds the kickoff agreement both accepted (``agreement__...`` changes it);
    ``intakes=True`` gives both a submitted intake (``intakes__...`` changes both)."""

    class Meta:
        model = Pair
        skip_postgeneration_save = True

    class Params:
        mentee_zone = "Europe/London"
        mentor_zone = "Europe/London"

    cohort = factory.SubFactory(CohortFactory)
    mentee = factory.SubFactory(
        ParticipantFactory,
        cohort=factory.SelfAttribute("..cohort"),
        role=Role.MENTEE,
        status=Participant.Status.MATCHED,
        person__full_name="Margaret Hale",
        person__time_zone=factory.SelfAttribute("...mentee_zone"),
    )
    reverse_mentor = factory.SubFactory(
        ParticipantFactory,
        cohort=factory.SelfAttribute("..cohort"),
        role=Role.REVERSE_MENTOR,
        status=Participant.Status.MATCHED,
        person__full_name="Ravi Patel",
        person__time_zone=factory.SelfAttribute("...mentor_zone"),
    )
    status = Pair.Status.ACTIVE

    @factory.post_generation
    def agreement(pair: Pair, create: bool, extracted: object, **fields: object) -> None:
        if extracted:
            AgreementFactory(pair=pair, **fields)

    @factory.post_generation
    def intakes(pair: Pair, create: bool, extracted: object, **fields: object) -> None:
        if extracted:
            for participant in (pair.mentee, pair.reverse_mentor):
                IntakeFactory(participant=participant, **fields)


class MeetingFactory(factory.django.DjangoModelFactory):
    """A session of the pair a week from now, scheduled by the reverse-mentor."""

    class Meta:
        model = Meeting

    pair = factory.SubFactory(PairFactory, agreement=True)
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    uid = factory.LazyFunction(uuid4)
    scheduled_by = Role.REVERSE_MENTOR


class NoteFactory(factory.django.DjangoModelFactory):
    """A private one-line note of the executive's about the pair."""

    class Meta:
        model = Note

    pair = factory.SubFactory(PairFactory, agreement=True)
    author = factory.SelfAttribute("pair.mentee")
    text = "Ask about the careers page next time."


class PulseRequestFactory(factory.django.DjangoModelFactory):
    """The executive asked for a pulse about a session."""

    class Meta:
        model = PulseRequest

    meeting = factory.SubFactory(MeetingFactory, status=Meeting.Status.HELD)
    participant = factory.SelfAttribute("meeting.pair.mentee")


class PulseFactory(factory.django.DjangoModelFactory):
    """The executive's pulse about a session that was held, answered as it ended."""

    class Meta:
        model = Pulse

    meeting = factory.SubFactory(MeetingFactory, status=Meeting.Status.HELD)
    participant = factory.SelfAttribute("meeting.pair.mentee")
    held = True
    submitted_at = factory.SelfAttribute("meeting.ends_at")
    session_starts_at = factory.SelfAttribute("meeting.starts_at")


class RiskFlagFactory(factory.django.DjangoModelFactory):
    """An open flag on a pair, of the rule's own severity, opened now; ``evidence`` is empty
    unless a test gives it (its schema is in the RiskFlag docstring)."""

    class Meta:
        model = RiskFlag

    pair = factory.SubFactory(PairFactory, agreement=True)
    rule = RiskFlag.Rule.MISSED
    severity = factory.LazyAttribute(lambda flag: RiskFlag.SEVERITY[RiskFlag.Rule(flag.rule)])
    condition = factory.LazyAttribute(lambda flag: f"{flag.rule}:{uuid4().hex[:8]}")
    opened_at = factory.LazyFunction(timezone.now)
    updated_at = factory.SelfAttribute("opened_at")


class CheckInFactory(factory.django.DjangoModelFactory):
    """A check-in asked of the executive, not answered yet."""

    class Meta:
        model = CheckIn

    pair = factory.SubFactory(PairFactory, agreement=True)
    participant = factory.SelfAttribute("pair.mentee")
