"""History for the risk-score tests: sessions, pulses and check-ins dated as they were booked,
logged and answered (created_at, updated_at, submitted_at), so the signals "as known on a
day" see them as they were then."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pairs.models import Meeting, Pair
from programmes.models import Cohort, Programme
from surveys.models import Pulse
from tests.factories import CohortFactory, PulseFactory
from tests.pairs.meeting_helpers import agreed_pair, meeting_for

LONDON = ZoneInfo("Europe/London")
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
HELD, MISSED, CANCELLED = Meeting.Status.HELD, Meeting.Status.MISSED, Meeting.Status.CANCELLED


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=LONDON)


def london(programme: Programme) -> None:
    programme.time_zone = "Europe/London"
    programme.save(update_fields=["time_zone"])


def historic(
    pair: Pair,
    day: date,
    status: str = HELD,
    *,
    booked: date | None = None,
    logged: date | None = None,
    **fields: object,
) -> Meeting:
    """A session at noon on ``day``, booked a week before (or on ``booked``) and logged the
    same evening (or on ``logged``)."""
    if status == CANCELLED:
        fields.setdefault("cancelled_by", "mentee")
    meeting = meeting_for(pair, starts_at=noon(day), status=status, **fields)
    created = noon(booked or day - 7 * DAY)
    updated = created if status == Meeting.Status.SCHEDULED else noon(logged or day) + 6 * HOUR
    Meeting.objects.filter(pk=meeting.pk).update(created_at=created, updated_at=updated)
    meeting.refresh_from_db()
    return meeting


def answered(meeting: Meeting, participant, *, on: date | None = None, **answers) -> Pulse:
    fields = {"submitted_at": noon(on)} if on else {}
    return PulseFactory(meeting=meeting, participant=participant, **fields, **answers)


def ended_cohort(programme: Programme, *, days: int = 90, ago: int = 10) -> Cohort:
    today = date.today()
    return CohortFactory(
        programme=programme,
        starts_on=today - (days + ago) * DAY,
        ends_on=today - ago * DAY,
        status=Cohort.Status.FINISHED,
    )


def fortnightly(pair: Pair, start: date, end: date, *, pulses: bool = True) -> None:
    """Held every 14 days from ``start`` to ``end``, both answering the pulse."""
    day = start
    while day <= end:
        held = historic(pair, day)
        if pulses:
            answered(held, pair.mentee, learning="x", action="y")
            answered(held, pair.reverse_mentor, learning="x", action="y")
        day += 14 * DAY


def cohort_pair(cohort: Cohort, **fields: object) -> Pair:
    fields.setdefault("started_on", cohort.starts_on)
    return agreed_pair(cohort=cohort, **fields)
