"""Matching one participant on their own, after the cohort's run: someone whose intake came
in late (intake reopened, or a run that left them waiting), or whose place has come free.
The partner is the one ``suggestions.best_partner_for`` proposes among those waiting (a mentee
with no current pair, a reverse-mentor with a place left), under the same rules and weights
as a run. As with a re-match (risks/remediation.py), the manager sees the proposal
first and confirms it; if it has changed by then, nothing is done.

A new run of the cohort includes late intakes too: it matches everyone with a finished
intake and keeps the pairs already made where that costs little."""

from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEntry
from audit.records import audit_record
from matching import notices
from matching.suggestions import best_partner_for
from pairs.matchmaking import PartnerSuggestion
from pairs.models import Pair
from pairs.services import participants_paired
from programmes.models import Cohort, Intake, Participant, Role
from programmes.organisation import max_mentoring_load


def _check_waiting(participant: Participant) -> None:
    """Refuse, in words for the manager, anyone who cannot be matched on their own now."""
    name = participant.person.full_name
    if participant.status == Participant.Status.WITHDRAWN:
        raise ValidationError(f"{name} has withdrawn from the cohort.", code="withdrawn")
    if not Intake.objects.filter(participant=participant, submitted_at__isnull=False).exists():
        raise ValidationError(
            f"{name} has not finished their intake, so matching knows nothing about them yet. "
            "If the cohort's intake is closed, reopen it (cohort list, “Reopen intake”) and "
            "match them once they have finished.",
            code="no_intake",
        )
    current = Pair.objects.current()
    if participant.role == Role.MENTEE:
        if current.filter(mentee=participant).exists():
            raise ValidationError(f"{name} already has a partner.", code="matched")
        return
    here = current.filter(reverse_mentor=participant).count()
    everywhere = current.filter(reverse_mentor__person=participant.person_id).count()
    if here >= participant.capacity or everywhere >= max_mentoring_load():
        raise ValidationError(f"{name} has no place left.", code="full")


def participant_match_preview(*, participant: Participant) -> PartnerSuggestion | None:
    """Who would be proposed for ``participant``, and why, without changing anything. None:
    nobody waiting fits the rules. Raises ValidationError if they cannot be matched now."""
    _check_waiting(participant)
    return best_partner_for(participant=participant)


def participant_match_now(
    *,
    participant: Participant,
    by: User | None,
    expected_partner: Participant,
    now: datetime | None = None,
) -> Pair:
    """Pair ``participant`` with the partner the preview proposed (``expected_partner``),
    active from today (or the cohort's start), both introduced by e-mail after commit.
    Raises ValidationError, with nothing changed, if they cannot be matched now or the
    proposal has changed since the preview."""
    now = now or timezone.now()
    with transaction.atomic():
        # Matches in one cohort take turns (as re-matches do), so two never hand the same
        # free partner to two people.
        cohort = Cohort.objects.select_for_update().get(pk=participant.cohort_id)
        participant = Participant.objects.select_related("person", "cohort").get(pk=participant.pk)
        _check_waiting(participant)
        suggestion = best_partner_for(participant=participant)
        if suggestion is None:
            raise ValidationError(
                f"Nobody waiting in the cohort fits the matching rules for "
                f"{participant.person.full_name}. Nothing was changed.",
                code="no_partner",
            )
        partner = suggestion.partner
        if partner.pk != expected_partner.pk:
            raise ValidationError(
                f"The proposal has changed since you looked: {partner.person.full_name} would "
                f"now be proposed instead of {expected_partner.person.full_name}. Nothing was "
                "changed; look at the new proposal before confirming.",
                code="changed",
            )
        is_mentee = participant.role == Role.MENTEE
        mentee, mentor = (participant, partner) if is_mentee else (partner, participant)
        pair = Pair.objects.create(
            cohort=cohort,
            mentee=mentee,
            reverse_mentor=mentor,
            status=Pair.Status.ACTIVE,
            started_on=max(timezone.localdate(now), cohort.starts_on),
            score=round(suggestion.score, 4),
            introduced_at=now,
        )
        participants_paired(participant_ids=[mentee.pk, mentor.pk], now=now)
        notices.ask_match_introduction(pair)
        audit_record(
            AuditEntry.Event.PAIR_MATCHED,
            by=by,
            target=pair,
            programme=cohort.programme,
            changes={"status": ("", pair.get_status_display())},
        )
    return pair
