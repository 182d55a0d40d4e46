"""Writes that span models, send mail or queue tasks. Views, admin actions, management
commands and tasks all call these."""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from audit.models import AuditEntry
from audit.records import audit_record
from notifications.models import Notification
from programmes import notices
from programmes.models import (
    Cohort,
    Intake,
    IntakeObjective,
    KeySkill,
    Participant,
    Person,
    Role,
    Topic,
)
from programmes.signals import intake_submitted


@dataclass(frozen=True)
class InvitationResult:
    queued: int
    already_invited: int
    not_open: int


def participants_send_intake_invitations(
    *, participants: Iterable[Participant], by: User | None = None
) -> InvitationResult:
    """Queue an intake invitation, after commit, for each participant not yet invited whose
    cohort still takes intakes, each in the audit trail as sent by ``by``. Safe to repeat:
    nobody is invited twice."""
    queued = already = not_open = 0
    with transaction.atomic():
        for participant in participants:
            if participant.invitation_sent_at is not None:
                already += 1
            elif (
                not participant.cohort.intake_open
                or participant.status == Participant.Status.WITHDRAWN
            ):
                not_open += 1
            else:
                notices.ask_intake_invitation(participant)
                Participant.objects.filter(pk=participant.pk).update(
                    invitation_sent_at=timezone.now()
                )
                audit_record(
                    AuditEntry.Event.INVITATIONS_SENT,
                    by=by,
                    target=participant,
                    programme=participant.cohort.programme,
                    changes={"invitation": ("", "sent")},
                )
                queued += 1
    return InvitationResult(queued=queued, already_invited=already, not_open=not_open)


class IntakeLocked(Exception):
    """Matching has started in the participant's cohort: their intake can no longer change."""


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
        if status not in Cohort.OPEN_FOR_INTAKE:
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

        intake_submitted.send(
            sender=Intake, participant=participant, confidence=confidence, now=now
        )

        if participant.status == Participant.Status.INVITED:
            Participant.objects.filter(pk=participant.pk, status=Participant.Status.INVITED).update(
                status=Participant.Status.INTAKE_COMPLETE
            )
            participant.status = Participant.Status.INTAKE_COMPLETE
        notices.ask_intake_confirmation(intake)
    return intake


# --- Closing and reopening a cohort's intake ------------------------------------------------


@dataclass(frozen=True)
class IntakeGaps:
    """Who in a cohort has not submitted an intake, by role, with how far each got (not
    invited yet, invited, started a draft): names and states, never an answer."""

    mentees: list[Participant]
    reverse_mentors: list[Participant]
    finished: int

    @property
    def people(self) -> list[Participant]:
        return [*self.mentees, *self.reverse_mentors]

    @property
    def ids(self) -> frozenset[int]:
        return frozenset(p.pk for p in self.people)

    @property
    def total(self) -> int:
        return self.finished + len(self.mentees) + len(self.reverse_mentors)

    @property
    def by_role(self) -> list[tuple[str, list[Participant]]]:
        return [("Mentees (executives)", self.mentees), ("Reverse-mentors", self.reverse_mentors)]


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class IntakeProgress(TypedDict):  # annotated, then set for the confirmation page
        submitted_at: datetime | None
        draft_saved_at: datetime | None
        intake_progress: str


def cohort_intake_unfinished(*, cohort: Cohort) -> IntakeGaps:
    """The people a closing would shut out, in one query. Each participant carries
    ``intake_progress``: "not invited", "invited" or "started"."""
    participants = list(
        cohort.participants.exclude(status=Participant.Status.WITHDRAWN)
        .select_related("person")
        .annotate(
            submitted_at=F("intake__submitted_at"), draft_saved_at=F("intake__draft_saved_at")
        )
        .order_by("person__full_name", "pk")
    )
    unfinished = [p for p in participants if p.submitted_at is None]
    for participant in cast("list[WithAnnotations[Participant, IntakeProgress]]", unfinished):
        if participant.draft_saved_at is not None:
            participant.intake_progress = "started"
        elif participant.invitation_sent_at is not None:
            participant.intake_progress = "invited"
        else:
            participant.intake_progress = "not invited"
    return IntakeGaps(
        mentees=[p for p in unfinished if p.role == Role.MENTEE],
        reverse_mentors=[p for p in unfinished if p.role == Role.REVERSE_MENTOR],
        finished=len(participants) - len(unfinished),
    )


def _intake_requests_pending(cohort: Cohort) -> QuerySet[Notification]:
    return Notification.objects.filter(
        content_type=ContentType.objects.get_for_model(Participant),
        object_id__in=Participant.objects.filter(cohort=cohort).values("pk"),
        kind__in=notices.INTAKE_REQUESTS,
        status=Notification.Status.PENDING,
    )


