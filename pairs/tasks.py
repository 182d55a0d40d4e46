from celery import shared_task

from pairs.reminders import agreement_reminders_due, session_reminders_due


@shared_task(soft_time_limit=120, time_limit=180)
def send_due_reminders() -> dict[str, int]:
    """Beat, every ten minutes: ask the outbox for the agreement and session reminders that
    have come due. Run twice, the second run finds every reminder asked already."""
    return {"agreement": agreement_reminders_due(), "session": session_reminders_due()}
