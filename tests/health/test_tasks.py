import pytest
import time_machine
from django.utils import timezone

from health.models import Heartbeat
from health.tasks import record_heartbeat

pytestmark = pytest.mark.django_db


def test_it_moves_one_heartbeat_forward_however_often_it_runs() -> None:
    with time_machine.travel("2026-11-23 09:00:00Z", tick=False):
        record_heartbeat.delay()
    with time_machine.travel("2026-11-23 09:01:00Z", tick=False):
        record_heartbeat.delay()
        record_heartbeat.delay()

    beat = Heartbeat.objects.get()
    assert beat.last_seen == timezone.datetime.fromisoformat("2026-11-23T09:01:00+00:00")
