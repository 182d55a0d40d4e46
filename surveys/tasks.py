import logging

from celery import shared_task
from django.utils import timezone

from surveys import emails
from surveys.models import LinkRequest, Pulse
from surveys.services import current_participations

logger = logging.getLogger(__name__)


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


@shared_task(soft_time_limit=60, time_limit=120)
def request_due_pulses() -> int:
    """Beat: write the pulse requests that have come due and queue their e-mails. Run twice,
    it queues the same unsent requests again, and each send claims its row first."""
    from surveys.pulses import pulse_requests_due

    request_ids = pulse_requests_due()
    for request_id in request_ids:
        send_pulse_request.delay(request_id)
    return len(request_ids)


@shared_task(soft_time_limit=30, time_limit=60, autoretry_for=(OSError,), retry_backoff=True)
def send_pulse_request(request_id: int) -> None:
    from surveys.pulses import pulse_request_send

    pulse_request_send(request_id)


@shared_task(soft_time_limit=30, time_limit=60, autoretry_for=(OSError,), retry_backoff=True)
def send_rematch_alert(pulse_id: int) -> None:
    """Tell the programme's managers about a "not a good fit" answer, once per answer."""
    now = timezone.now()
    claimed = Pulse.objects.filter(pk=pulse_id, good_fit=False, rematch_alert_sent_at=None).update(
        rematch_alert_sent_at=now
    )
    if not claimed:
        return
    pulse = Pulse.objects.select_related(
        "participant__person",
        "meeting__pair__cohort__programme",
        "meeting__pair__mentee__person",
        "meeting__pair__reverse_mentor__person",
    ).get(pk=pulse_id)
    programme = pulse.meeting.pair.cohort.programme
    managers = [
        email
        for email in programme.managers.filter(is_active=True).values_list("email", flat=True)
        if email
    ]
    if not managers:
        logger.warning("No manager of %s has an e-mail address for a re-match request", programme)
        return
    try:
        emails.send_rematch_alert(pulse, managers)
    except OSError:
        Pulse.objects.filter(pk=pulse_id, rematch_alert_sent_at=now).update(
            rematch_alert_sent_at=None
        )
        raise