@dataclass(frozen=True)
class IntakeClosed:
    closed: bool  # False: it was closed already
    withdrawn: int  # queued invitations and reminders cancelled


def cohort_intake_close(*, cohort: Cohort, by: User | None) -> IntakeClosed:
    """Close the cohort's intake: forms become read-only, and the invitations and reminders
    still in the outbox are cancelled, so none goes out to a closed form (their builders also
    refuse a closed cohort at send time, for any that a send had already claimed). Already
    closed: nothing changes but that withdrawal. Callers confirm with the manager first,
    showing ``cohort_intake_unfinished``."""
    with transaction.atomic():
        # intake_submit locks this row too: a submission in flight lands before the closing
        # or is refused after it, never half-way.
        locked = Cohort.objects.select_for_update().get(pk=cohort.pk)
        closing = locked.intake_open
        if closing:
            now = timezone.now()
            Cohort.objects.filter(pk=cohort.pk).update(
                status=Cohort.Status.MATCHING, intake_closed_at=now, intake_closed_by=by
            )
            cohort.status, cohort.intake_closed_at, cohort.intake_closed_by = (
                Cohort.Status.MATCHING,
                now,
                by,
            )
            audit_record(
                AuditEntry.Event.INTAKE_CLOSED,
                by=by,
                target=cohort,
                programme=cohort.programme,
                changes={"status": (locked.get_status_display(), cohort.get_status_display())},
            )
        else:
            cohort.status = locked.status
        withdrawn = _intake_requests_pending(cohort).update(status=Notification.Status.CANCELLED)
    return IntakeClosed(closed=closing, withdrawn=withdrawn)


def intake_closed_message(cohort: Cohort, withdrawn: int) -> str:
    """What the admin says after a closing."""
    mail = f"{withdrawn} queued e-mail{'s' if withdrawn != 1 else ''}"
    return (
        f"Intake of {cohort} closed; {mail} asking for an intake withdrawn. You can reopen it "
        "from the cohort list (action “Reopen intake”)."
    )


class IntakeCannotReopen(Exception):
    """The cohort is running or finished: its intake is over for good. In words for the
    manager."""

    @classmethod
    def for_cohort(cls, cohort: Cohort) -> "IntakeCannotReopen":
        return cls(
            f"{cohort} is {cohort.get_status_display().lower()}: its intake cannot reopen. "
            "Add latecomers to a later cohort."
        )


@dataclass(frozen=True)
class IntakeReopened:
    reopened: bool  # False: it was open already
    invited: int  # fresh invitations queued


def cohort_intake_reopen(*, cohort: Cohort, by: User | None, invite_again: bool) -> IntakeReopened:
    """Open a closed intake again (the cohort goes back from matching to intake). Runs and
    pairs already made stay as they are; people who submit now are matched by the next run or
    one by one ("match this participant now").

    ``invite_again``: everyone invited before who has still not submitted gets a fresh
    invitation now (a new intake round, so the outbox does not take it for the withdrawn
    one), and their reminders follow 3 and 7 days after it. Without it nobody is e-mailed:
    reminders already withdrawn stay withdrawn, and those not yet due come when due."""
    with transaction.atomic():
        locked = Cohort.objects.select_for_update().get(pk=cohort.pk)
        if locked.intake_open:
            return IntakeReopened(reopened=False, invited=0)
        if locked.status != Cohort.Status.MATCHING:
            raise IntakeCannotReopen.for_cohort(locked)
        round_number = locked.intake_round + (1 if invite_again else 0)
        Cohort.objects.filter(pk=cohort.pk).update(
            status=Cohort.Status.INTAKE,
            intake_closed_at=None,
            intake_closed_by=None,
            intake_round=round_number,
        )
        cohort.status, cohort.intake_round = Cohort.Status.INTAKE, round_number
        cohort.intake_closed_at = cohort.intake_closed_by = None
        invited = 0
        if invite_again:
            again = [
                p
                for p in cohort_intake_unfinished(cohort=cohort).people
                if p.invitation_sent_at is not None
            ]
            for participant in again:
                participant.cohort = cohort
                notices.ask_intake_invitation(participant)
            Participant.objects.filter(pk__in=[p.pk for p in again]).update(
                invitation_sent_at=timezone.now()
            )
            invited = len(again)
        audit_record(
            AuditEntry.Event.INTAKE_REOPENED,
            by=by,
            target=cohort,
            programme=cohort.programme,
            changes={
                "status": (locked.get_status_display(), cohort.get_status_display()),
                "invited again": ("", invited),
            },
        )
    return IntakeReopened(reopened=True, invited=invited)
