"""Checks shared by /healthz and the `healthcheck` management command."""

import logging
from datetime import timedelta

from celery import current_app as celery_app
from django.db import DatabaseError, connection
from django.utils import timezone

from health.models import Heartbeat

logger = logging.getLogger(__name__)

# Beat asks for a heartbeat every minute; three missed rounds mean worker or beat is down.
HEARTBEAT_STALE_AFTER = timedelta(minutes=3)


def check_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError as exc:
        logger.warning("Health check: database unreachable: %s", exc)
        return False


def check_broker() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)
    except Exception as exc:  # kombu raises a different error per transport and failure.
        logger.warning("Health check: broker unreachable: %s", exc)
        return False
    return True


def heartbeat_age() -> timedelta | None:
    """How long ago the worker last ran beat's heartbeat task, or None if it never has."""
    try:
        last_seen = (
            Heartbeat.objects.filter(name="celery").values_list("last_seen", flat=True).first()
        )
    except DatabaseError:
        return None
    return None if last_seen is None else timezone.now() - last_seen
