"""What a programme manager does about a pair from the at-risk queue: send the neutral
check-in, pause the pair for a month, re-match, end the pair, or resolve a flag (the playbook
and each action's rules are in docs/remediation.md). The admin's queue (risks/admin.py) calls
these; so may anything else.

Each service takes the manager acting (``by``) and, when acted from a flag, the flag; it
locks the pair row, checks that the action makes sense for the pair as it is now, acts, and
records a PairAction (who, when, which flag, the manager's note): the queue's audit trail.
A refusal is a ValidationError whose message is written for the manager, and leaves nothing
changed: every service runs in one transaction, and mail goes through the outbox, which sends
only once the transaction commits. Ending a pair, here or by a re-match, is
``pairs.services.pair_close``, the one place a pair ends. Participants' free text is never
read here; notes are the manager's words.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import cast

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateformat import format as format_date

from audit.models import AuditEntry
from audit.records import audit_record
from lib.users import user_name
from pairs import matchmaking
from pairs import services as pair_services
from pairs.matchmaking import PartnerSuggestion, Suggestions
from pairs.models import Pair
from programmes.models import Cohort, Intake, Participant, Role
from risks import checkins, notices
from risks.models import CheckIn, PairAction, RiskFlag

CHECKIN_AGAIN_AFTER = timedelta(days=7)
REMATCHED = "Re-matched"
REMATCH_RULE_NOTE = "Re-matched from the at-risk queue"
NOTE_REQUIRED = "Write a few words on what was done; they stay with the pair's history."
END_NOTE_REQUIRED = "Say in a few words why the pair ends; it is kept as the end reason."
REMATCH_CANDIDATES = 3


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
    by: User | None,
    flag: RiskFlag | None,
    now: datetime,
    note: str = "",
    new_pair: Pair | None = None,
) -> PairAction:
    action = PairAction.objects.create(
        pair=pair, flag=flag, kind=kind, by=by, at=now, note=note, new_pair=new_pair
    )
    _audit(action)
    return action


# What the audit trail records of each action that changes a pair or a flag (the note is the
# manager's, and stays with the pair's history, not the trail); a check-in changes neither.
AUDITED = {
    PairAction.Kind.PAUSE: AuditEntry.Event.PAIR_PAUSED,
    PairAction.Kind.REMATCH: AuditEntry.Event.PAIR_REMATCHED,
    PairAction.Kind.END: AuditEntry.Event.PAIR_ENDED,
    PairAction.Kind.RESOLVE: AuditEntry.Event.FLAG_RESOLVED,
}


def _audit(action: PairAction) -> None:
    event = AUDITED.get(PairAction.Kind(action.kind))
    if event is None:
        return
    pair = action.pair
    changes: dict[str, tuple[object, object]] = {"status": ("", pair.get_status_display())}
    target: Pair | RiskFlag = pair
    if event == AuditEntry.Event.FLAG_RESOLVED and action.flag is not None:
        action.flag.pair = pair  # its people are loaded already
        target, changes = action.flag, {"flag": ("open", "resolved")}
    if action.new_pair is not None:
        changes["new pair"] = ("", action.new_pair)
    audit_record(
        event, by=action.by, target=target, programme=pair.cohort.programme, changes=changes
    )


def _resolve_open_flags(pair: Pair, *, by: User | None, note: str, now: datetime) -> None:
    pair.risk_flags.filter(resolved_at__isnull=True).update(
        resolved_at=now, resolved_by=by, resolution_note=note
    )


# --- Check-in -------------------------------------------------------------------------------


def pair_send_checkin(
    *,
    pair: Pair,
    by: User | None,
    flag: RiskFlag | None = None,
    now: datetime | None = None,
) -> list[CheckIn]:
    """Ask each participant of an active pair who has not withdrawn whether they can
    continue, or would rather be re-matched or pause for a month (see the module's rules).
    Returns the check-ins asked."""

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
    by: User | None,
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
    leaves: Participant  # the partner they part from: never offered to them again
    ends_pair: bool  # False: the pair has ended already, and this finds ``keeps`` a partner
    # Whether ``leaves`` goes back to the waiting list, with a "left without a partner" flag
    # that offers them a re-match too (not when they withdrew or have another current pair).
    leaves_waiting: bool
    suggestions: Suggestions

    @property
    def suggestion(self) -> PartnerSuggestion | None:
        return self.suggestions.best


def _sides(pair: Pair, side: str) -> tuple[Participant, Participant]:
    if side == Role.MENTEE:
        return pair.mentee, pair.reverse_mentor
    if side == Role.REVERSE_MENTOR:
        return pair.reverse_mentor, pair.mentee
    raise ValidationError("Choose whose new partner to look for.", code="side")


def _open_pairs(participant: Participant) -> QuerySet[Pair]:
    return Pair.objects.open().filter(Q(mentee=participant) | Q(reverse_mentor=participant))


def _check_can_be_matched(keeps: Participant) -> None:
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


def _rematched_already(pair: Pair) -> None:
    """A pair ended by a re-match (a second click, another manager) says so and by whom."""
    done = (
        PairAction.objects.filter(pair=pair, kind=PairAction.Kind.REMATCH, new_pair__isnull=False)
        .select_related("new_pair__mentee__person", "new_pair__reverse_mentor__person")
        .order_by("at", "pk")
        .first()
    )
    if done is not None:
        new = cast(Pair, done.new_pair)  # a re-match made one
        raise ValidationError(
            f"This pair was re-matched already, on {_day(timezone.localdate(done.at))}: "
            f"{new.mentee.person.full_name} & {new.reverse_mentor.person.full_name} are the new "
            "pair. Nothing more was changed.",
            code="rematched",
        )


def _parties(
    pair: Pair, side: str, flag: RiskFlag | None
) -> tuple[Role, Participant, Participant, bool]:
    """Who gets a new partner, whom they part from, and whether the pair ends: a "left
    without a partner" flag finds a partner for the one its re-match left (its side), on
    the ended pair; any other way re-matches ``side`` of a current pair."""
    if flag is not None and flag.rule == RiskFlag.Rule.NEEDS_PARTNER:
        side = flag.evidence.get("side", "")
        keeps, leaves = _sides(pair, side)
        if not flag.is_open:
            raise ValidationError(
                f"This flag was resolved already, on "
                f"{_day(timezone.localdate(flag.resolved_at))}: nothing more to do here.",
                code="resolved",
            )
        again = _open_pairs(keeps).select_related("mentee__person", "reverse_mentor__person")
        for current in again[:1]:
            other = current.reverse_mentor if current.mentee_id == keeps.pk else current.mentee
            raise ValidationError(
                f"{keeps.person.full_name} has a partner again ({other.person.full_name}): "
                "resolve this flag.",
                code="paired_again",
            )
        _check_can_be_matched(keeps)
        return Role(side), keeps, leaves, False
    keeps, leaves = _sides(pair, side)
    if pair.status == Pair.Status.ENDED:
        _rematched_already(pair)
    _check_not_ended(pair)
    if pair.status not in Pair.OPEN_STATUSES:
        raise ValidationError(
            "Only an active or paused pair can be re-matched.", code="not_current"
        )
    _check_can_be_matched(keeps)
    return Role(side), keeps, leaves, True


def _waits(leaves: Participant, pair: Pair) -> bool:
    return (
        leaves.status != Participant.Status.WITHDRAWN
        and not _open_pairs(leaves).exclude(pk=pair.pk).exists()
    )


def pair_rematch_preview(
    *, pair: Pair, side: str = Role.MENTEE, flag: RiskFlag | None = None
) -> RematchPreview:
    """The best REMATCH_CANDIDATES partners a re-match could pair ``side`` of ``pair`` with
    (for a "left without a partner" flag: the one it names), with the matching code's scores
    and reasons, and what happens to the partner being left; changes nothing. Raises
    ValidationError if there is nothing to re-match."""
    _check_flag(flag, pair)
    side, keeps, leaves, ends_pair = _parties(pair, side, flag)
    keeps.cohort = pair.cohort  # loaded with the pair, programme included: no query again
    suggestions = matchmaking.matchmaker().suggest(
        participant=keeps, limit=REMATCH_CANDIDATES, excluding={leaves.pk}
    )
    return RematchPreview(
        pair=pair,
        side=side,
        keeps=keeps,
        leaves=leaves,
        ends_pair=ends_pair,
        leaves_waiting=ends_pair and _waits(leaves, pair),
        suggestions=suggestions,
    )


def _pick(
    suggestions: Suggestions, partner_id: int | None, keeps: Participant, leaves: Participant
) -> Participant:
    """The manager's pick, if the matching rules still offer it now; else a refusal that
    says why, in the manager's words (the caller's transaction then changes nothing)."""
    if not suggestions.candidates:
        raise ValidationError(
            f"No partner is available for {keeps.person.full_name}: nobody in the cohort with "
            "a place free fits the matching rules. Nothing was changed; pause or end the pair "
            "instead, or add participants and try again.",
            code="no_partner",
        )
    if partner_id is None:
        return suggestions.candidates[0].partner
    for candidate in suggestions.candidates:
        if candidate.partner.pk == partner_id:
            return candidate.partner
    picked = (
        Participant.objects.filter(pk=partner_id, cohort_id=keeps.cohort_id)
        .exclude(role=keeps.role)
        .exclude(pk=leaves.pk)
        .select_related("person")
        .first()
    )
    if picked is None:
        raise ValidationError(
            f"That partner was not among those offered for {keeps.person.full_name}. Nothing "
            "was changed; choose one of the candidates below.",
            code="not_offered",
        )
    if _open_pairs(picked).exists():
        raise ValidationError(
            f"{picked.person.full_name} has been paired meanwhile and has no place left. "
            "Nothing was changed; choose again from the candidates below.",
            code="taken",
        )
    raise ValidationError(
        f"{picked.person.full_name} is not among the best partners the matching rules offer "
        f"for {keeps.person.full_name} now (the cohort may have changed since you looked). "
        "Nothing was changed; choose again from the candidates below.",
        code="changed",
    )


def pair_rematch(
    *,
    pair: Pair,
    by: User | None,
    partner: int | None = None,
    flag: RiskFlag | None = None,
    note: str = "",
    side: str = Role.MENTEE,
    now: datetime | None = None,
) -> Pair:
    """End ``pair`` and start a new one for ``side`` with ``partner`` (a participant id: the
    manager's pick of the preview's candidates; None takes the best), or, for a "left without
    a partner" flag, start one for the participant it names (see the module's rules). If the
    pick is not among the candidates the matching rules offer now (paired meanwhile, the
    cohort changed, never offered), nothing is done and the ValidationError says why. Returns
    the new pair."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    note = (note or "").strip()
    with transaction.atomic():
        # Re-matches in one cohort take turns, so two never hand the same free partner to
        # two people; the pair's row and the flag's are held until the end.
        Cohort.objects.select_for_update().get(pk=pair.cohort_id)
        pair = _lock(pair)
        _check_flag(flag, pair)
        if flag is not None:
            flag = RiskFlag.objects.select_for_update().get(pk=flag.pk)
        side, keeps, leaves, ends_pair = _parties(pair, side, flag)
        if ends_pair:
            pair_services.pair_close(pair, reason=REMATCHED, now=now)
        matcher = matchmaking.matchmaker()
        matcher.keep_apart(
            cohort=pair.cohort,
            mentee=pair.mentee,
            mentor=pair.reverse_mentor,
            by=by,
            note=REMATCH_RULE_NOTE,
        )
        suggestions = matcher.suggest(
            participant=keeps, limit=REMATCH_CANDIDATES, excluding={leaves.pk}
        )
        chosen = _pick(suggestions, partner, keeps, leaves)
        score = next(c.score for c in suggestions.candidates if c.partner.pk == chosen.pk)
        mentee, mentor = (keeps, chosen) if side == Role.MENTEE else (chosen, keeps)
        new_pair = Pair.objects.create(
            cohort=pair.cohort,
            mentee=mentee,
            reverse_mentor=mentor,
            status=Pair.Status.ACTIVE,
            started_on=today,
            score=round(score, 4),
            # One pair replaces another; the one left gets theirs through the flag's action.
            replaces=pair if ends_pair else None,
        )
        pair_services.participants_paired(participant_ids=[keeps.pk, chosen.pk], now=now)
        matcher.introduce(new_pair)
        new_pair.introduced_at = now
        new_pair.save(update_fields=["introduced_at"])
        done = f"Re-matched: {keeps.person.full_name} is now paired with {chosen.person.full_name}."
        if ends_pair:
            _resolve_open_flags(pair, by=by, note=note or done, now=now)
            if _waits(leaves, pair):
                _open_needs_partner(pair, leaves, now=now)
        else:
            flag = cast(RiskFlag, flag)  # a pair that goes on: the flag is what is resolved
            flag.resolved_at, flag.resolved_by, flag.resolution_note = now, by, note or done
            flag.save(update_fields=["resolved_at", "resolved_by", "resolution_note"])
        _record(
            pair, PairAction.Kind.REMATCH, by=by, flag=flag, now=now, note=note, new_pair=new_pair
        )
    return new_pair


