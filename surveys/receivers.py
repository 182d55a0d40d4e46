"""How surveys/ answers what a pair's life tells it (pairs/signals.py); connected in apps.py."""

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from pairs.models import Pair
from surveys.models import PulseRequest


def unsent_pulse_requests(*, pair: Pair, **kwargs: Any) -> Q:
    """The outbox rows asking for the pair's pulses: once the pair ends nobody is asked."""
    return Q(
        content_type=ContentType.objects.get_for_model(PulseRequest),
        object_id__in=PulseRequest.objects.filter(meeting__pair=pair).values("pk"),
    )
