from celery import shared_task

from programmes.models import Programme
from reporting.digests import sponsor_statuses_due
from reporting.kpis import kpis_compute, kpis_due


@shared_task(soft_time_limit=120, time_limit=180)
def send_due_sponsor_statuses() -> dict[str, int]:
    """Beat, every ten minutes: ask the sponsors' monthly status once it is due. Run twice,
    the second run finds it asked already."""
    return {"sponsor_status": sponsor_statuses_due()}


@shared_task(soft_time_limit=240, time_limit=300)
def compute_due_kpis() -> dict[str, int]:
    """Beat, every ten minutes: compute the KPI snapshots of each programme whose nightly
    computation has come due (reporting/kpis.py). Run twice, the second run finds them done."""
    return {"programmes": kpis_due()}


@shared_task(soft_time_limit=240, time_limit=300)
def compute_kpis(programme_id: int) -> int:
    """On demand (a manager's "recompute now"): the programme's KPI snapshots, recomputed.
    Returns how many rows were written; recomputing writes equal rows."""
    programme = Programme.objects.filter(pk=programme_id).first()
    if programme is None:
        return 0
    return kpis_compute(programme=programme)
