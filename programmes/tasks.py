from celery import shared_task
from django.db.models import F, Q
from django.utils import timezone

from programmes import emails
from programmes.models import Intake, Participant


@shared_task(soft_time_limit=30, time_limit=60, autoretry_for=(OSError,), retry_backoff=True)
def send_intake_invitation(participant_id: int) -> None:
    # Claim first: a second run of this task (redelivery, a double click) finds the row
    # already claimed and sends nothing.
    now = timezone.now()
    claimed = Participant.objects.filter(pk=participant_id, invitation_sent_at=None).update(
        invitation_sent_at=now
    )
    if not claimed:
        return
    participant = Participant.objects.select_related("person", "cohort__programme").get(
        pk=participant_id
    )
    try:
        emails.send_intake_invitation(participant)
    except OSError:
        # Release the claim so the retry can send it.
        Participant.objects.filter(pk=participant_id, invitation_sent_at=now).update(
            invitation_sent_at=None
        )
        raise


@shared_task(soft_time_limit=30, time_limit=60, autoretry_for=(OSError,), retry_backoff=True)
def send_intake_confirmation(participant_id: int) -> None:
    """One confirmation per submission: an edit submitted later gets its own."""
    now = timezone.now()
    claimed = (
        Intake.objects.filter(participant_id=participant_id, submitted_at__isnull=False)
        .filter(Q(confirmation_sent_at=None) | Q(confirmation_sent_at__lt=F("submitted_at")))
        .update(confirmation_sent_at=now)
    )
    if not claimed:
        return
    participant = Participant.objects.select_related("person", "cohort__programme").get(
        pk=participant_id
    )
    try:
        emails.send_intake_confirmation(participant)
    except OSError:
        Intake.objects.filter(participant_id=participant_id, confirmation_sent_at=now).update(
            confirmation_sent_at=None
        )
        raise


@shared_task(soft_time_limit=30, time_limit=60, autoretry_for=(OSError,), retry_backoff=True)
def send_agreement_proposed(agreement_id: int) -> None:
    """Tell the partner about a proposed agreement. One e-mail per proposal is fine; a run
    after the version was agreed or replaced sends nothing."""
    from programmes.pairs import agreement_proposed_send

    agreement_proposed_send(agreement_id=agreement_id)


@shared_task(soft_time_limit=30, time_limit=60, autoretry_for=(OSError,), retry_backoff=True)
def send_meeting_update(meeting_id: int, kind: str, sequence: int, by: str) -> None:
    """Tell the partner of ``by`` that a session was scheduled, rescheduled, cancelled or
    marked. A run for a change that has since been overtaken sends nothing; exactly-once
    delivery comes with the notifications outbox (issue 7)."""
    from programmes.meetings import meeting_update_send

    meeting_update_send(meeting_id=meeting_id, kind=kind, sequence=sequence, by=by)
