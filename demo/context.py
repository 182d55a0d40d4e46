"""What the demo's steps share as they build, each in its own module of demo/."""

import random
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth.models import User

from programmes.models import Cohort, Participant, Person, Programme


@dataclass
class DemoContext:
    """What the steps share: each step reads what earlier ones built and adds its own."""

    today: date
    rng: random.Random
    programme: Programme = field(init=False)  # the first step makes it
    cohorts: dict[str, Cohort] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    participants: dict[str, list[Participant]] = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)