def _open_needs_partner(pair: Pair, leaves: Participant, *, now: datetime) -> RiskFlag:
    """The partner a re-match leaves is back on the waiting list (pair_services.pair_close gave them
    back their "intake complete" status, so the cohort's next run takes them) and in the
    queue: this flag offers them a re-match of their own."""
    return RiskFlag.objects.create(
        pair=pair,
        rule=RiskFlag.Rule.NEEDS_PARTNER,
        severity=RiskFlag.SEVERITY[RiskFlag.Rule.NEEDS_PARTNER],
        condition=f"rematch:{pair.pk}:{leaves.pk}",
        evidence={
            "date": timezone.localdate(now).isoformat(),
            "side": Role.MENTEE if leaves.pk == pair.mentee_id else Role.REVERSE_MENTOR,
        },
        opened_at=now,
        updated_at=now,
    )


# --- End ------------------------------------------------------------------------------------


def pair_end(
    *,
    pair: Pair,
    by: User | None,
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
        pair_services.pair_close(pair, reason=note, now=now)
        _resolve_open_flags(pair, by=by, note=f"Pair ended: {note}", now=now)
        _record(pair, PairAction.Kind.END, by=by, flag=flag, now=now, note=note)
    return pair


# --- Resolve --------------------------------------------------------------------------------


def flag_resolve(
    *, flag: RiskFlag, by: User | None, note: str, now: datetime | None = None
) -> RiskFlag:
    """Resolve an open flag with the manager's own words. Returns the flag as saved."""

    now = now or timezone.now()
    note = _note(note, NOTE_REQUIRED)
    with transaction.atomic():
        pair = _lock(flag.pair)
        flag = RiskFlag.objects.select_for_update().get(pk=flag.pk)
        if not flag.is_open:
            who = user_name(flag.resolved_by) if flag.resolved_by else "someone"
            raise ValidationError(
                f"This flag was resolved already, on "
                f"{_day(timezone.localdate(flag.resolved_at))} by {who}.",
                code="resolved",
            )
        flag.resolved_at, flag.resolved_by, flag.resolution_note = now, by, note
        flag.save(update_fields=["resolved_at", "resolved_by", "resolution_note"])
        _record(pair, PairAction.Kind.RESOLVE, by=by, flag=flag, now=now, note=note)
    return flag
