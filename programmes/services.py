"""Writes that span models, send mail or queue tasks. Views, admin actions, management
commands and tasks all call these."""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from programmes import notices
from programmes.models import (
    Cohort,
    Intake,
    IntakeObjective,
    KeySkill,
    Participant,
    Person,
    Topic,
)
from surveys.models import ConfidenceRating


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
                notices.ask_intake_invitation(participant)
                Participant.objects.filter(pk=participant.pk).update(
                    invitation_sent_at=timezone.now()
                )
                queued += 1
    return InvitationResult(queued=queued, already_invited=already, not_open=not_open)


class IntakeLocked(Exception):
    """Matching has started in the participant's cohort: their intake can no longer change."""


OPEN_FOR_INTAKE = frozenset({Cohort.Status.PLANNED, Cohort.Status.INTAKE})

# What a draft may hold: the intake form's own field names, nothing else.
DRAFT_TEXT_FIELDS = frozenset({"objective_1", "objective_2", "objective_3", *Intake.ANSWER_FIELDS})
DRAFT_LIST_FIELDS = frozenset({"availability", "can_share", "off_limits", "avoid"})
_CONFIDENCE_FIELD = re.compile(r"confidence_[0-9]{1,12}")
DRAFT_MAX_TEXT = 5000  # generous: a draft keeps even an over-long answer so its author can trim it
DRAFT_MAX_ITEMS = 200  # the grid has 65 cells
DRAFT_MAX_ITEM = 20
DRAFT_MAX_CONFIDENCE = 50


def _draft_text(value: object, limit: int) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    # PostgreSQL's jsonb refuses NUL characters and lone surrogates cannot be encoded: drop both.
    text = str(value)[:limit].replace("\x00", "")
    return text.encode("utf-8", "replace").decode("utf-8")


def _clean_draft(data: Mapping[str, Any]) -> dict[str, str | list[str]]:
    draft: dict[str, str | list[str]] = {}
    confidence = 0
    for name in data:
        if not isinstance(name, str):
            continue
        if name in DRAFT_LIST_FIELDS:
            values = data.getlist(name) if hasattr(data, "getlist") else data[name]
            if not isinstance(values, list | tuple):
                values = [values]
            items = (_draft_text(v, DRAFT_MAX_ITEM) for v in values[:DRAFT_MAX_ITEMS])
            draft[name] = [item for item in items if item is not None]
            continue
        is_confidence = _CONFIDENCE_FIELD.fullmatch(name) is not None
        if name not in DRAFT_TEXT_FIELDS and not (
            is_confidence and confidence < DRAFT_MAX_CONFIDENCE
        ):
            continue
        value = data.get(name)
        if isinstance(value, list | tuple):
            value = value[-1] if value else ""
        text = _draft_text(value, DRAFT_MAX_TEXT)
        if text is not None:
            draft[name] = text
            confidence += is_confidence
    return draft


def intake_save_draft(*, participant: Participant, data: Mapping[str, Any]) -> datetime | None:
    """Keep what the participant has typed so far, valid or not, so nothing is lost; the real
    answers are untouched. Only the intake form's field names are kept, each value cut to a
    sane length; any other input is dropped rather than refused. Returns when the draft was
    saved, or None when matching has started and the intake can no longer change."""
    if participant.intake_locked:
        return None
    now = timezone.now()
    Intake.objects.update_or_create(
        participant=participant, defaults={"draft": _clean_draft(data), "draft_saved_at": now}
    )
    return now


def intake_submit(*, participant: Participant, data: Mapping[str, Any]) -> Intake:
    """Write a complete, valid intake in one transaction and queue the confirmation e-mail
    after commit. ``data`` is ``IntakeForm.cleaned_data``: ``objectives`` (topic ids, most
    wanted first), ``can_share`` and ``off_limits`` (topic ids), ``availability`` (slots),
    ``confidence`` ({key skill id: 1–5} for every key skill of the programme), ``avoid``
    (person ids: others in the directory) and the plain fields. Submitting again replaces the
    earlier answers. Raises IntakeLocked once matching has started, and ValidationError for
    topics or skills of another programme, or for avoiding oneself or someone unknown."""
    programme_id = participant.cohort.programme_id
    with transaction.atomic():
        # Lock the cohort row: matching starts by changing it, so it waits for this write
        # (or this write sees that matching has started).
        status = (
            Cohort.objects.select_for_update()
            .filter(pk=participant.cohort_id)
            .values_list("status", flat=True)
            .get()
        )
        if status not in OPEN_FOR_INTAKE:
            raise IntakeLocked
        objectives = list(data["objectives"])
        topic_ids = {*objectives, *data["can_share"], *data["off_limits"]}
        known_topics = set(
            Topic.objects.filter(programme_id=programme_id, pk__in=topic_ids).values_list(
                "pk", flat=True
            )
        )
        if topic_ids - known_topics:
            raise ValidationError("Topics must come from the programme's road map.")
        skills = set(
            KeySkill.objects.filter(programme_id=programme_id).values_list("pk", flat=True)
        )
        confidence: Mapping[int, int] = data["confidence"]
        if set(confidence) != skills:
            raise ValidationError("Rate every key skill of the programme, and only those.")
        avoid = set(data.get("avoid", []))
        if participant.person_id in avoid:
            raise ValidationError("Someone cannot ask not to be paired with themself.")
        if len(avoid) != Person.objects.filter(pk__in=avoid).count():
            raise ValidationError("People to avoid must come from the directory.")

        now = timezone.now()
        intake, _ = Intake.objects.select_for_update().get_or_create(participant=participant)
        for name in Intake.ANSWER_FIELDS:
            setattr(intake, name, data[name])
        intake.availability = sorted(set(data["availability"]))
        # The form this came from says the programme manager reads the note at review.
        intake.boundaries_text_for_manager = True
        intake.draft = {}
        intake.draft_saved_at = None
        intake.submitted_at = now
        intake.full_clean()
        intake.save()

        IntakeObjective.objects.filter(intake=intake).delete()
        IntakeObjective.objects.bulk_create(
            IntakeObjective(intake=intake, topic_id=topic_id, rank=rank)
            for rank, topic_id in enumerate(objectives, start=1)
        )
        intake.can_share.set(data["can_share"])
        intake.off_limits.set(data["off_limits"])
        intake.avoid.set(avoid)

        for skill_id, value in confidence.items():
            ConfidenceRating.objects.update_or_create(
                participant=participant,
                key_skill_id=skill_id,
                context=ConfidenceRating.Context.INTAKE,
                defaults={"value": value, "recorded_at": now},
            )

        if participant.status == Participant.Status.INVITED:
            Participant.objects.filter(pk=participant.pk, status=Participant.Status.INVITED).update(
                status=Participant.Status.INTAKE_COMPLETE
            )
            participant.status = Participant.Status.INTAKE_COMPLETE
        notices.ask_intake_confirmation(intake)
    return intake
