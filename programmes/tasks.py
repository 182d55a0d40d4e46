from celery import shared_task

from programmes.reminders import intake_reminders_due


@shared_task(soft_time_limit=120, time_limit=180)
def send_due_intake_reminders() -> dict[str, int]:
    """Beat, every ten minutes: ask the outbox for the intake reminders that have come due.
    Run twice, the second run finds every reminder asked already."""
    return {"intake": intake_reminders_due()}
