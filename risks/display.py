"""How the at-risk pages (the queue and a flag's page, the re-match, the seven-day diagnosis)
say a day and a side, and count an answered pulse without reading it: one place, so every page
says them the same way."""

from datetime import date, datetime

from django.db.models import Exists, OuterRef
from django.utils import timezone

from programmes.models import Role
from surveys.models import Pulse

SIDE_WORD: dict[str, str] = {Role.MENTEE: "executive", Role.REVERSE_MENTOR: "reverse-mentor"}


def side_word(value: str) -> str:
    return SIDE_WORD.get(value, "") if value else ""


def short_day(value: date | None) -> str:
    return f"{value:%-d %b %Y}" if value else ""


def local_day(value: datetime | None) -> str:
    return short_day(timezone.localdate(value)) if value else ""


def pulse_answered() -> Exists:
    """For a PulseRequest row: its participant has a pulse for its session (as
    surveys.counts counts an answered request)."""
    return Exists(
        Pulse.objects.filter(meeting=OuterRef("meeting"), participant=OuterRef("participant"))
    )
