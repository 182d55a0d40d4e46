from datetime import date, timedelta

import factory
from django.contrib.auth.models import User
from django.utils import timezone

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
