"""Sessions, pulses and flags for the at-risk tests: everything is created directly (no
service, so no hook runs) and detection is run by hand at a given moment."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pairs.models import Meeting, Note, Pair
from programmes.models import Participant, Role
from risks.detection import risks_detect
from risks.models import RiskFlag
from surveys.models import Pulse
from tests.factories import PulseFactory
from tests.pairs.meeting_helpers import meeting_for

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=LONDON)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
# Typed by participants; never to appear in a flag.
MARKERS = ("LEARNING-MARKER", "ACTION-MARKER", "CANCEL-MARKER", "NOTE-MARKER")


def detect(now: datetime = NOW, **kwargs) -> dict[str, int]:
    return risks_detect(now=now, **kwargs)


def session(pair: Pair, days_ago: float, status: str = Meeting.Status.HELD, **fields) -> Meeting:
    """A session that started ``days_ago`` days before NOW, booked a week before it (or at
    NOW, whichever is sooner); cancelled ones by the mentee."""
    if status == Meeting.Status.CANCELLED:
        fields.setdefault("cancelled_by", Role.MENTEE)
    meeting = meeting_for(pair, starts_at=NOW - days_ago * DAY, status=status, **fields)
    # Booked a week ahead, as pairs book (the score reads how far ahead).
    booked = min(meeting.starts_at - 7 * DAY, NOW)
    Meeting.objects.filter(pk=meeting.pk).update(created_at=booked)
    meeting.created_at = booked
    return meeting


def pulse(meeting: Meeting, participant: Participant, **answers) -> Pulse:
    """Submitted as the session ended; held unless the answers say otherwise."""
    return PulseFactory(meeting=meeting, participant=participant, **answers)


def with_private_text(meeting: Meeting, participant: Participant, **answers) -> Pulse:
    """A pulse with free text, and a note about the session: what a flag must never show."""
    Note.objects.create(pair=meeting.pair, meeting=meeting, author=participant, text=MARKERS[3])
    return pulse(meeting, participant, learning=MARKERS[0], action=MARKERS[1], **answers)


def flags(pair: Pair, rule: str) -> list[RiskFlag]:
    return list(RiskFlag.objects.filter(pair=pair, rule=rule).order_by("pk"))


def only_flag(pair: Pair, rule: str) -> RiskFlag:
    [flag] = flags(pair, rule)
    return flag


def resolve(flag: RiskFlag, at: datetime = NOW) -> None:
    flag.resolved_at = at
    flag.save(update_fields=["resolved_at"])
