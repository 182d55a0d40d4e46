"""Writes that span models, send mail or queue tasks. Views, admin actions, management
commands and tasks all call these."""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from django.db import transaction

from programmes import tasks
from programmes.models import Cohort, Participant


@dataclass(frozen=True)
class InvitationResult:
    queued: int
    already_invited: int
    not_open: int


def participants_send_intake_invitations(
    *, participants: Iterable[Participant]
) -> InvitationResult:
    """Queue an intake invitation, after commit, for each participant not yet invited whose
    cohort still takes intakes. Safe to repeat: nobody is invited twice."""
    queued = already = not_open = 0
    open_statuses = {Cohort.Status.PLANNED, Cohort.Status.INTAKE}
    with transaction.atomic():
        for participant in participants:
            if participant.invitation_sent_at is not None:
                already += 1
            elif (
                participant.cohort.status not in open_statuses
                or participant.status == Participant.Status.WITHDRAWN
            ):
                not_open += 1
            else:
                transaction.on_commit(partial(tasks.send_intake_invitation.delay, participant.pk))
                queued += 1
    return InvitationResult(queued=queued, already_invited=already, not_open=not_open)
