"""Matching runs against a real worker, broker and PostgreSQL: a worker SIGKILLed in the middle
of a run leaves it to the sweep once its lease runs out, and another worker finishes it once;
with the broker at a closed port, a rerun answers at once, the run waits as queued, and the
sweep hands it to a worker once the broker is back."""

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from matching.models import MatchingRun
from matching.runs import matching_run_start, matching_runs_due, run_matching
from mentoring.celery import app as celery_app
from programmes.models import Cohort
from tests.factories import CohortFactory
from tests.integration.test_outbox_broker_down import QUICKLY, broker_stopped
from tests.integration.workers import Workers, database_url, wait_until
from tests.matching.test_services import mentee, mentor

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = 3
SAVING = "Saving the proposal"


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    with Workers(tmp_path, MATCHING_LEASE_SECONDS=str(LEASE_SECONDS)) as workers:
        yield workers


@pytest.fixture
def cohort(programme) -> Cohort:
    cohort = CohortFactory(programme=programme, status=Cohort.Status.INTAKE)
    for _ in range(3):
        mentee(cohort), mentor(cohort)
    return cohort


def _sweep(workers: Workers) -> list[int]:
    """What beat's sweep does, routed to this test's queue."""
    due = matching_runs_due()
    for run_id in due:
        run_matching.apply_async(args=[run_id], queue=workers.queue)
    return due


def _status(run: MatchingRun) -> tuple[str, str, int]:
    return MatchingRun.objects.values_list("status", "stage", "attempts").get(pk=run.pk)


def test_a_worker_killed_mid_run_leaves_the_run_to_the_sweep_and_another_finishes_it_once(
    workers: Workers, cohort: Cohort, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    run = matching_run_start(cohort=cohort)  # no on-commit here: the test routes the message
    # Hold the proposals table from another connection: the worker gets through every stage
    # and stops, waiting, where it saves. It is killed there.
    holder = psycopg2.connect(database_url())  # a transaction is open from the first query
    try:
        holder.cursor().execute("LOCK TABLE matching_proposedpair IN EXCLUSIVE MODE")
        first = workers.start()
        run_matching.apply_async(args=[run.pk], queue=workers.queue)
        wait_until(
            lambda: _status(run) == ("running", SAVING, 1),
            timeout=60,
            failure="the first worker did not reach the saving stage",
        )
        workers.kill(first)
    finally:
        holder.rollback()
        holder.close()

    assert not run.proposals.exists()
    workers.start()
    wait_until(
        lambda: matching_runs_due() == [run.pk],
        timeout=LEASE_SECONDS + 30,
        failure="the dead worker's lease did not run out and the run was not handed out",
    )
    run.refresh_from_db()
    assert run.situation.startswith("Restarted after a worker stopped (attempt 2 of 3)")
    run_matching.apply_async(args=[run.pk], queue=workers.queue)  # the sweep's message
    wait_until(
        lambda: _status(run)[0] == "done",
        timeout=60,
        failure="the second worker did not finish the run",
    )

    run.refresh_from_db()
    assert (run.status, run.attempts, run.matched_count, run.lease_until) == ("done", 2, 3, None)
    assert run.proposals.count() == 3
    assert "Restarted after a worker stopped (attempt 2)." in run.message
    assert _sweep(workers) == []
    time.sleep(LEASE_SECONDS + 0.5)
    assert _sweep(workers) == []  # a finished run is never handed out again


def test_a_rerun_while_the_broker_is_down_waits_and_runs_once_the_broker_is_back(
    client: Client,
    manager: User,
    cohort: Cohort,
    workers: Workers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    finished = matching_run_start(cohort=cohort)  # eager: done at once on commit
    assert MatchingRun.objects.get(pk=finished.pk).status == "done"
    client.force_login(manager)
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)

    with broker_stopped():
        started = time.monotonic()
        response = client.post(f"/admin/matching/matchingrun/{finished.pk}/rerun/")
        took = time.monotonic() - started

    assert response.status_code == 302
    assert took < QUICKLY, f"the rerun took {took:.1f} s with the broker down"
    waiting = MatchingRun.objects.exclude(pk=finished.pk).get()
    assert (waiting.status, waiting.queued_at) == ("queued", None)
    page = client.get(response.url).content.decode()
    assert "Queued: waiting for a worker. The task queue could not be reached" in page

    workers.start()
    assert _sweep(workers) == [waiting.pk]
    wait_until(
        lambda: _status(waiting)[0] == "done",
        timeout=60,
        failure="the swept run was not done by the worker",
    )
    waiting.refresh_from_db()
    assert (waiting.attempts, waiting.matched_count) == (1, 3)
    assert connection.vendor == "postgresql"
