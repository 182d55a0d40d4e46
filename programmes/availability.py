"""The weekly availability grid: one-hour slots on working days, in the person's own zone.

A slot is stored as ``weekday * 24 + hour`` (Monday 0), so a list of small integers says when
someone can meet; matching converts them to UTC with the person's time zone.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
DAY_ABBREVIATIONS = ["Mon", "Tue", "Wed", "Thu", "Fri"]
HOURS = range(7, 20)  # slots start 07:00 … 19:00 local time

SLOTS: frozenset[int] = frozenset(day * 24 + hour for day in range(len(DAYS)) for hour in HOURS)


def slot_label(slot: int) -> str:
    day, hour = divmod(slot, 24)
    return f"{DAYS[day]} {hour:02d}:00–{hour + 1:02d}:00"


def to_utc_hours_of_week(slots: list[int], time_zone: str, week_of: date) -> set[int]:
    """The same slots as hours of the week in UTC (0 = Monday 00:00 UTC), for the week that
    starts on the Monday of ``week_of``: offsets differ across daylight-saving changes."""
    zone = ZoneInfo(time_zone)
    monday = week_of - timedelta(days=week_of.weekday())
    utc_hours = set()
    for slot in slots:
        day, hour = divmod(slot, 24)
        local = datetime.combine(monday + timedelta(days=day), datetime.min.time()).replace(
            hour=hour, tzinfo=zone
        )
        utc = local.astimezone(ZoneInfo("UTC"))
        utc_hours.add((utc.weekday() * 24 + utc.hour) % (7 * 24))
    return utc_hours
