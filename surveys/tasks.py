from celery import shared_task
from django.utils import timezone

from surveys import emails
from surveys.models import LinkRequest
from surveys.services import current_participations


@shared_task(soft_time_limit=30, time_limit=60, autoretry_for=(OSError,), retry_backoff=True)
def send_participant_links(link_request_id: int) -> None:
    """Send one e-mail with fresh links for the person behind a LinkRequest; nothing for an
    unknown address, a refused request, or someone with no current place."""
    # Claim first: a second run (redelivery, retry after a crash) finds the row claimed and
    # sends nothing.
    now = timezone.now()
    claimed = LinkRequest.objects.filter(
        pk=link_request_id, sent_at=None, rate_limited=False
    ).update(sent_at=now)
    if not claimed:
        return
    link_request = LinkRequest.objects.select_related("person").get(pk=link_request_id)
    if link_request.person is None:
        return
    participations = current_participations(link_request.person.pk)
    if not participations:
        return
    try:
        emails.send_participant_links(link_request.person, participations)
    except OSError:
        # Release the claim so the retry can send it.
        LinkRequest.objects.filter(pk=link_request_id, sent_at=now).update(sent_at=None)
        raise
