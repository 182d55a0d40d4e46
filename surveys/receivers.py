"""How surveys/ answers what a pair's life and the intake tell it (pairs/signals.py,
programmes/signals.py); connected in apps.py."""

from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from pairs.models import Pair
from programmes.models import Participant
from surveys.models import ConfidenceRating, PulseRequest


def unsent_pulse_requests(*, pair: Pair, **kwargs: Any) -> Q:
    """The outbox rows asking for the pair's pulses: once the pair ends nobody is asked."""
    return Q(
        content_type=ContentType.objects.get_for_model(PulseRequest),
        object_id__in=PulseRequest.objects.filter(meeting__pair=pair).values("pk"),
    )


def record_baseline(
    *, participant: Participant, confidence: dict[int, int], now: datetime, **kwargs: Any
) -> None:
    """The intake's confidence ratings, one per key skill: the baseline confidence change is
    measured from. Submitting the intake again replaces them."""
    for skill_id, value in confidence.items():
        ConfidenceRating.objects.update_or_create(
            participant=participant,
            key_skill_id=skill_id,
            context=ConfidenceRating.Context.INTAKE,
            defaults={"value": value, "recorded_at": now},
        )
