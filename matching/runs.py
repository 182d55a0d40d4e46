"""Matching runs from start to result, and what keeps them moving when something breaks.

- ``matching_run_start`` records a run and hands it to the task queue once the transaction
  commits; a broker that cannot be reached leaves the run queued (never a server error), and
  beat's sweep hands it out later.
- A worker claims a queued run with a conditional UPDATE (so a duplicated or redelivered
  message does nothing) and owns it under a lease it renews at every stage.
- ``matching_runs_due`` is what the sweep hands out again: queued runs whose message may have
  been lost, and running runs whose lease ran out (the worker died). After ``MAX_ATTEMPTS``
  the run fails with a message that says so.

The Celery tasks live here, beside the services they call (``matching.tasks`` imports them
for discovery), so that starting a run can queue one without an import going back up.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from audit.models import AuditEntry
from audit.records import audit_record
from matching import engine
from matching.cohort_data import cohort_data, policy_for
from matching.explain import proposals_for, waiting_for
from matching.models import (
    MAX_ATTEMPTS,
    STAGES,
    MatchingRun,
    ProposedPair,
    Stage,
    WaitingEntry,
)
from notifications.sending import publish
from programmes.models import Cohort

logger = logging.getLogger(__name__)

LOADING, SCORING, SOLVING, EXPLAINING, SAVING = STAGES
# A queued run not taken up this long after it was handed out is handed out again: its
# message may have been lost with the broker. A worker that is merely busy then finds a
# second message for a run it has already claimed, and drops it.
REQUEUE_AFTER = timedelta(minutes=2)
# Time limits: far below the broker's one-hour visibility timeout, so a message is never
# redelivered while its task is still running; 5,000 a side takes well under a minute.
SOFT_TIME_LIMIT = 10 * 60
TIME_LIMIT = 11 * 60
QUEUE_DOWN = (
    "The task queue could not be reached when the run started: the run waits and is handed "
    "to a worker as soon as the queue is back (checked every minute)."
)


class RunLost(Exception):
    """This worker no longer owns the run: its lease ran out and the run was handed to
    another worker, or it was failed meanwhile. Stop without writing anything."""


def lease() -> timedelta:
    """How long a worker owns a run without news from it (MATCHING_LEASE_SECONDS). Renewed at
    every stage, so it only has to outlast the longest stage; below the broker's visibility
    timeout, so the sweep, not a redelivery, restarts a run whose worker died."""
    return timedelta(seconds=settings.MATCHING_LEASE_SECONDS)


# --- start ------------------------------------------------------------------------------------


def matching_run_start(
    *, cohort: Cohort, user=None, protect_worst_off: bool | None = None
) -> MatchingRun:
    """Record a run and queue it after commit. Matching starts: intakes lock. The cohort's
    row is locked while the run is recorded, as approval locks it, so a run cannot be
    approved while a newer one is being started."""
    policy = policy_for(cohort)
    with transaction.atomic():
        locked = Cohort.objects.select_for_update().only("status").get(pk=cohort.pk)
        if locked.status in (Cohort.Status.PLANNED, Cohort.Status.INTAKE):
            Cohort.objects.filter(pk=cohort.pk).update(status=Cohort.Status.MATCHING)
            cohort.status = Cohort.Status.MATCHING
        run = MatchingRun.objects.create(
            cohort=cohort,
            weights=policy.weights,
            protect_worst_off=policy.protect_worst_off
            if protect_worst_off is None
            else protect_worst_off,
            allow_without_shared_time=policy.allow_without_shared_time,
            created_by=user,
            queued_at=timezone.now(),
        )
        audit_record(
            AuditEntry.Event.MATCHING_STARTED,
            by=user,
            target=run,
            programme=cohort.programme,
            changes={"status": ("", run.get_status_display())},
        )
        run_id = run.pk
        transaction.on_commit(lambda: _hand_out(run_id, on_failure=QUEUE_DOWN))
    return run


def _hand_out(run_id: int, *, on_failure: str = "", sweep: bool = False) -> bool:
    """Give the run to the task queue through the outbox's ``publish`` (its breaker skips the
    broker for a while after a failure). A broker that is down is logged and noted on the run,
    never raised: the sweep tries again."""
    if not publish(lambda: run_matching.delay(run_id), sweep=sweep):
        logger.warning("Matching run %s could not be queued; the sweep will", run_id)
        fields: dict[str, str | None] = {"queued_at": None}
        if on_failure:
            fields["message"] = on_failure
        MatchingRun.objects.filter(pk=run_id, status=MatchingRun.Status.QUEUED).update(**fields)
        return False
    return True


# --- claim and execute ------------------------------------------------------------------------


def matching_run_claim(*, run_id: int) -> MatchingRun | None:
    """Take a queued run for this worker: one conditional UPDATE, so of two deliveries of
    the same message only one gets the run. None if it is not queued any more."""
    now = timezone.now()
    claimed = MatchingRun.objects.filter(
        pk=run_id, status=MatchingRun.Status.QUEUED, attempts__lt=MAX_ATTEMPTS
    ).update(
        status=MatchingRun.Status.RUNNING,
        started_at=now,
        attempts=F("attempts") + 1,
        lease_until=now + lease(),
        progress=0,
        stage="",
    )
    if not claimed:
        return None
    return MatchingRun.objects.select_related("cohort__programme").get(pk=run_id)


def _mine(run: MatchingRun) -> Q:
    """The run as this worker claimed it: still running, and not claimed again since (each
    claim counts an attempt)."""
    return Q(pk=run.pk, status=MatchingRun.Status.RUNNING, attempts=run.attempts)


def _reach(run: MatchingRun, stage: Stage) -> None:
    """Record the stage and renew the lease; stop if the run is no longer this worker's."""
    renewed = MatchingRun.objects.filter(_mine(run)).update(
        progress=stage.percent, stage=stage.label, lease_until=timezone.now() + lease()
    )
    if not renewed:
        raise RunLost(run.pk)
    run.progress, run.stage = stage.percent, stage.label


