import socket

from celery import shared_task
from django.utils import timezone

from health.models import Heartbeat


@shared_task(soft_time_limit=20, time_limit=30)
def record_heartbeat() -> None:
    """Beat schedules this every minute; /healthz reports its age. Running it twice only
    moves the same row's time forward."""
    Heartbeat.objects.update_or_create(
        name="celery",
        defaults={"last_seen": timezone.now(), "hostname": socket.gethostname()},
    )
