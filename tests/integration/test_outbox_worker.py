"""A real worker killed with SIGKILL in the middle of a send: the mail server never accepted the
message, the row stays claimed until its lease runs out, then the sweep hands it to another
real worker, and exactly one message arrives."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.db import transaction

from mentoring.celery import app as celery_app
from notifications import tasks
from notifications.models import Notification
from notifications.sending import notifications_due
from notifications.services import notify
from programmes.models import Cohort
from tests.factories import ParticipantFactory
from tests.integration.workers import Workers, wait_until

if TYPE_CHECKING:
    from tests.smtp_server import Inbox

pytest_plugins = ["tests.smtp_server"]  # the smtp_server fixture
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = 3


@pytest.fixture
def workers(tmp_path: Path, smtp_server: "Inbox") -> Iterator[Workers]:
    env = {"EMAIL_URL": smtp_server.url, "NOTIFICATIONS_LEASE_SECONDS": str(LEASE_SECONDS)}
    with Workers(tmp_path, **env) as workers:
        yield workers


def test_a_worker_killed_mid_send_leaves_the_message_to_the_sweep_and_it_arrives_once(
    workers: Workers, smtp_server: "Inbox", monkeypatch: pytest.MonkeyPatch
) -> None:
    participant = ParticipantFactory(
        cohort__status=Cohort.Status.INTAKE, person__email="ada@example.org"
    )
    with monkeypatch.context() as patch:
        # notify() queues the send on commit, to the default queue; this test sends it to
        # its own worker instead.
        patch.setattr(tasks.send_notification, "delay", lambda *args, **kwargs: None)
        with transaction.atomic():
            notify(kind="intake_invitation", key="invite", to=participant.person, about=participant)
    row = Notification.objects.get()
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    held = smtp_server.hold_next()

    first = workers.start()
    tasks.send_notification.apply_async(args=[row.pk], queue=workers.queue)
    assert held.reached.wait(60), "the first worker did not reach DATA within 60 s"
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sending", 1)

    workers.kill(first)
    held.release()
    workers.start()
    wait_until(
        lambda: notifications_due() == [row.pk],
        timeout=LEASE_SECONDS + 10,
        failure="the dead worker's lease did not run out",
    )
    assert workers.sweep() == [row.pk]
    wait_until(
        lambda: Notification.objects.filter(pk=row.pk, status="sent").exists(),
        timeout=60,
        failure="the second worker did not send the swept row",
    )

    [message] = smtp_server.wait_for(1, timeout=5)
    assert message["To"] == "ada@example.org"
    row.refresh_from_db()
    assert (row.status, row.attempts, row.lease_until) == ("sent", 2, None)
    # A sent row is never due again, not even once the lease it was sent under has passed.
    assert workers.sweep() == []
    time.sleep(LEASE_SECONDS + 0.5)
    assert workers.sweep() == []
    assert len(smtp_server.messages) == 1
