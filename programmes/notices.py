"""The messages of the intake: the invitation, its reminders and the confirmation, built when
the outbox sends them (see notifications/kinds.py). Each returns the message's context, or None
when it is no longer wanted: the row is then cancelled rather than sent.

``ask_*`` functions are called by the services inside their transactions; they name each
message with a key, so asking twice sends once.
"""

from datetime import datetime
from typing import cast

from django.conf import settings

from notifications.kinds import Message
from notifications.models import Notification
from notifications.services import notify
from programmes.links import Purpose, participant_url
from programmes.models import Intake, Participant

# The e-mails that ask for an intake: closing intake withdraws them (cohort_intake_close).
INTAKE_REQUESTS = ("intake_invitation", "intake_reminder")


def _participant_context(participant: Participant) -> dict:
    return {
        "participant": participant,
        "person": participant.person,
        "programme": participant.cohort.programme,
        "cohort": participant.cohort,
        "site_url": settings.SITE_URL,
    }


def _participant(notification: Notification) -> Participant | None:
    return (
        Participant.objects.select_related("person", "cohort__programme")  # type: ignore[misc]  # pk=None is a valid lookup
        .filter(pk=notification.object_id)
        .exclude(status=Participant.Status.WITHDRAWN)
        .first()
    )


# --- Intake ---------------------------------------------------------------------------------


def _round_suffix(participant: Participant) -> str:
    """Round 0 (intake never reopened with fresh invitations) keeps the keys it always had."""
    number = participant.cohort.intake_round
    return f":r{number}" if number else ""


def ask_intake_invitation(participant: Participant) -> None:
    """Once per participant and intake round (``Cohort.intake_round``): reopening intake with
    fresh invitations asks again under a new key."""
    notify(
        kind="intake_invitation",
        key=f"intake_invitation:{participant.pk}{_round_suffix(participant)}",
        to=participant.person,
        about=participant,
        data={"round": participant.cohort.intake_round},
    )


def ask_intake_confirmation(intake: Intake) -> None:
    """One confirmation per submission: an edit submitted later gets its own."""
    participant = intake.participant
    submitted_at = cast(datetime, intake.submitted_at)  # a submitted intake
    notify(
        kind="intake_confirmation",
        key=f"intake_confirmation:{participant.pk}:{submitted_at.isoformat()}",
        to=participant.person,
        about=participant,
    )


def _intake_message(notification: Notification, *, only_while_open: bool) -> Message | None:
    """``only_while_open``: an e-mail asking for the intake, checked again at send time so
    that none goes out to a closed form, whatever raced with the closing, nor one of an
    earlier round once intake has reopened with fresh invitations."""
    participant = _participant(notification)
    if participant is None:
        return None
    if only_while_open and (
        not participant.cohort.intake_open
        or notification.data.get("round", 0) != participant.cohort.intake_round
    ):
        return None
    return Message(
        _participant_context(participant)
        | {"intake_url": participant_url(participant_id=participant.pk, purpose=Purpose.INTAKE)}
    )


def intake_invitation(notification: Notification) -> Message | None:
    return _intake_message(notification, only_while_open=True)


def intake_confirmation(notification: Notification) -> Message | None:
    return _intake_message(notification, only_while_open=False)


# --- Reminders (asked by the scans in programmes/reminders.py) ------------------------------


def intake_reminder_key(participant: Participant, days: int) -> str:
    """Needs ``participant.cohort`` (its intake round)."""
    return f"intake_reminder:{participant.pk}:{days}{_round_suffix(participant)}"


def ask_intake_reminder(participant: Participant, days: int) -> None:
    notify(
        kind="intake_reminder",
        key=intake_reminder_key(participant, days),
        to=participant.person,
        about=participant,
        data={"days": days, "round": participant.cohort.intake_round},
    )


def intake_reminder(notification: Notification) -> Message | None:
    """Nothing once the intake is submitted, the participant has withdrawn, or the cohort's
    intake has closed (or reopened since, with fresh invitations)."""
    message = _intake_message(notification, only_while_open=True)
    if message is None:
        return None
    if Intake.objects.filter(  # type: ignore[misc]  # participant_id=None is a valid lookup
        participant_id=notification.object_id, submitted_at__isnull=False
    ).exists():
        return None
    message.context["days"] = notification.data.get("days")
    return message