def matching_run_execute(*, run: MatchingRun) -> MatchingRun:
    """Do the run, claiming it first if it is still queued; never raises for a cohort's
    content: an empty side or a cohort where everyone is ruled out ends with a clear report.
    Raises RunLost if another worker took the run over meanwhile (nothing is written then)."""
    if run.status == MatchingRun.Status.QUEUED:
        claimed = matching_run_claim(run_id=run.pk)
        if claimed is None:
            raise RunLost(run.pk)
        run = claimed
    cohort = run.cohort
    _reach(run, LOADING)
    data = cohort_data(cohort, allow_without_shared_time=run.allow_without_shared_time)
    waiting: list[WaitingEntry] = [
        WaitingEntry(run=run, participant=p, reason="Intake not completed yet.")
        for p in data.without_intake
    ]
    proposals: list[ProposedPair] = []
    notes = []
    if run.attempts > 1:
        notes.append(f"Restarted after a worker stopped (attempt {run.attempts}).")
    solution = None
    if not data.mentees or not data.mentors:
        missing = "mentees" if not data.mentees else "reverse-mentors"
        notes.append(f"No {missing} with a completed intake: nobody could be matched.")
        waiting += [
            WaitingEntry(run=run, participant=p, reason=f"No {missing} with a completed intake.")
            for p in data.mentees + data.mentors
        ]
    else:
        _reach(run, SCORING)
        problem = engine.build_problem(
            data.mentee_side, data.mentor_side, weights=run.weights, constraints=data.constraints
        )
        _reach(run, SOLVING)
        solution = engine.solve(
            problem, constraints=data.constraints, protect_worst_off=run.protect_worst_off
        )
        _reach(run, EXPLAINING)
        proposals = proposals_for(run, data, problem, solution)
        waiting += waiting_for(run, data, problem, solution)
        if not solution.pairs:
            notes.append("The rules rule out every possible pair: see the waiting list.")
    _reach(run, SAVING)
    with transaction.atomic():
        # Lock the run's row, then check it is still this worker's: a worker whose lease ran
        # out while it was slow must not overwrite the result of the one that took over.
        if not MatchingRun.objects.select_for_update().filter(_mine(run)).exists():
            raise RunLost(run.pk)
        run.proposals.all().delete()
        run.waiting.all().delete()
        ProposedPair.objects.bulk_create(proposals, batch_size=1000)
        WaitingEntry.objects.bulk_create(waiting, batch_size=1000)
        run.status = MatchingRun.Status.DONE
        run.progress = 100
        run.stage = "Done"
        run.finished_at = timezone.now()
        run.lease_until = None
        run.total_score = solution.total if solution and solution.pairs else None
        run.lowest_score = solution.lowest if solution and solution.pairs else None
        run.matched_count = len(proposals)
        run.waiting_count = len(waiting)
        run.message = " ".join(notes)
        run.save()
    return run


