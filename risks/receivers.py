"""How risks/ answers what a pair's life tells it (pairs/signals.py); connected in apps.py."""

from datetime import datetime
from typing import Any

from django.db.models import Q

from notifications.sending import publish
from programmes.models import Role
from risks import tasks
from risks.models import RiskFlag

PAIRED_AGAIN = "Paired again."


def detect_after_activity(*, pair_id: int, **kwargs: Any) -> None:
    """Queue the detection of the pair whose sessions or pulses just changed. If the broker is
    down, ``publish`` logs it and its breaker skips the broker for a while: the hourly scan
    catches up."""
    publish(lambda: tasks.detect_pair_risks.delay(pair_id))


def resolve_needs_partner(*, participant_ids: list[int], now: datetime, **kwargs: Any) -> None:
    """An open "left without a partner" flag about someone just given a new pair is resolved,
    so the queue does not ask a manager to find a partner for someone who has one. One query,
    however many people."""
    RiskFlag.objects.filter(rule=RiskFlag.Rule.NEEDS_PARTNER, resolved_at__isnull=True).filter(
        Q(evidence__side=Role.MENTEE, pair__mentee__in=participant_ids)
        | Q(evidence__side=Role.REVERSE_MENTOR, pair__reverse_mentor__in=participant_ids)
    ).update(resolved_at=now, resolution_note=PAIRED_AGAIN, updated_at=now)
