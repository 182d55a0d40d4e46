"""Sensible local hours: participants and sponsors get mail between 08:00 and 20:00 where they
live, never at 3 a.m. because a scan ran then."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def sensible_time(moment: datetime, zone: str) -> datetime:
    """``moment`` if it falls within NOTIFICATIONS_LOCAL_HOURS (from, to: 8 and 20 by default)
    in ``zone``, else the next start of them there (the same morning or the next)."""
    first, last = settings.NOTIFICATIONS_LOCAL_HOURS
    if (first, last) == (0, 24):
        return moment
    local = timezone.localtime(moment, ZoneInfo(zone))
    if first <= local.hour < last:
        return moment
    day = local.date() if local.hour < first else local.date() + timedelta(days=1)
    return datetime.combine(day, time(first), tzinfo=ZoneInfo(zone))