def matching_run_fail(*, run: MatchingRun, message: str) -> bool:
    """Fail a run this worker owns, with a message for the manager. False if it was not
    this worker's any more."""
    return bool(
        MatchingRun.objects.filter(_mine(run)).update(
            status=MatchingRun.Status.FAILED,
            finished_at=timezone.now(),
            lease_until=None,
            message=message,
        )
    )


# --- the sweep --------------------------------------------------------------------------------


def matching_runs_due(*, now: datetime | None = None) -> list[int]:
    """What beat's sweep hands to a worker again, oldest first; first, runs whose worker
    stopped go back to the queue, or fail once they have had MAX_ATTEMPTS. Each run handed
    out is stamped, so a busy queue gets at most one extra message per REQUEUE_AFTER."""
    now = now or timezone.now()
    # A lease of NULL while running: a run claimed before runs had leases.
    stopped = Q(status=MatchingRun.Status.RUNNING) & (
        Q(lease_until__lt=now) | Q(lease_until__isnull=True)
    )
    MatchingRun.objects.filter(stopped, attempts__gte=MAX_ATTEMPTS).update(
        status=MatchingRun.Status.FAILED,
        finished_at=now,
        lease_until=None,
        message=(
            f"A worker stopped in the middle of this run {MAX_ATTEMPTS} times (the run may "
            "need more memory or time than a worker has). Rerun it, or ask your "
            "administrator to check the workers."
        ),
    )
    MatchingRun.objects.filter(stopped, attempts__lt=MAX_ATTEMPTS).update(
        status=MatchingRun.Status.QUEUED,
        lease_until=None,
        queued_at=None,
        progress=0,
        stage="",
        message="A worker stopped in the middle of the run; it was handed to another.",
    )
    due = MatchingRun.objects.filter(
        Q(queued_at__isnull=True) | Q(queued_at__lt=now - REQUEUE_AFTER),
        status=MatchingRun.Status.QUEUED,
    )
    ids = list(due.order_by("created_at", "pk").values_list("pk", flat=True))
    MatchingRun.objects.filter(pk__in=ids).update(queued_at=now)
    return ids


# --- tasks ------------------------------------------------------------------------------------


# Named as before the split, so messages already queued still find their task.
@shared_task(
    name="matching.tasks.run_matching",
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=TIME_LIMIT,
    acks_late=True,
    reject_on_worker_lost=True,
)
def run_matching(run_id: int) -> None:
    run = matching_run_claim(run_id=run_id)
    if run is None:
        return  # redelivered or duplicated: another delivery has it, or had it
    try:
        matching_run_execute(run=run)
    except RunLost:
        logger.warning("Matching run %s was taken over by another worker", run_id)
    except SoftTimeLimitExceeded:
        logger.warning("Matching run %s ran out of time", run_id)
        matching_run_fail(
            run=run,
            message=f"The run took longer than {SOFT_TIME_LIMIT // 60} minutes and was "
            "stopped. Try again; if it happens again, ask your administrator.",
        )
    except Exception:
        logger.exception("Matching run %s failed", run_id)
        matching_run_fail(
            run=run,
            message="The run stopped on an unexpected error; it has been logged. Try again.",
        )
        raise


@shared_task(name="matching.tasks.sweep_matching_runs", soft_time_limit=60, time_limit=90)
def sweep_matching_runs() -> int:
    """Beat, every minute: hand out runs lost with the broker or left by a worker that died."""
    due = matching_runs_due()
    for run_id in due:
        _hand_out(run_id, sweep=True)
    return len(due)
