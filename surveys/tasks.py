from celery import shared_task

from surveys.pulses import pulse_requests_due
from surveys.reminders import feedback_reminders_due, pulse_reminders_due


@shared_task(soft_time_limit=60, time_limit=120)
def request_due_pulses() -> int:
    """Beat: write the pulse requests that have come due, each with its e-mail in the outbox.
    Run twice, the second run finds every request written and asks for nothing."""

    return pulse_requests_due()


@shared_task(soft_time_limit=120, time_limit=180)
def send_due_survey_reminders() -> dict[str, int]:
    """Beat, every ten minutes: ask the outbox for the pulse nudges and the programme
    questions that have come due. Run twice, the second run asks for nothing."""

    return {"pulse": pulse_reminders_due(), "feedback": feedback_reminders_due()}
