"""With the broker down, the first failed publish opens a breaker and every other publish of
the request (and of the process, for its pause) is skipped instead of waiting for its own
failed connection: the rows stay pending and the sweep sends them."""

import pytest
from django.core import mail
from django.db import transaction

from matching import runs
from matching.models import MatchingRun
from notifications import tasks
from notifications.models import Notification
from notifications.sending import PUBLISH_BREAKER, publish
from notifications.services import notify
from pairs.signals import pair_activity_on_commit
from programmes.models import Cohort
from risks import tasks as risk_tasks
from tests.factories import CohortFactory, ParticipantFactory


class Attempts:
    """A publish that fails as a stopped broker does, counting each time it is tried."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args, **kwargs) -> None:
        self.count += 1
        raise ConnectionRefusedError("broker down")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def participants(programme):
    cohort = CohortFactory(programme=programme, status=Cohort.Status.INTAKE)
    return ParticipantFactory.create_batch(5, cohort=cohort)


def invite_each(participants) -> None:
    """Five notify calls in one transaction: five after-commit publishes."""
    with transaction.atomic():
        for participant in participants:
            notify(
                kind="intake_invitation",
                key=f"invite-{participant.pk}",
                to=participant.person,
                about=participant,
            )


def test_it_tries_the_broker_once_per_request_and_the_sweep_sends_the_rest(
    participants, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    down = Attempts()
    monkeypatch.setattr(tasks.send_notification, "delay", down)

    with django_capture_on_commit_callbacks(execute=True):
        invite_each(participants)

    assert down.count == 1
    assert list(Notification.objects.values_list("status", flat=True)) == ["pending"] * 5
    assert mail.outbox == []

    monkeypatch.undo()  # the broker is back; the sweep does not wait for the breaker
    assert tasks.sweep_notifications() == 5
    assert set(Notification.objects.values_list("status", "attempts")) == {("sent", 1)}
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        participant.person.email for participant in participants
    )


def test_one_batch_of_many_rows_tries_the_broker_once(
    participants, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    down = Attempts()
    monkeypatch.setattr(tasks.send_notification, "delay", down)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for participant in participants:
            notify(kind="intake_invitation", key=f"a-{participant.pk}", to=participant.person)
        notify(kind="intake_invitation", key="one-more", to=participants[0].person)

    assert down.count == 1
    assert Notification.objects.filter(status="pending").count() == 6


def test_the_breaker_closes_again_after_its_pause(monkeypatch) -> None:
    clock = Clock()
    monkeypatch.setattr(PUBLISH_BREAKER, "clock", clock)
    down = Attempts()

    assert publish(down) is False
    assert down.count == 1
    clock.now += PUBLISH_BREAKER.pause - 1
    assert publish(down) is False
    assert down.count == 1  # skipped: still within the pause

    clock.now += 1
    sent = []
    assert publish(lambda: sent.append("sent")) is True
    assert sent == ["sent"]
    assert publish(lambda: sent.append("again")) is True
    assert sent == ["sent", "again"]


def test_a_failure_while_trying_again_opens_it_for_another_pause(monkeypatch) -> None:
    clock = Clock()
    monkeypatch.setattr(PUBLISH_BREAKER, "clock", clock)
    down = Attempts()

    publish(down)
    clock.now += PUBLISH_BREAKER.pause
    assert publish(down) is False
    clock.now += PUBLISH_BREAKER.pause - 1
    assert publish(down) is False

    assert down.count == 2


def test_a_matching_run_started_after_a_failed_publish_is_left_to_the_sweep(
    programme, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    cohort = CohortFactory(programme=programme, status=Cohort.Status.INTAKE)
    publish(Attempts())  # the outbox found the broker down a moment ago
    down = Attempts()
    monkeypatch.setattr(runs.run_matching, "delay", down)

    with django_capture_on_commit_callbacks(execute=True):
        run = runs.matching_run_start(cohort=cohort)

    assert down.count == 0
    run = MatchingRun.objects.get(pk=run.pk)
    assert (run.status, run.queued_at, run.message) == ("queued", None, runs.QUEUE_DOWN)


def test_a_pairs_risk_scan_after_a_failed_publish_is_left_to_the_hourly_scan(
    monkeypatch, django_capture_on_commit_callbacks, db
) -> None:
    publish(Attempts())
    down = Attempts()
    monkeypatch.setattr(risk_tasks.detect_pair_risks, "delay", down)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        pair_activity_on_commit(pair_id=1)

    assert down.count == 0


def test_a_sweep_tries_the_broker_whatever_the_breaker_says_and_closes_it() -> None:
    publish(Attempts())
    sent = []

    assert publish(lambda: sent.append("skipped")) is False
    assert publish(lambda: sent.append("swept"), sweep=True) is True
    assert publish(lambda: sent.append("after")) is True

    assert sent == ["swept", "after"]
