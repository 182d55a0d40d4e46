"""Matching runs that survive faults: queueing after commit with the broker down, the claim
and its lease, the sweep that hands a run out again or fails it, a slow worker that lost its
lease writing nothing, time limits, and the stages a run reports on its way."""

from datetime import timedelta

import pytest
import time_machine
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from matching import engine, runs
from matching.models import MAX_ATTEMPTS, STAGES, MatchingRun
from matching.runs import (
    QUEUE_DOWN,
    REQUEUE_AFTER,
    RunLost,
    matching_run_claim,
    matching_run_execute,
    matching_run_start,
    matching_runs_due,
    run_matching,
    sweep_matching_runs,
)
from mentoring.celery import app as celery_app
from programmes.models import Cohort
from tests.factories import CohortFactory
from tests.matching.test_services import mentee, mentor

pytestmark = pytest.mark.django_db


@pytest.fixture
def cohort() -> Cohort:
    cohort = CohortFactory(status=Cohort.Status.INTAKE)
    mentee(cohort), mentee(cohort), mentor(cohort), mentor(cohort)
    return cohort


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """``delay`` fails as it does within a second when Redis is stopped."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(run_matching, "delay", refuse)


def _queued(cohort: Cohort) -> MatchingRun:
    """A run recorded and queued, its message lost (no on-commit callback runs here)."""
    return matching_run_start(cohort=cohort)


def _lease_runs_out(run: MatchingRun):
    return time_machine.travel(run.lease_until + timedelta(seconds=1), tick=False)


# --- queueing ---------------------------------------------------------------------------------


def test_it_leaves_the_run_queued_with_a_clear_message_when_the_broker_is_down(
    cohort: Cohort, broker_down: None, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        run = matching_run_start(cohort=cohort)  # no exception reaches the caller

    run.refresh_from_db()
    assert (run.status, run.queued_at, run.message) == ("queued", None, QUEUE_DOWN)
    assert run.situation == "Queued: waiting for a worker. " + QUEUE_DOWN
    assert matching_runs_due() == [run.pk]  # the next sweep hands it out


def test_the_sweep_hands_out_a_lost_run_and_a_worker_then_does_it(
    cohort: Cohort, broker_down: None, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        run = matching_run_start(cohort=cohort)
    monkeypatch.undo()  # the broker is back

    assert sweep_matching_runs() == 1  # eager in the tests: the run is done at once

    run.refresh_from_db()
    assert (run.status, run.attempts, run.matched_count) == ("done", 1, 2)
    assert run.lease_until is None
    assert sweep_matching_runs() == 0


def test_a_queued_run_is_handed_out_again_only_after_a_while_and_once_a_sweep(
    cohort: Cohort,
) -> None:
    run = _queued(cohort)

    assert matching_runs_due() == []  # its message is probably in the queue
    with time_machine.travel(timezone.now() + REQUEUE_AFTER + timedelta(seconds=1)):
        assert matching_runs_due() == [run.pk]
        assert matching_runs_due() == []  # stamped: a busy queue gets one extra message


def test_a_second_delivery_of_the_same_message_does_nothing(cohort: Cohort) -> None:
    run = _queued(cohort)

    first = matching_run_claim(run_id=run.pk)
    second = matching_run_claim(run_id=run.pk)

    assert first is not None
    assert first.attempts == 1
    assert second is None
    run_matching(run.pk)  # the task itself: not claimed, returns
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("running", 1)


# --- the lease ----------------------------------------------------------------------------------


def test_a_claim_holds_a_lease_below_the_brokers_visibility_timeout(cohort: Cohort) -> None:
    run = _queued(cohort)
    with time_machine.travel(timezone.now(), tick=False):
        claimed = matching_run_claim(run_id=run.pk)
        lease = claimed.lease_until - timezone.now()

    assert lease == timedelta(seconds=settings.MATCHING_LEASE_SECONDS)
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    assert visibility > settings.MATCHING_LEASE_SECONDS
    assert runs.SOFT_TIME_LIMIT < runs.TIME_LIMIT < visibility
    assert run_matching.acks_late
    assert run_matching.reject_on_worker_lost
    assert (run_matching.soft_time_limit, run_matching.time_limit) == (
        runs.SOFT_TIME_LIMIT,
        runs.TIME_LIMIT,
    )


def test_beat_sweeps_matching_runs_every_minute() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-matching-runs"]
    assert entry["task"] == "matching.tasks.sweep_matching_runs"
    assert entry["task"] in celery_app.tasks
    assert entry["schedule"] == 60.0


def test_a_run_whose_worker_stopped_is_handed_out_again_and_says_so(cohort: Cohort) -> None:
    run = matching_run_claim(run_id=_queued(cohort).pk)

    assert matching_runs_due() == []  # the lease has not run out: the worker may be busy
    with _lease_runs_out(run):
        assert matching_runs_due() == [run.pk]

    run.refresh_from_db()
    assert (run.status, run.attempts, run.lease_until) == ("queued", 1, None)
    assert run.situation == (
        f"Restarted after a worker stopped (attempt 2 of {MAX_ATTEMPTS}): waiting for a "
        "worker. A worker stopped in the middle of the run; it was handed to another."
    )
    done = matching_run_execute(run=run)
    assert (done.status, done.attempts) == ("done", 2)
    assert "Restarted after a worker stopped (attempt 2)." in done.message


def test_a_run_whose_worker_keeps_stopping_fails_with_a_message(cohort: Cohort) -> None:
    run = _queued(cohort)
    for _ in range(MAX_ATTEMPTS):
        claimed = matching_run_claim(run_id=run.pk)
        with _lease_runs_out(claimed):
            matching_runs_due()

    run.refresh_from_db()
    assert (run.status, run.attempts) == ("failed", MAX_ATTEMPTS)
    assert run.finished_at is not None
    assert run.situation.startswith(
        f"Failed: A worker stopped in the middle of this run {MAX_ATTEMPTS} times"
    )
    assert matching_run_claim(run_id=run.pk) is None
    assert matching_runs_due() == []


def test_a_run_left_running_before_runs_had_leases_is_handed_out(cohort: Cohort) -> None:
    run = _queued(cohort)
    MatchingRun.objects.filter(pk=run.pk).update(status="running", lease_until=None, attempts=1)

    assert matching_runs_due() == [run.pk]
    run.refresh_from_db()
    assert run.status == "queued"


def test_a_slow_worker_whose_lease_ran_out_writes_nothing(cohort: Cohort) -> None:
    run = _queued(cohort)
    slow = matching_run_claim(run_id=run.pk)
    with _lease_runs_out(slow):
        matching_runs_due()
    fast = matching_run_claim(run_id=run.pk)
    matching_run_execute(run=fast)
    proposals = list(run.proposals.values_list("pk", flat=True))

    with pytest.raises(RunLost):
        matching_run_execute(run=slow)

    run.refresh_from_db()
    assert (run.status, run.attempts) == ("done", 2)
    assert list(run.proposals.values_list("pk", flat=True)) == proposals


def test_every_stage_renews_the_lease_and_is_recorded_in_order(
    cohort: Cohort, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = matching_run_claim(run_id=_queued(cohort).pk)
    seen = []
    reach = runs._reach

    def spy(run: MatchingRun, stage) -> None:
        with time_machine.travel(timezone.now() + timedelta(seconds=len(seen) + 1), tick=False):
            reach(run, stage)
        seen.append(
            MatchingRun.objects.values_list("stage", "progress", "lease_until").get(pk=run.pk)
        )

    monkeypatch.setattr(runs, "_reach", spy)

    matching_run_execute(run=run)

    assert [(stage, percent) for stage, percent, _ in seen] == [tuple(s) for s in STAGES]
    leases = [lease for _, _, lease in seen]
    assert leases == sorted(leases)
    assert len(set(leases)) == len(leases)


def test_an_empty_side_still_passes_its_stages_to_the_end(monkeypatch) -> None:
    cohort = CohortFactory(status=Cohort.Status.INTAKE)
    mentee(cohort)
    seen = []
    reach = runs._reach
    monkeypatch.setattr(runs, "_reach", lambda run, stage: (seen.append(stage), reach(run, stage)))

    run = matching_run_execute(run=_queued(cohort))

    assert seen == [STAGES[0], STAGES[-1]]
    assert (run.status, run.progress, run.stage) == ("done", 100, "Done")


# --- time limits and errors -------------------------------------------------------------------


def test_a_run_that_runs_out_of_time_fails_with_a_message(
    cohort: Cohort, monkeypatch: pytest.MonkeyPatch
) -> None:
    def too_slow(*args: object, **kwargs: object) -> None:
        raise SoftTimeLimitExceeded

    monkeypatch.setattr(engine, "solve", too_slow)
    run = _queued(cohort)

    run_matching(run.pk)

    run.refresh_from_db()
    assert (run.status, run.lease_until) == ("failed", None)
    assert run.situation == (
        "Failed: The run took longer than 10 minutes and was stopped. Try again; if it "
        "happens again, ask your administrator."
    )


def test_an_unexpected_error_fails_the_run_and_is_raised_for_the_log(
    cohort: Cohort, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("a bug")

    monkeypatch.setattr(engine, "solve", broken)
    run = _queued(cohort)

    with pytest.raises(ValueError, match="a bug"):
        run_matching(run.pk)

    run.refresh_from_db()
    assert run.status == "failed"
    assert "unexpected error" in run.message
    assert "a bug" not in run.message
