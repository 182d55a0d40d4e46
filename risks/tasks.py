from celery import shared_task

from risks.checkins import checkins_due, pairs_resume_due
from risks.detection import risks_detect
from risks.digests import risk_digests_due
from risks.learning import refit_all


@shared_task(soft_time_limit=120, time_limit=180)
def send_due_checkins() -> dict[str, int]:
    """Beat, every ten minutes: ask the missed-meetings check-ins that have come due, and
    make pairs whose pause is over active again. Run twice, the second run does nothing."""
    return {"resumed": pairs_resume_due(), "asked": checkins_due()}


@shared_task(soft_time_limit=120, time_limit=180)
def send_due_digests() -> dict[str, int]:
    """Beat, every ten minutes: ask the managers' weekly digest once it is due. Run twice,
    the second run finds it asked already."""
    return {"risk_digest": risk_digests_due()}


@shared_task(soft_time_limit=240, time_limit=300)
def detect_risks() -> dict[str, int]:
    """Beat, every hour (the daily rules, such as "no session for 30 days", come due with
    the clock): open or update the at-risk flags of every open pair (risks/detection.py)."""
    return risks_detect()


@shared_task(soft_time_limit=60, time_limit=90)
def detect_pair_risks(pair_id: int) -> dict[str, int]:
    """After a pulse or a session change: the same detection for one pair, queued on commit."""
    return risks_detect(pair_ids=[pair_id])


@shared_task(soft_time_limit=1200, time_limit=1500)
def refit_risk_models() -> dict[str, int]:
    """Beat, nightly: refit each programme's risk-score weights on its ended pairs
    (risks/learning.py). Run twice, the second run changes nothing."""
    return refit_all()
