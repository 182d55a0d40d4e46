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
