"""What a programme manager does about a pair from the at-risk queue: send the neutral
check-in, pause the pair for a month, re-match, end the pair, or resolve a flag. The admin's
queue (programmes/admin_risks.py) calls these; so may anything else.

Each service takes the manager acting (``by``) and, when acted from a flag, the flag; it
locks the pair row, checks that the action makes sense for the pair as it is now, acts, and
records a PairAction (who, when, which flag, the manager's note): the queue's audit trail.
A refusal is a ValidationError whose message is written for the manager, and leaves nothing
changed: every service runs in one transaction, and mail goes through the outbox, which sends
only once the transaction commits.

The rules:

- **Check-in.** Asked of each participant who has not withdrawn, of an active pair only (a
  paused pair's check-in would never be sent: its builder waits for an active pair). Once per
  participant and flag, so a second click sends nothing; with or without a flag, refused
  while a check-in asked of the pair in the last CHECKIN_AGAIN_AFTER is still unanswered (the
  automatic one after two missed sessions included): asking again so soon reads as a nag.
- **Pause.** An active pair, until today + checkins.PAUSE_LENGTH, exactly as a participant's
  "pause" answer does (``checkins.pair_pause``: its session and pulse mail up to then is
  cancelled, reminders skip it); ``checkins.pairs_resume_due`` makes it active again on the
  date.
- **Re-match.** Ends the pair and starts another for one side (by default the executive gets
  a new reverse-mentor) with the partner the matching code proposes
  (``matching.services.best_partner_for``), never the partner being left: an exclusion rule
  for the two in this cohort keeps them apart now and in the cohort's later matching runs.
  The new pair is active, introduced by e-mail as an approved matching run's pairs are, and
  ``replaces`` the old one; the old pair's open flags are resolved. No partner available:
  refused, nothing changed. ``pair_rematch_preview`` shows who would be proposed and why.
- **End.** The manager's note, trimmed to the field, is the end reason. Ending, here or by
  a re-match, is ``pairs.pair_close``: the pair's sessions still to come are withdrawn (off
  both calendars), its unsent mail about them and its pulse requests cancelled, both
  participants told, and its open flags resolved here.
- **Resolve.** A flag is resolved once, with the manager's own words.

Participants' free text is never read here; notes are the manager's words.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateformat import format as format_date

from matching import notices as matching_notices
from matching.models import PairRule
from matching.services import PartnerSuggestion, best_partner_for, pair_rule_add
from programmes import checkins, pairs
from programmes.models import (
    CheckIn,
    Cohort,
    Intake,
    Pair,
    PairAction,
    Participant,
    RiskFlag,
    Role,
)

CHECKIN_AGAIN_AFTER = timedelta(days=7)
REMATCHED = "Re-matched"
REMATCH_RULE_NOTE = "Re-matched from the at-risk queue"
NOTE_REQUIRED = "Write a few words on what was done; they stay with the pair's history."
END_NOTE_REQUIRED = "Say in a few words why the pair ends; it is kept as the end reason."
CURRENT = (Pair.Status.ACTIVE, Pair.Status.PAUSED)


def _day(value: date) -> str:
    return format_date(value, "j F Y")


def _lock(pair: Pair) -> Pair:
    """The pair row, locked until the transaction ends (only that row: its people are read
    with it, not locked), so actions on one pair, a participant's check-in answer and the
    scans take turns. A no-op on SQLite, which locks the whole database."""
    return (
        Pair.objects.select_for_update(of=("self",))
        .select_related("cohort__programme", "mentee__person", "reverse_mentor__person")
        .get(pk=pair.pk)
    )


def _check_flag(flag: RiskFlag | None, pair: Pair) -> None:
    if flag is not None and flag.pair_id != pair.pk:
        raise ValidationError("This flag is about another pair.", code="other_pair")


def _check_not_ended(pair: Pair) -> None:
    if pair.status == Pair.Status.ENDED:
        when = f" on {_day(pair.ended_on)}" if pair.ended_on else ""
        raise ValidationError(f"This pair ended{when}; there is nothing more to do.", code="ended")


def _check_active(pair: Pair, doing: str) -> None:
    _check_not_ended(pair)
    if pair.status == Pair.Status.PAUSED:
        if pair.paused_until:
            until = f" until {_day(pair.paused_until)}"
            then = " It picks up again by itself then."
        else:
            until, then = "", ""
        raise ValidationError(
            f"This pair is paused{until}, so it cannot {doing}.{then}", code="paused"
        )
    if pair.status != Pair.Status.ACTIVE:
        raise ValidationError(
            f"This pair is {pair.get_status_display().lower()}, not active, so it cannot {doing}.",
            code="not_active",
        )


def _note(note: str, message: str) -> str:
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": message}, code="required")
    return note


def _record(
    pair: Pair,
    kind: str,
    *,
    by: AbstractBaseUser | None,
    flag: RiskFlag | None,
    now: datetime,
    note: str = "",
    new_pair: Pair | None = None,
) -> PairAction:
    return PairAction.objects.create(
        pair=pair, flag=flag, kind=kind, by=by, at=now, note=note, new_pair=new_pair
    )


def _resolve_open_flags(
    pair: Pair, *, by: AbstractBaseUser | None, note: str, now: datetime
) -> None:
    pair.risk_flags.filter(resolved_at__isnull=True).update(
        resolved_at=now, resolved_by=by, resolution_note=note
    )


# --- Check-in -------------------------------------------------------------------------------


def pair_send_checkin(
    *,
    pair: Pair,
    by: AbstractBaseUser | None,
    flag: RiskFlag | None = None,
    now: datetime | None = None,
) -> list[CheckIn]:
    """Ask each participant of an active pair who has not withdrawn whether they can
    continue, or would rather be re-matched or pause for a month (see the module's rules).
    Returns the check-ins asked."""
    from programmes import notices

    now = now or timezone.now()
    with transaction.atomic():
        pair = _lock(pair)
        _check_flag(flag, pair)
        _check_active(pair, "be sent a check-in")
        if flag is not None:
            sent = CheckIn.objects.filter(flag=flag).order_by("asked_at").first()
            if sent is not None:
                raise ValidationError(
                    f"The check-in about this flag was sent on "
                    f"{_day(timezone.localdate(sent.asked_at))}; it is not sent twice.",
                    code="already_sent",
                )
        waiting = (
            CheckIn.objects.filter(pair=pair, choice="", asked_at__gt=now - CHECKIN_AGAIN_AFTER)
            .order_by("-asked_at")
            .first()
        )
        if waiting is not None:
            raise ValidationError(
                f"A check-in was sent to this pair on "
                f"{_day(timezone.localdate(waiting.asked_at))} and is not answered yet. Give "
                "them a week to answer before asking again.",
                code="recently_asked",
            )
        participants = [
            p
            for p in (pair.mentee, pair.reverse_mentor)
            if p.status != Participant.Status.WITHDRAWN
        ]
        if not participants:
            raise ValidationError(
                "Both participants have withdrawn, so there is nobody to ask.", code="nobody"
            )
        asked = []
        for participant in participants:
            checkin = CheckIn.objects.create(
                pair=pair, participant=participant, flag=flag, asked_at=now
            )
            notices.ask_checkin(checkin)
            asked.append(checkin)
        _record(pair, PairAction.Kind.CHECKIN, by=by, flag=flag, now=now)
    return asked


# --- Pause ----------------------------------------------------------------------------------


def pair_pause_for_month(
    *,
    pair: Pair,
    by: AbstractBaseUser | None,
    flag: RiskFlag | None = None,
    now: datetime | None = None,
) -> Pair:
    """Pause an active pair until today + PAUSE_LENGTH; it resumes by itself on that date.
    Returns the pair as saved."""
    now = now or timezone.now()
    with transaction.atomic():
        pair = _lock(pair)
        _check_flag(flag, pair)
        _check_active(pair, "be paused")
        checkins.pair_pause(pair=pair, until=timezone.localdate(now) + checkins.PAUSE_LENGTH)
        _record(pair, PairAction.Kind.PAUSE, by=by, flag=flag, now=now)
    return pair


# --- Re-match -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RematchPreview:
    pair: Pair
    side: Role  # the side that keeps its place and gets a new partner
    keeps: Participant
    leaves: Participant
    suggestion: PartnerSuggestion | None


def _sides(pair: Pair, side: str) -> tuple[Participant, Participant]:
    if side == Role.MENTEE:
        return pair.mentee, pair.reverse_mentor
    if side == Role.REVERSE_MENTOR:
        return pair.reverse_mentor, pair.mentee
    raise ValidationError("Choose whose new partner to look for.", code="side")


def _check_rematch(pair: Pair, keeps: Participant) -> None:
    _check_not_ended(pair)
    if pair.status not in CURRENT:
        raise ValidationError(
            "Only an active or paused pair can be re-matched.", code="not_current"
        )
    if keeps.status == Participant.Status.WITHDRAWN:
        raise ValidationError(
            f"{keeps.person.full_name} has withdrawn from the cohort, so there is nobody to "
            "re-match: end the pair instead.",
            code="withdrawn",
        )
    if not Intake.objects.filter(participant=keeps, submitted_at__isnull=False).exists():
        raise ValidationError(
            f"{keeps.person.full_name} has not completed the intake, so the matching rules "
            "cannot look for a partner: ask them to complete it, or end the pair instead.",
            code="no_intake",
        )


def _best_partner(
    pair: Pair, keeps: Participant, *, by: AbstractBaseUser | None = None
) -> PartnerSuggestion | None:
    """The matching code's best partner for ``keeps``, never their partner in ``pair``: an
    exclusion rule is how matching is told "not these two" (best_partner_for would otherwise
    propose the partner being left whenever they have a place to spare)."""
    pair_rule_add(
        cohort=pair.cohort,
        mentee=pair.mentee,
        mentor=pair.reverse_mentor,
        kind=PairRule.Kind.EXCLUDED,
        user=by,
        note=REMATCH_RULE_NOTE,
    )
    return best_partner_for(participant=keeps)


def pair_rematch_preview(*, pair: Pair, side: str = Role.MENTEE) -> RematchPreview:
    """Who a re-match would propose for ``side`` of ``pair``, with the matching code's reasons,
    without changing anything. Raises ValidationError if the pair cannot be re-matched."""
    keeps, leaves = _sides(pair, side)
    _check_rematch(pair, keeps)
    with transaction.atomic():
        # The exclusion the re-match would add is added here too, then rolled back.
        suggestion = _best_partner(pair, keeps)
        transaction.set_rollback(True)
    return RematchPreview(
        pair=pair, side=Role(side), keeps=keeps, leaves=leaves, suggestion=suggestion
    )


def pair_rematch(
    *,
    pair: Pair,
    by: AbstractBaseUser | None,
    flag: RiskFlag | None = None,
    note: str = "",
    side: str = Role.MENTEE,
    expected_partner: Participant | None = None,
    now: datetime | None = None,
) -> Pair:
    """End ``pair`` and start a new one for ``side`` with the partner the matching code
    proposes (see the module's rules). ``expected_partner`` is who the manager saw in the
    preview: if the proposal has changed since, nothing is done and the ValidationError says
    so. Returns the new pair."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    note = (note or "").strip()
    with transaction.atomic():
        # Re-matches in one cohort take turns, so two never hand the same free partner to
        # two people.
        Cohort.objects.select_for_update().get(pk=pair.cohort_id)
        pair = _lock(pair)
        _check_flag(flag, pair)
        keeps, _ = _sides(pair, side)
        _check_rematch(pair, keeps)
        pairs.pair_close(pair, reason=REMATCHED, now=now)
        suggestion = _best_partner(pair, keeps, by=by)
        if suggestion is None:
            raise ValidationError(
                f"No partner is available for {keeps.person.full_name}: nobody in the cohort "
                "with a place free fits the matching rules. Nothing was changed; pause or end "
                "the pair instead, or add participants and try again.",
                code="no_partner",
            )
        partner = suggestion.partner
        if expected_partner is not None and partner.pk != expected_partner.pk:
            raise ValidationError(
                f"The proposal has changed since you looked: {partner.person.full_name} would "
                f"now be proposed instead of {expected_partner.person.full_name}. Nothing was "
                "changed; look at the new proposal before confirming.",
                code="changed",
            )
        mentee, mentor = (keeps, partner) if side == Role.MENTEE else (partner, keeps)
        new_pair = Pair.objects.create(
            cohort=pair.cohort,
            mentee=mentee,
            reverse_mentor=mentor,
            status=Pair.Status.ACTIVE,
            started_on=today,
            score=round(suggestion.score, 4),
            replaces=pair,
        )
        Participant.objects.filter(pk__in=[keeps.pk, partner.pk]).update(
            status=Participant.Status.MATCHED
        )
        matching_notices.ask_match_introduction(new_pair)
        new_pair.introduced_at = now
        new_pair.save(update_fields=["introduced_at"])
        done = (
            f"Re-matched: {keeps.person.full_name} is now paired with {partner.person.full_name}."
        )
        _resolve_open_flags(pair, by=by, note=note or done, now=now)
        _record(
            pair, PairAction.Kind.REMATCH, by=by, flag=flag, now=now, note=note, new_pair=new_pair
        )
    return new_pair


# --- End ------------------------------------------------------------------------------------


def pair_end(
    *,
    pair: Pair,
    by: AbstractBaseUser | None,
    note: str,
    flag: RiskFlag | None = None,
    now: datetime | None = None,
) -> Pair:
    """End an active, paused or proposed pair with the manager's reason (see the module's
    rules). Returns the pair as saved."""
    now = now or timezone.now()
    note = _note(note, END_NOTE_REQUIRED)
    with transaction.atomic():
        pair = _lock(pair)
        _check_flag(flag, pair)
        _check_not_ended(pair)
        pairs.pair_close(pair, reason=note, now=now)
        _resolve_open_flags(pair, by=by, note=f"Pair ended: {note}", now=now)
        _record(pair, PairAction.Kind.END, by=by, flag=flag, now=now, note=note)
    return pair


# --- Resolve --------------------------------------------------------------------------------


def flag_resolve(
    *, flag: RiskFlag, by: AbstractBaseUser | None, note: str, now: datetime | None = None
) -> RiskFlag:
    """Resolve an open flag with the manager's own words. Returns the flag as saved."""
    from programmes.notices import user_name

    now = now or timezone.now()
    note = _note(note, NOTE_REQUIRED)
    with transaction.atomic():
        pair = _lock(flag.pair)
        flag = RiskFlag.objects.select_for_update().get(pk=flag.pk)
        if not flag.is_open:
            who = user_name(flag.resolved_by) if flag.resolved_by_id else "someone"
            raise ValidationError(
                f"This flag was resolved already, on "
                f"{_day(timezone.localdate(flag.resolved_at))} by {who}.",
                code="resolved",
            )
        flag.resolved_at, flag.resolved_by, flag.resolution_note = now, by, note
        flag.save(update_fields=["resolved_at", "resolved_by", "resolution_note"])
        _record(pair, PairAction.Kind.RESOLVE, by=by, flag=flag, now=now, note=note)
    return flag
