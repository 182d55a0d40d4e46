"""The broker is down: pages that ask for mail answer as usual and at once, their messages
wait in the outbox as pending, and once the broker is back the sweep hands them to a real
worker and every one arrives."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.test import Client

from mentoring.celery import app as celery_app
from notifications.models import Notification
from surveys.models import LinkRequest, Pulse
from tests.integration.workers import Workers
from tests.surveys.pulse_helpers import held_answers, past_session, pulse_url, running_pair

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from programmes.models import Programme
    from tests.smtp_server import Inbox

pytest_plugins = ["tests.smtp_server"]  # the smtp_server fixture
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Nothing listens on port 1: a connection is refused at once, as when Redis is stopped.
STOPPED_BROKER = "redis://127.0.0.1:1/0"
# Generous: this checks that a page does not wait for the broker, it is not a benchmark.
QUICKLY = 10.0


@contextmanager
def broker_stopped() -> Iterator[None]:
    """The real Celery app publishes to a broker that is not there. Celery reads the URL from
    the environment before its configuration, and keeps its connection and producer pools
    once made; they are dropped on the way in and on the way out (as Celery itself does
    after a fork), so the next publish connects to the broker in force."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CELERY_BROKER_URL", STOPPED_BROKER)
        patch.setitem(celery_app.conf, "broker_url", STOPPED_BROKER)
        patch.setattr(celery_app, "_pool", None)
        patch.setattr(celery_app.amqp, "_producer_pool", None)
        yield


@pytest.fixture
def workers(tmp_path: Path, smtp_server: "Inbox") -> Iterator[Workers]:
    with Workers(tmp_path, EMAIL_URL=smtp_server.url) as workers:
        yield workers


def _timed_post(client: Client, url: str, data: dict[str, str]) -> tuple[int, float]:
    started = time.monotonic()
    response = client.post(url, data)
    return response.status_code, time.monotonic() - started


def test_pages_work_while_the_broker_is_down_and_their_mail_goes_out_once_it_is_back(
    client: Client,
    programme: "Programme",
    manager: "User",
    workers: Workers,
    smtp_server: "Inbox",
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    manager.email = "alice@example.org"  # a "not a good fit" answer alerts her
    manager.save()
    pair = running_pair(programme=programme)
    session = past_session(pair)
    mentor_email = pair.reverse_mentor.person.email
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)

    with broker_stopped():
        pulse = _timed_post(client, pulse_url(pair.mentee, session), held_answers(good_fit="no"))
        links = _timed_post(client, "/link/", {"email": mentor_email})

    assert pulse[0] == links[0] == 302
    assert pulse[1] < QUICKLY, f"the pulse page took {pulse[1]:.1f} s with the broker down"
    assert links[1] < QUICKLY, f"the links page took {links[1]:.1f} s with the broker down"
    assert Pulse.objects.get().good_fit is False
    assert LinkRequest.objects.get().email == mentor_email
    waiting = Notification.objects.order_by("pk")
    assert [(n.kind, n.to_email, n.status, n.attempts) for n in waiting] == [
        ("rematch_alert", "alice@example.org", "pending", 0),
        ("participant_links", mentor_email, "pending", 0),
    ]

    workers.start()
    assert sorted(workers.sweep()) == [n.pk for n in waiting]
    deadline = time.monotonic() + 60
    while Notification.objects.exclude(status="sent").exists():
        assert time.monotonic() < deadline, (
            "not every message was sent within 60 s of the sweep: "
            f"{list(Notification.objects.values_list('kind', 'status', 'last_error'))}"
        )
        time.sleep(0.2)

    arrived = smtp_server.wait_for(2, timeout=5)
    assert sorted(message["To"] for message in arrived) == sorted(
        ["alice@example.org", mentor_email]
    )
    assert set(Notification.objects.values_list("status", "attempts")) == {("sent", 1)}
    assert workers.sweep() == []
