"""The pulse after each session: what a participant is asked, and saving their answers.

One pulse per participant and session (a database constraint). ``pulse_situation`` (or
``situation_for``, from a link's scope) works out what the pulse page shows for a session, in
one query; ``pulse_submit`` locks the participant, reads the situation again and saves the
answers in one transaction (``pulse_save``), or raises a ValidationError written for the
participant and saves nothing. The pulse page takes the lock itself, when it loads the
participant, and reads the situation once (surveys/pulse_views.py). The answer to "was it
held?" also logs the session: held, missed, or moved to the new time the participant gives
(which tells the partner, like any move).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import cast

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, FilteredRelation, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from pairs import meetings
from pairs.models import Meeting, Pair
from pairs.queries import partner_of, side_of
from pairs.signals import pair_activity_on_commit
from programmes.models import KeySkill, Participant, Role
from surveys import notices
from surveys.models import EDIT_WINDOW, ConfidenceRating, Pulse, PulseRequest

# How many key skills a pulse asks confidence on; they rotate from one pulse to the next.
SKILLS_PER_PULSE = 2
LINE_MAX_LENGTH = 280  # learning, action: one line each

CANCELLED_MESSAGE = "This session was cancelled, so there is nothing to answer for it."
FUTURE_MESSAGE = "This session has not happened yet. The questions open once it has started."
CLOSED_MESSAGE = (
    "You answered these questions more than 48 hours ago, so they can no longer be changed."
)
BUSY_MESSAGE = "Your answers were being saved from another window at the same moment. Try again."


class State(StrEnum):
    OPEN = "open"  # can be answered (first time, or edited within the window)
    READ_ONLY = "read_only"  # answered, and the edit window has passed
    FUTURE = "future"  # the session has not started yet
    CANCELLED = "cancelled"


@dataclass
class PulseSituation:
    """Everything the pulse for one participant and session depends on."""

    meeting: Meeting
    participant: Participant
    side: Role
    partner: Participant
    state: State
    existing: Pulse | None  # the answer being edited or shown, if any
    previous: Pulse | None  # the earlier pulse whose action is followed up, if any
    asks_good_fit: bool
    skills: list[KeySkill] = field(default_factory=list)
    # The participant's row for the session as stored, even a "moved" answer that
    # ``existing`` leaves out because it is being replaced; whether the pulse was requested.
    stored: Pulse | None = None
    requested: bool = False

    @property
    def editable_until(self) -> datetime | None:
        return self.existing.submitted_at + EDIT_WINDOW if self.existing else None

    @property
    def is_edit(self) -> bool:
        return self.existing is not None and self.state == State.OPEN


def _meeting_id(scope: str) -> int | None:
    return int(scope) if scope.isdecimal() and len(scope) <= 12 else None


def _in_pair(participant_id: int) -> Q:
    # The pair's own columns (no join to the participants): one row, already found by its key.
    return Q(pair__mentee_id=participant_id) | Q(pair__reverse_mentor_id=participant_id)


_MEETING_RELATED = (
    "topic",
    "pair__cohort__programme",
    "pair__mentee__person",
    "pair__reverse_mentor__person",
)
_PULSE_FIELDS = [field.attname for field in Pulse._meta.concrete_fields]
_SKILL_FIELDS = ["id", "programme_id", "name", "position"]


def _situation_rows(participant_id: int, meeting_id: int) -> list[Meeting]:
    """Everything a pulse situation depends on, in one query: the session with its pair and
    people, the participant's pulse for it (every column), the latest earlier held pulse whose
    action might be followed up, whether an earlier session was held, how many earlier pulses
    the participant gave (for the skill rotation), whether the pulse was requested, and one
    row per key skill of the programme with the pulse's rating of it, if any. No rows if the
    session is not in one of the participant's pairs."""
    earlier_held = Pulse.objects.filter(
        participant_id=participant_id,
        meeting__pair=OuterRef("pair"),
        meeting__starts_at__lt=OuterRef("starts_at"),
        held=True,
    ).order_by("-meeting__starts_at")
    earlier_count = (
        Pulse.objects.filter(
            participant_id=participant_id, meeting__starts_at__lt=OuterRef("starts_at")
        )
        .order_by()
        .values("participant_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return list(
        Meeting.objects.select_related(*_MEETING_RELATED)
        .filter(_in_pair(participant_id), pk=meeting_id)
        .annotate(
            mine=FilteredRelation("pulses", condition=Q(pulses__participant_id=participant_id))
        )
        .annotate(
            **{f"mine_{name}": F(f"mine__{name}") for name in _PULSE_FIELDS},
            latest_held_id=Subquery(earlier_held.values("pk")[:1]),
            held_before=Exists(
                Meeting.objects.filter(
                    pair=OuterRef("pair"),
                    status=Meeting.Status.HELD,
                    starts_at__lt=OuterRef("starts_at"),
                )
            ),
            earlier_pulses=Coalesce(Subquery(earlier_count, output_field=IntegerField()), 0),
            requested=Exists(
                PulseRequest.objects.filter(meeting=OuterRef("pk"), participant_id=participant_id)
            ),
            **{
                f"skill_{name}": F(f"pair__cohort__programme__key_skills__{name}")
                for name in _SKILL_FIELDS
            },
        )
        .annotate(
            latest_held_action=Subquery(earlier_held.values("action")[:1]),
            latest_held_followed=Exists(
                Pulse.objects.filter(previous_id=OuterRef("latest_held_id"))
            ),
            mine_previous_action=Subquery(
                Pulse.objects.filter(pk=OuterRef("mine_previous_id")).values("action")[:1]
            ),
            skill_rating=Subquery(
                ConfidenceRating.objects.filter(
                    pulse_id=OuterRef("mine_id"), key_skill_id=OuterRef("skill_id")
                ).values("pk")[:1]
            ),
        )
        .order_by("skill_position", "skill_id")
    )


def _stored_pulse(row: Meeting, participant: Participant) -> Pulse | None:
    if row.mine_id is None:  # type: ignore[attr-defined]
        return None
    values = [getattr(row, f"mine_{name}") for name in _PULSE_FIELDS]
    pulse = Pulse.from_db(row._state.db, _PULSE_FIELDS, values)
    pulse.meeting, pulse.participant = row, participant
    return pulse


def _followed_pulse(row: Meeting, pulse_id: int | None, action: str | None) -> Pulse | None:
    """The pulse whose action is followed up, with only its action loaded (all the page
    shows and the answer stores); any other field loads when read."""
    if pulse_id is None:
        return None
    return Pulse.from_db(row._state.db, ["id", "action"], [pulse_id, action or ""])


def _skills_of(rows: list[Meeting], existing: Pulse | None, earlier: int) -> list[KeySkill]:
    skills, rated = [], []
    for row in rows:
        if row.skill_id is None:  # type: ignore[attr-defined]
            continue
        values = [getattr(row, f"skill_{name}") for name in _SKILL_FIELDS]
        skill = KeySkill.from_db(row._state.db, _SKILL_FIELDS, values)
        skills.append(skill)
        if row.skill_rating is not None:  # type: ignore[attr-defined]
            rated.append(skill)
    if existing is not None and rated:
        return rated
    if len(skills) <= SKILLS_PER_PULSE:
        return skills
    # Rotate through the skills: the nth pulse of this participant starts where the last
    # one stopped, so every skill comes round within a few sessions.
    start = earlier * SKILLS_PER_PULSE
    return [skills[(start + i) % len(skills)] for i in range(SKILLS_PER_PULSE)]


def situation_for(
    participant: Participant, scope: str, *, now: datetime | None = None
) -> PulseSituation | None:
    """The pulse situation for the session a pulse link names (one query), or None if the
    session is not one of ``participant``'s. Read after ``pulse_lock`` when answers are to be
    saved, so that it sees what a submission finished just before has saved."""
    meeting_id = _meeting_id(scope)
    if meeting_id is None:
        return None
    rows = _situation_rows(participant.pk, meeting_id)
    if not rows:
        return None
    return _situation_from(rows, participant, now or timezone.now())


def _situation_from(rows: list[Meeting], participant: Participant, now: datetime) -> PulseSituation:
    meeting = row = rows[0]
    pair = meeting.pair
    stored = _stored_pulse(row, participant)
    existing = stored
    if (
        stored is not None
        and stored.not_held == Pulse.NotHeld.RESCHEDULED
        and stored.session_starts_at != meeting.starts_at
    ):
        # It only said the session was moved, and it has been since: that answer is replaced
        # by one about the new time.
        existing = None
    if existing is not None:
        state = State.OPEN if now - existing.submitted_at <= EDIT_WINDOW else State.READ_ONLY
    elif meeting.called_off:
        state = State.CANCELLED
    elif meeting.starts_at > now:
        state = State.FUTURE
    else:
        state = State.OPEN
    if existing is not None:
        previous = _followed_pulse(row, existing.previous_id, row.mine_previous_action)  # type: ignore[attr-defined]
    elif row.latest_held_followed:  # type: ignore[attr-defined]
        # The action of the participant's latest held session, unless a pulse in between
        # (one for a session that did not happen, say) has already followed it up: each
        # action is followed up once, so follow-through counts it once.
        previous = None
    else:
        previous = _followed_pulse(row, row.latest_held_id, row.latest_held_action)  # type: ignore[attr-defined]
        if previous is not None and not previous.commits_to_action:
            previous = None
    return PulseSituation(
        meeting=meeting,
        participant=participant,
        side=side_of(pair=pair, participant=participant),
        partner=partner_of(pair=pair, participant=participant),
        state=state,
        existing=existing,
        previous=previous,
        asks_good_fit=not row.held_before,  # type: ignore[attr-defined]
        skills=_skills_of(rows, existing, row.earlier_pulses),  # type: ignore[attr-defined]
        stored=stored,
        requested=row.requested,  # type: ignore[attr-defined]
    )


def pulse_situation(
    *, meeting: Meeting, participant: Participant, now: datetime | None = None
) -> PulseSituation:
    """The pulse situation of ``participant`` for ``meeting``; ValidationError if the session
    is not in one of their pairs."""
    rows = _situation_rows(participant.pk, meeting.pk)
    if not rows:
        side_of(pair=meeting.pair, participant=participant)  # raises, saying why
    return _situation_from(rows, participant, now or timezone.now())


def pulse_lock(participant: Participant) -> None:
    """One submission at a time per participant: a second one arriving together with the
    first waits here, then (reading its situation after this) finds the first one's row and
    edits it. Call inside the transaction that saves."""
    Participant.objects.select_for_update().filter(pk=participant.pk).values_list("pk").get()


@dataclass(frozen=True)
class Answers:
    """A pulse's answers, already checked for type and range by the form."""

    held: bool
    not_held: str = ""
    new_starts_at: datetime | None = None  # for a session moved to another time
    learning: str = ""
    action: str = ""
    shared: bool = False
    previous_action_done: str = ""
    good_fit: bool | None = None
    safety: int | None = None
    teaching: int | None = None
    confidence: dict[int, int] = field(default_factory=dict)  # key skill id: 1–5


def _check(situation: PulseSituation, answers: Answers) -> None:
    _check_open(situation)
    errors = _session_errors(situation, answers) | _length_errors(answers)
    if errors:
        raise ValidationError(errors)


def _check_open(situation: PulseSituation) -> None:
    """Whether the session can be answered at all, before looking at any answer."""
    if situation.state == State.CANCELLED:
        raise ValidationError(CANCELLED_MESSAGE, code="cancelled")
    if situation.state == State.FUTURE:
        raise ValidationError(FUTURE_MESSAGE, code="future")
    if situation.state == State.READ_ONLY:
        raise ValidationError(CLOSED_MESSAGE, code="closed")


def _session_errors(situation: PulseSituation, answers: Answers) -> dict[str, str]:
    """What the page asked and was not answered: a held session asks for a learning (and after
    the first one, whether it is a good fit); one not held asks what happened to it."""
    errors = {}
    if situation.previous is not None and answers.previous_action_done not in Pulse.Done.values:
        errors["previous_action_done"] = "Say whether you did last session's action."
    if answers.held:
        if not answers.learning.strip():
            errors["learning"] = "Write one thing you learned, in a line."
        if situation.asks_good_fit and answers.good_fit is None:
            errors["good_fit"] = "Say whether this feels like a good fit."
        if set(answers.confidence) - {skill.pk for skill in situation.skills}:
            errors["confidence"] = "Rate only the skills shown."
    elif answers.not_held not in Pulse.NotHeld.values:
        errors["not_held"] = "Say what happened to the session."
    elif answers.not_held == Pulse.NotHeld.RESCHEDULED and answers.new_starts_at is None:
        errors["new_date"] = "Give the new date and time of the session."
    return errors


def _length_errors(answers: Answers) -> dict[str, str]:
    errors = {}
    for name in ("learning", "action"):
        text = getattr(answers, name)
        if len(text) > LINE_MAX_LENGTH:
            errors[name] = f"Keep it to {LINE_MAX_LENGTH} characters (it has {len(text)})."
    return errors


def _log_session(situation: PulseSituation, answers: Answers) -> None:
    """What the answer to "was it held?" does to the session. The first to log a session
    decides its status; a different later answer is kept in the pulse, and either participant
    can correct the session itself on the pair page."""
    meeting = situation.meeting
    if answers.not_held == Pulse.NotHeld.RESCHEDULED and not answers.held:
        try:
            meetings.meeting_reschedule(
                meeting=meeting,
                by=situation.participant,
                starts_at=cast(datetime, answers.new_starts_at),  # the form asks for it
                duration_minutes=meeting.duration_minutes,
                topic=meeting.topic,
            )
        except ValidationError as error:
            if hasattr(error, "error_dict") and "starts_at" in error.error_dict:
                raise ValidationError({"new_date": error.error_dict["starts_at"]}) from error
            raise
        return
    if meeting.pair.status == Pair.Status.ENDED or meeting.status != Meeting.Status.SCHEDULED:
        # Already logged (by the partner, or by this participant's earlier answer).
        return
    status = Meeting.Status.HELD if answers.held else Meeting.Status.MISSED
    now = timezone.now()
    changed = Meeting.objects.filter(pk=meeting.pk, status=Meeting.Status.SCHEDULED).update(
        status=status, updated_at=now
    )
    if changed:
        meeting.status, meeting.updated_at = status, now
    else:  # the partner logged it a moment ago
        meeting.refresh_from_db(fields=["status", "updated_at"])


def pulse_submit(
    *, situation: PulseSituation, answers: Answers, now: datetime | None = None
) -> Pulse:
    """Save ``answers`` as the participant's pulse for the session (or change their earlier
    one within the edit window). All of it or none of it is saved."""
    now = now or timezone.now()
    participant, meeting = situation.participant, situation.meeting
    _check(situation, answers)
    try:
        with transaction.atomic():
            pulse_lock(participant)
            fresh = pulse_situation(meeting=meeting, participant=participant, now=now)
            pulse = pulse_save(situation=fresh, answers=answers, now=now)
    except IntegrityError as error:
        # Only reachable where the lock above is a no-op and another submission won.
        raise ValidationError(BUSY_MESSAGE, code="busy") from error
    return pulse


def pulse_save(*, situation: PulseSituation, answers: Answers, now: datetime) -> Pulse:
    """``pulse_submit`` once the lock is held: the caller has an open transaction, has called
    ``pulse_lock`` in it and read ``situation`` after that, and rolls the transaction back
    if this raises (a ValidationError written for the participant, or an IntegrityError)."""
    _check(situation, answers)
    # The time the answer is about: moving the session changes the meeting's.
    answered_start = situation.meeting.starts_at
    _log_session(situation, answers)
    pulse = _save(situation, answers, now, session_starts_at=answered_start)
    # A low safety answer, "not a good fit" or a missed session may raise a flag.
    pair_activity_on_commit(pair_id=situation.meeting.pair_id)
    return pulse


def _save(
    situation: PulseSituation, answers: Answers, now: datetime, *, session_starts_at: datetime
) -> Pulse:
    meeting, participant = situation.meeting, situation.participant
    pulse = situation.stored or Pulse(meeting=meeting, participant=participant)
    if situation.existing is None:
        # A first answer (or one replacing a "moved" answer about an earlier time).
        pulse.submitted_at = now
        pulse.rematch_alert_sent_at = None
    held = answers.held
    pulse.held = held
    pulse.not_held = "" if held else answers.not_held
    pulse.session_starts_at = session_starts_at
    pulse.learning = answers.learning.strip() if held else ""
    pulse.action = answers.action.strip() if held else ""
    pulse.shared = answers.shared and held
    pulse.previous = situation.previous
    pulse.previous_action_done = answers.previous_action_done if situation.previous else ""
    pulse.good_fit = answers.good_fit if held and situation.asks_good_fit else None
    pulse.safety = answers.safety if held else None
    pulse.teaching = answers.teaching if held else None
    # The form checked types, lengths and ranges; the check constraints stay in the database
    # as the backstop, so they are not run again here as queries of their own.
    pulse.full_clean(
        exclude=["meeting", "participant", "previous"],
        validate_unique=False,
        validate_constraints=False,
    )
    pulse.save()
    _save_confidence(pulse, situation, answers if held else None, now)
    if not situation.requested:
        # Answered before it was asked for: the request is written now (the response rate's
        # denominator). Ignoring a clash covers the scan writing it at the same moment.
        PulseRequest.objects.bulk_create(
            [PulseRequest(meeting=meeting, participant=participant, requested_at=now)],
            ignore_conflicts=True,
        )
    if pulse.good_fit is False and pulse.rematch_alert_sent_at is None:
        notices.ask_rematch_alert(pulse)
        Pulse.objects.filter(pk=pulse.pk).update(rematch_alert_sent_at=now)
    return pulse


def _save_confidence(
    pulse: Pulse, situation: PulseSituation, answers: Answers | None, now: datetime
) -> None:
    """The pulse's ratings become exactly the given ones: an edit replaces what it rated
    before (one DELETE), then the ratings are written in one INSERT."""
    given = answers.confidence if answers else {}
    if situation.stored is not None:
        pulse.confidence.all().delete()
    ConfidenceRating.objects.bulk_create(
        ConfidenceRating(
            pulse=pulse,
            participant=situation.participant,
            key_skill_id=skill_id,
            value=value,
            context=ConfidenceRating.Context.PULSE,
            recorded_at=now,
        )
        for skill_id, value in given.items()
    )


# --- Requests -------------------------------------------------------------------------------

# A session's pulse is asked for this long after it ends, and not for sessions older than
# REQUEST_HORIZON (a scan that was down for a while does not mail about last month).
REQUEST_DELAY = timedelta(hours=1)
REQUEST_HORIZON = timedelta(days=7)


def pulse_requests_due(*, now: datetime | None = None) -> int:
    """Write the PulseRequest rows that have come due, each with its e-mail in the outbox:
    both participants of each session of an active pair that ended at least REQUEST_DELAY
    ago and was not cancelled or logged as missed. A request that exists already (an earlier
    scan, an answer given first from the pair page) is left alone. Returns how many were
    written."""
    now = now or timezone.now()

    def requested(side: str) -> Exists:
        return Exists(
            PulseRequest.objects.filter(meeting=OuterRef("pk"), participant=OuterRef(side))
        )

    # Only sessions still missing a side's request: the scan's work is what is due, not
    # every session of the past week on every tick.
    candidates = (
        Meeting.objects.filter(
            pair__status=Pair.Status.ACTIVE,
            status__in=Meeting.MAYBE_HELD,
            starts_at__gte=now - REQUEST_HORIZON,
            starts_at__lte=now - REQUEST_DELAY,
        )
        .exclude(requested("pair__mentee") & requested("pair__reverse_mentor"))
        .select_related("pair__mentee__person", "pair__reverse_mentor__person")
        .order_by("starts_at")
    )
    written = 0
    for meeting in candidates:
        if meeting.ends_at > now - REQUEST_DELAY:
            continue
        for participant in (meeting.pair.mentee, meeting.pair.reverse_mentor):
            with transaction.atomic():
                request, created = PulseRequest.objects.get_or_create(
                    meeting=meeting, participant=participant, defaults={"requested_at": now}
                )
                if created:
                    notices.ask_pulse_request(request)
                    written += 1
    return written
