import logging

from celery import shared_task
from django.utils import timezone

from matching import services
from matching.models import MatchingRun

logger = logging.getLogger(__name__)


# Below the one-hour Redis visibility timeout with a wide margin; 5,000 a side takes well
# under a minute.
@shared_task(soft_time_limit=10 * 60, time_limit=11 * 60)
def run_matching(run_id: int) -> None:
    # Claim: a redelivered or duplicated message finds the run no longer queued.
    claimed = MatchingRun.objects.filter(pk=run_id, status=MatchingRun.Status.QUEUED).update(
        status=MatchingRun.Status.RUNNING, started_at=timezone.now(), progress=5
    )
    if not claimed:
        return
    run = MatchingRun.objects.select_related("cohort__programme").get(pk=run_id)
    try:
        services.matching_run_execute(run=run)
    except Exception:
        logger.exception("Matching run %s failed", run_id)
        MatchingRun.objects.filter(pk=run_id).update(
            status=MatchingRun.Status.FAILED,
            finished_at=timezone.now(),
            message="The run stopped on an unexpected error; it has been logged. Try again.",
        )
        raise
