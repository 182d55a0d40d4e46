"""The risk score (risks/signals.py, risks/score.py): signals as known on a day, each signal
moving the score the documented way, and the two levels."""

from datetime import timedelta

import pytest
from django.utils import timezone

from pairs.models import Meeting
from risks.score import OK, pair_score
from risks.signals import pair_signals
from tests.pairs.meeting_helpers import agreed_pair, meeting_for
from tests.risks.risk_helpers import pulse

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
HELD, MISSED, CANCELLED = Meeting.Status.HELD, Meeting.Status.MISSED, Meeting.Status.CANCELLED


def today():
    return timezone.localdate()


def healthy(programme):
    """A fortnightly pair: held 28 and 14 days ago, both pulses, the next one booked."""
    pair = agreed_pair(programme=programme, started_on=today() - 40 * DAY)
    now = timezone.now()
    for days in (28, 14):
        meeting = meeting_for(pair, starts_at=now - days * DAY, status=HELD)
        pulse(meeting, pair.mentee, learning="x", action="y")
        pulse(meeting, pair.reverse_mentor, learning="x", action="y")
    meeting_for(pair, starts_at=now + 3 * DAY)
    return pair


def test_signals_of_a_healthy_pair(programme) -> None:
    pair = healthy(programme)
    s = pair_signals(pair, on=today())
    assert s.cadence_days == 14
    assert s.days_since_held == 14
    assert s.next_booked == 1
    assert s.not_happened == 0
    assert s.silent_sides == 0
    assert pair_score(pair, on=today()).level == OK
