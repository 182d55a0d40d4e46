"""PostgreSQL drops a real worker's connection while the worker is inside the SMTP conversation
(a failover, a restart, an idle-connection reaper): the mail server accepts the message, the
UPDATE that marks the row sent meets a dead connection, and the worker reconnects and marks it.
Nothing is left for the sweep, however long after the lease it runs: one delivery per key, each
with its own Message-ID."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.db import connection, transaction

from mentoring.celery import app as celery_app
from notifications import tasks
from notifications.models import Notification
from notifications.sending import message_id
from notifications.services import notify
from programmes.models import Cohort
from tests.factories import ParticipantFactory
from tests.integration.workers import Workers, wait_until

if TYPE_CHECKING:
    from tests.smtp_server import Inbox

pytest_plugins = ["tests.smtp_server"]  # the smtp_server fixture
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = 4
# From the mail server's answer to the row marked sent: one reconnect after a 0.5 s pause.
MARKED_WITHIN = 10.0


@pytest.fixture
def workers(tmp_path: Path, smtp_server: "Inbox") -> Iterator[Workers]:
    env = {"EMAIL_URL": smtp_server.url, "NOTIFICATIONS_LEASE_SECONDS": str(LEASE_SECONDS)}
    with Workers(tmp_path, **env) as workers:
        yield workers


def _terminate_the_workers_connections() -> int:
    """What a failover does to the worker: every other client connection to this database is
    terminated by the server (this test's own is spared)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'"
        )
        return sum(1 for (terminated,) in cursor.fetchall() if terminated)


def test_a_connection_dropped_mid_send_is_reconnected_and_every_message_arrives_once(
    workers: Workers, smtp_server: "Inbox", monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("terminating a worker's connection needs PostgreSQL's pg_terminate_backend")
    keys = ["invite-1", "invite-2", "invite-3"]
    with monkeypatch.context() as patch:
        # notify() queues the send on commit, to the default queue; this test sends each row
        # to its own worker when it is ready for it.
        patch.setattr(tasks.send_notification, "delay", lambda *args, **kwargs: None)
        with transaction.atomic():
            for number, key in enumerate(keys, start=1):
                participant = ParticipantFactory(
                    cohort__status=Cohort.Status.INTAKE, person__email=f"p{number}@example.org"
                )
                notify(kind="intake_invitation", key=key, to=participant.person, about=participant)
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    workers.start()

    for key in keys:
        row = Notification.objects.get(key=key)
        held = smtp_server.hold_next(deliver=True)
        tasks.send_notification.apply_async(args=[row.pk], queue=workers.queue)
        assert held.reached.wait(60), f"the worker did not reach DATA for {key} within 60 s"
        assert _terminate_the_workers_connections() >= 1, "no worker connection to terminate"
        held.release()
        accepted = time.monotonic()
        wait_until(
            lambda row=row: Notification.objects.filter(pk=row.pk, status="sent").exists(),
            timeout=MARKED_WITHIN,
            failure=f"{key} was not marked sent after its connection was terminated",
            every=0.1,
        )
        assert time.monotonic() - accepted < MARKED_WITHIN

    assert [message["Message-ID"] for message in smtp_server.wait_for(3, timeout=5)] == [
        message_id(key) for key in keys
    ]
    rows = Notification.objects.order_by("pk")
    assert [(row.status, row.attempts, row.lease_until) for row in rows] == [("sent", 1, None)] * 3
    # Long after every lease the sweep finds nothing to send again.
    time.sleep(LEASE_SECONDS + 1)
    assert workers.sweep() == []
    time.sleep(1)
    delivered = [message["To"] for message in smtp_server.messages]
    assert delivered == ["p1@example.org", "p2@example.org", "p3@example.org"]
