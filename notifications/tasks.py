from celery import shared_task

from notifications.sending import notification_send, notifications_due


@shared_task(soft_time_limit=60, time_limit=90)
def send_notification(notification_id: int) -> str:
    """Send one outbox row. No autoretry: a failure puts the row back to pending with a pause,
    and the sweep queues it again; a redelivered message finds it claimed or sent."""
    return notification_send(notification_id)


@shared_task(soft_time_limit=60, time_limit=90)
def sweep_notifications() -> int:
    """Beat, every minute: queue what is due (held for a local hour, waiting after a failure,
    lost with the broker, or stuck in a send whose worker died)."""
    due = notifications_due()
    for notification_id in due:
        send_notification.delay(notification_id)
    return len(due)
