"""A pulse or a session change queues the detection of its pair once it commits (Celery runs
eagerly in the tests), so a flag opens within moments rather than at the next hourly scan;
a broker outage never fails the pulse, and the hourly scan catches up."""

from datetime import timedelta

import factory
import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from pairs import meetings
from pairs.models import Meeting, Pair
from risks import tasks
from risks.models import PairRisk, RiskFlag
from surveys.models import Pulse
from tests.pairs.meeting_helpers import meeting_for
from tests.surveys.pulse_helpers import held_answers, past_session, pulse_url

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.pair(started_on=factory.LazyFunction(timezone.localdate)),
]

Rule = RiskFlag.Rule


def test_a_low_safety_answer_opens_a_flag_once_the_pulse_is_saved(
    client, pair, django_capture_on_commit_callbacks
) -> None:
    session = past_session(pair)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            pulse_url(pair.mentee, session), held_answers(good_fit="yes", safety="1")
        )

    assert response.status_code == 302
    flag = RiskFlag.objects.get(pair=pair)
    assert (flag.rule, flag.is_open) == (Rule.LOW_SAFETY, True)
    assert flag.evidence["side"] == "mentee"


def test_marking_a_session_missed_rescores_the_pair_and_opens_a_flag_at_act(
    pair, django_capture_on_commit_callbacks
) -> None:
    # Was the second missed session in a row's MISSED flag; the score replaced that rule.
    now = timezone.now()
    Pair.objects.filter(pk=pair.pk).update(started_on=timezone.localdate() - timedelta(days=40))
    held = meeting_for(pair, starts_at=now - timedelta(days=14), status=Meeting.Status.HELD)
    meeting_for(pair, starts_at=now - timedelta(days=7), status=Meeting.Status.MISSED)
    # Not logged yet: it may well have been held.
    second = meeting_for(pair, starts_at=now - timedelta(hours=2))
    tasks.detect_pair_risks(pair.pk)
    assert PairRisk.objects.get(pair=pair).level != "act"
    assert not RiskFlag.objects.filter(pair=pair).exists()

    with django_capture_on_commit_callbacks(execute=True):
        meetings.meeting_mark(
            meeting=second,
            by=pair.reverse_mentor,
            status="missed",
            led_by="",
            topic=None,
            missed_by="mentee",
        )

    second.refresh_from_db()
    assert second.missed_by == "mentee"
    assert PairRisk.objects.get(pair=pair).level == "act"
    flag = RiskFlag.objects.get(pair=pair)
    since = timezone.localtime(held.starts_at).date().isoformat()
    assert (flag.rule, flag.condition) == (Rule.FADING, f"since:{since}")
    assert "1 missed by the executive" in flag.reason


def test_nothing_is_queued_before_the_change_commits(pair, django_capture_on_commit_callbacks):
    session = past_session(pair)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        meetings.meeting_mark(
            meeting=session, by=pair.mentee, status="missed", led_by="", topic=None
        )

    assert callbacks  # the partner's e-mail and the detection, waiting for the commit
    assert not RiskFlag.objects.exists()


def test_a_pulse_is_saved_when_the_broker_is_down_and_the_hourly_scan_catches_up(
    client, pair, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    def broker_down(*args: object, **kwargs: object) -> None:
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    session = past_session(pair)
    monkeypatch.setattr(tasks.detect_pair_risks, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(pulse_url(pair.reverse_mentor, session), held_answers(good_fit="no"))

    assert response.status_code == 302
    assert Pulse.objects.get().good_fit is False
    assert not RiskFlag.objects.exists()

    assert tasks.detect_risks() == {"opened": 1, "updated": 0}
    assert RiskFlag.objects.get().rule == Rule.NOT_A_GOOD_FIT
