"""A pair in a 90-day cohort with two key skills, for the programme-questions tests.

The cohort runs from Monday 5 January to Sunday 5 April 2026: the mid-point questions open on
19 February (45 days in) and close on 5 April; the end questions open on 29 March and close
on 5 May.
"""

from datetime import date, timedelta
from urllib.parse import urlsplit

from django.urls import reverse

from programmes.models import Cohort, KeySkill, Participant, Programme
from surveys.feedback import feedback_url
from tests.factories import KeySkillFactory
from tests.pairs.pair_setup import PairSetup, make_pair

STARTS_ON = date(2026, 1, 5)
ENDS_ON = date(2026, 4, 5)
MIDPOINT_OPENS = date(2026, 2, 19)
END_OPENS = date(2026, 3, 29)
END_CLOSES = date(2026, 5, 5)
SKILLS = ("Digital fluency", "Inclusive 100% leadership")


def feedback_pair(
    programme: Programme, *, starts_on: date = STARTS_ON, ends_on: date = ENDS_ON, **pair_fields
) -> PairSetup:
    setup = make_pair(programme, **pair_fields)
    Cohort.objects.filter(pk=setup.cohort.pk).update(starts_on=starts_on, ends_on=ends_on)
    setup.cohort.refresh_from_db()
    for position, name in enumerate(SKILLS):
        KeySkillFactory(programme=programme, name=name, position=position)
    return setup


def pair_around_today(programme: Programme, today: date) -> PairSetup:
    """A cohort in its last week, so both sets of questions are open today."""
    return feedback_pair(
        programme, starts_on=today - timedelta(days=85), ends_on=today + timedelta(days=5)
    )


def skills(programme: Programme) -> list[KeySkill]:
    return list(KeySkill.objects.filter(programme=programme))


def feedback_path(participant: Participant, moment: str, name: str = "surveys:feedback") -> str:
    """The page's path from the participant's real link (which expires when the window
    closes)."""
    token = urlsplit(feedback_url(participant, moment)).path.rstrip("/").rsplit("/", 1)[1]
    return reverse(name, args=[token])


def end_answers(programme: Programme, *, score: str = "9", why: str = "", rating: str = "4"):
    data = {"score": score, "why": why}
    data |= {f"confidence_{skill.pk}": rating for skill in skills(programme)}
    return data
