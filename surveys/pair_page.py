"""The pair page's pulses and programme questions: the answers each session's row shows, and
the card with the programme questions that are open (registered in apps.py,
pairs/sections.py)."""

from datetime import datetime
from typing import Any

from django.db.models import Exists, Prefetch, Q
from django.db.models.expressions import BaseExpression
from django.utils import timezone

from pairs.models import Pair
from pairs.sections import MEETING_PULSES, PairPagePart
from programmes.models import Participant
from surveys.feedback import feedback_links, feedback_links_due, feedback_open, feedback_today
from surveys.models import NpsResponse, Pulse

ANSWERED = "feedback_answered_{}"


def _readable_pulses(participant: Participant) -> Prefetch:
    """The pulses the pair page may show: the viewer's own, and those their partner shared.
    Never the partner's unshared answers, and never anyone's safety answer."""
    return Prefetch(
        "pulses",
        queryset=Pulse.objects.filter(Q(participant=participant) | Q(shared=True)).only(
            "meeting_id", "participant_id", "held", "learning", "action", "shared"
        ),
        to_attr=MEETING_PULSES,
    )


def _annotate(participant: Participant) -> dict[str, BaseExpression]:
    """Whether the participant answered each programme question open today, loaded with
    the pair (so the card costs no query of its own). The pair is theirs: they are paired."""
    answers = NpsResponse.objects.filter(participant=participant)
    today = feedback_today(timezone.now())
    return {
        ANSWERED.format(moment): Exists(answers.filter(moment=moment))
        for moment in feedback_open(participant, today=today)
    }


def _context(pair: Pair, participant: Participant, now: datetime) -> dict[str, Any]:
    moments = feedback_open(participant, today=feedback_today(now))
    answered = {moment: getattr(pair, ANSWERED.format(moment), None) for moment in moments}
    if None in answered.values():  # a window opened since the pair was loaded: ask
        return {"feedback_due": feedback_links_due(participant, now=now)}
    due = [moment for moment, done in answered.items() if not done]
    return {"feedback_due": feedback_links(participant, due)}


PART = PairPagePart(annotate=_annotate, meeting_prefetch=_readable_pulses, context=_context)
