from celery import shared_task


@shared_task(soft_time_limit=120, time_limit=180)
def send_due_reminders() -> dict[str, int]:
    """Beat, every ten minutes: ask the outbox for the intake, agreement and session reminders
    that have come due. Run twice, the second run finds every reminder asked already."""
    from programmes.reminders import (
        agreement_reminders_due,
        intake_reminders_due,
        session_reminders_due,
    )

    return {
        "intake": intake_reminders_due(),
        "agreement": agreement_reminders_due(),
        "session": session_reminders_due(),
    }


@shared_task(soft_time_limit=120, time_limit=180)
def send_due_checkins() -> dict[str, int]:
    """Beat, every ten minutes: ask the missed-meetings check-ins that have come due, and
    make pairs whose pause is over active again. Run twice, the second run does nothing."""
    from programmes.checkins import checkins_due, pairs_resume_due

    return {"resumed": pairs_resume_due(), "asked": checkins_due()}


@shared_task(soft_time_limit=120, time_limit=180)
def send_due_digests() -> dict[str, int]:
    """Beat, every ten minutes: ask the managers' weekly digest and the sponsors' monthly
    status once they are due. Run twice, the second run finds them asked already."""
    from programmes.digests import risk_digests_due, sponsor_statuses_due

    return {"risk_digest": risk_digests_due(), "sponsor_status": sponsor_statuses_due()}


@shared_task(soft_time_limit=240, time_limit=300)
def compute_due_kpis() -> dict[str, int]:
    """Beat, every ten minutes: compute the KPI snapshots of each programme whose nightly
    computation has come due (programmes/kpis.py). Run twice, the second run finds them done."""
    from programmes.kpis import kpis_due

    return {"programmes": kpis_due()}


@shared_task(soft_time_limit=240, time_limit=300)
def compute_kpis(programme_id: int) -> int:
    """On demand (a manager's "recompute now"): the programme's KPI snapshots, recomputed.
    Returns how many rows were written; recomputing writes equal rows."""
    from programmes.kpis import kpis_compute
    from programmes.models import Programme

    programme = Programme.objects.filter(pk=programme_id).first()
    if programme is None:
        return 0
    return kpis_compute(programme=programme)


@shared_task(soft_time_limit=240, time_limit=300)
def detect_risks() -> dict[str, int]:
    """Beat, every hour (the daily rules, such as "no session for 30 days", come due with
    the clock): open or update the at-risk flags of every open pair (programmes/risks.py)."""
    from programmes.risks import risks_detect

    return risks_detect()


@shared_task(soft_time_limit=60, time_limit=90)
def detect_pair_risks(pair_id: int) -> dict[str, int]:
    """After a pulse or a session change: the same detection for one pair, queued on commit."""
    from programmes.risks import risks_detect

    return risks_detect(pair_ids=[pair_id])
