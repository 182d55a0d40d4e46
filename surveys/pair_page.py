"""The pair page's pulses and programme questions: the answers each session's row shows, and
the card with the programme questions that are open (registered in apps.py,
pairs/sections.py)."""

from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q

from pairs.models import Pair
from pairs.sections import MEETING_PULSES, PairPagePart
from programmes.models import Participant
from surveys.feedback import feedback_links_due
from surveys.models import Pulse


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


def _context(pair: Pair, participant: Participant, now: datetime) -> dict[str, Any]:
    return {"feedback_due": feedback_links_due(participant, now=now)}


PART = PairPagePart(meeting_prefetch=_readable_pulses, context=_context)
