"""Time zones, as the directory and the programmes name them."""

import zoneinfo
from datetime import datetime
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in _time_zones():
        raise ValidationError(
            "“%(value)s” is not a time zone we know. Use a name such as Europe/London or "
            "America/New_York.",
            code="unknown_time_zone",
            params={"value": value},
        )


def default_time_zone() -> str:
    return settings.TIME_ZONE


def site_local(moment: datetime) -> datetime:
    """``moment`` in the site's time zone (settings.TIME_ZONE): the clock of users (managers,
    sponsors), who have no time zone of their own."""
    return moment.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE))
