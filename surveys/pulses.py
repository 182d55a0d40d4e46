"""The pulse after each session: what a participant is asked, and saving their answers.

One pulse per participant and session (a database constraint). ``pulse_situation`` works out
what the pulse page shows for a session; ``pulse_submit`` checks the answers against it and
saves them in one transaction, or raises a ValidationError written for the participant and
saves nothing. The answer to "was it held?" also logs the session: held, missed, or moved to
the new time the participant gives (which tells the partner, like any move).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import cast

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
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

    @property
    def editable_until(self) -> datetime | None:
        return self.existing.submitted_at + EDIT_WINDOW if self.existing else None

    @property
    def is_edit(self) -> bool:
        return self.existing is not None and self.state == State.OPEN


def meeting_for(participant: Participant, scope: str) -> Meeting | None:
    """The session a pulse link names, if it belongs to one of ``participant``'s pairs."""
    if not scope.isdecimal() or len(scope) > 12:
        return None
    return (
        Meeting.objects.select_related(
            "topic",
            "pair__cohort__programme",
            "pair__mentee__person",
            "pair__reverse_mentor__person",
        )
        .filter(Q(pair__mentee=participant) | Q(pair__reverse_mentor=participant), pk=int(scope))
        .first()
    )


def _skills_for(meeting: Meeting, participant: Participant, existing: Pulse | None) -> list:
    if existing is not None:
        rated = [rating.key_skill for rating in existing.confidence.select_related("key_skill")]
        if rated:
            return rated
    skills = list(meeting.pair.cohort.programme.key_skills.all())
    if len(skills) <= SKILLS_PER_PULSE:
        return skills
    # Rotate through the skills: the nth pulse of this participant starts where the last
    # one stopped, so every skill comes round within a few sessions.
    earlier = Pulse.objects.filter(
        participant=participant, meeting__starts_at__lt=meeting.starts_at
    ).count()
    start = earlier * SKILLS_PER_PULSE
    return [skills[(start + i) % len(skills)] for i in range(SKILLS_PER_PULSE)]


def _current_answer(meeting: Meeting, participant: Participant) -> Pulse | None:
    """The participant's pulse for this session, unless it only said the session was moved
    and the session has since been moved: that answer is replaced by one about the new time."""
    pulse = Pulse.objects.filter(meeting=meeting, participant=participant).first()
    if (
        pulse is not None
        and pulse.not_held == Pulse.NotHeld.RESCHEDULED
        and pulse.session_starts_at != meeting.starts_at
    ):
        return None
    return pulse


def pulse_situation(
    *, meeting: Meeting, participant: Participant, now: datetime | None = None
) -> PulseSituation:
    now = now or timezone.now()
    pair = meeting.pair
    side = side_of(pair=pair, participant=participant)
    existing = _current_answer(meeting, participant)
    if existing is not None:
        state = State.OPEN if now - existing.submitted_at <= EDIT_WINDOW else State.READ_ONLY
    elif meeting.called_off:
        state = State.CANCELLED
    elif meeting.starts_at > now:
        state = State.FUTURE
    else:
        state = State.OPEN
    if existing is not None:
        previous = existing.previous
    else:
        # The action of the participant's latest held session, unless a pulse in between
        # (one for a session that did not happen, say) has already followed it up: each
        # action is followed up once, so follow-through counts it once.
        previous = (
            Pulse.objects.filter(
                participant=participant,
                meeting__pair=pair,
                meeting__starts_at__lt=meeting.starts_at,
                held=True,
            )
            .annotate(followed_up=Exists(Pulse.objects.filter(previous=OuterRef("pk"))))
            .order_by("-meeting__starts_at")
            .first()
        )
        if previous is not None and (previous.followed_up or not previous.commits_to_action):
            previous = None
    first_session = not Meeting.objects.filter(
        pair=pair, status=Meeting.Status.HELD, starts_at__lt=meeting.starts_at
    ).exists()
    return PulseSituation(
        meeting=meeting,
        participant=participant,
        side=side,
        partner=partner_of(pair=pair, participant=participant),
        state=state,
        existing=existing,
        previous=previous,
        asks_good_fit=first_session,
        skills=_skills_for(meeting, participant, existing),
    )


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
    if meeting.pair.status == Pair.Status.ENDED:
        return
    status = Meeting.Status.HELD if answers.held else Meeting.Status.MISSED
    Meeting.objects.filter(pk=meeting.pk, status=Meeting.Status.SCHEDULED).update(
        status=status, updated_at=timezone.now()
    )
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
            # One submission at a time per participant: a second one arriving together with
            # the first waits here, then finds the first one's row and edits it.
            Participant.objects.select_for_update().filter(pk=participant.pk).values_list(
                "pk"
            ).get()
            meeting.refresh_from_db()
            fresh = pulse_situation(meeting=meeting, participant=participant, now=now)
            _check(fresh, answers)
            # The time the answer is about: moving the session changes the meeting's.
            answered_start = meeting.starts_at
            _log_session(fresh, answers)
            pulse = _save(fresh, answers, now, session_starts_at=answered_start)
            # A low safety answer, "not a good fit" or a missed session may raise a flag.
            pair_activity_on_commit(pair_id=meeting.pair_id)
    except IntegrityError as error:
        # Only reachable where the lock above is a no-op and another submission won.
        raise ValidationError(BUSY_MESSAGE, code="busy") from error
    return pulse


def _save(
    situation: PulseSituation, answers: Answers, now: datetime, *, session_starts_at: datetime
) -> Pulse:
    meeting, participant = situation.meeting, situation.participant
    pulse = Pulse.objects.filter(meeting=meeting, participant=participant).first()
    if pulse is None:
        pulse = Pulse(meeting=meeting, participant=participant)
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
    pulse.full_clean(exclude=["meeting", "participant", "previous"], validate_unique=False)
    pulse.save()
    _save_confidence(pulse, situation, answers if held else None, now)
    PulseRequest.objects.get_or_create(
        meeting=meeting, participant=participant, defaults={"requested_at": now}
    )
    if pulse.good_fit is False and pulse.rematch_alert_sent_at is None:
        notices.ask_rematch_alert(pulse)
        Pulse.objects.filter(pk=pulse.pk).update(rematch_alert_sent_at=now)
    return pulse


def _save_confidence(
    pulse: Pulse, situation: PulseSituation, answers: Answers | None, now: datetime
) -> None:
    given = answers.confidence if answers else {}
    pulse.confidence.exclude(key_skill_id__in=given).delete()
    for skill_id, value in given.items():
        ConfidenceRating.objects.update_or_create(
            pulse=pulse,
            key_skill_id=skill_id,
            defaults={
                "participant": situation.participant,
                "value": value,
                "context": ConfidenceRating.Context.PULSE,
                "recorded_at": now,
            },
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
