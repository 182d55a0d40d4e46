"""The session services: schedule, reschedule, cancel and mark a pair's meetings, the calendar
invitation (.ics) for each, and the e-mail that tells the partner.

Either participant of a pair may act; ``by`` is the participant acting. Every service checks,
raises a ValidationError written for the participant (keyed by field where one is to blame)
and saves nothing, or saves inside one transaction and queues the partner's e-mail once it
has committed. Times are stored in UTC and shown in each reader's own time zone.
"""

from datetime import datetime, timedelta
from typing import Literal, cast
from uuid import UUID, uuid4

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateformat import format as format_date

from pairs import notices
from pairs.ics import local_time
from pairs.models import Meeting, Pair
from pairs.queries import agreement_current, side_of
from pairs.signals import pair_activity_on_commit
from programmes.models import Participant, Role, Topic
from programmes.throttle import Kind as ActionKind
from programmes.throttle import action_count, participant_lock

MIN_MINUTES = 1
MAX_MINUTES = 240
DURATION_MESSAGE = "A session lasts between 1 minute and 4 hours."
PAST_MESSAGE = "Choose a time in the future."
# Sessions are booked at most this far ahead (a programme rarely runs longer).
MAX_AHEAD = timedelta(days=366)
AHEAD_MESSAGE = "Choose a time within the next year."
TOPIC_MESSAGE = "Choose a topic from your programme's road map."
ENDED_MESSAGE = "This pair has ended; nothing can be changed."
AGREEMENT_MESSAGE = "Agree how you'll work together on your pair page first."

Kind = Literal["scheduled", "rescheduled", "cancelled", "marked"]
Mark = Literal["held", "missed"]


# --- Checks ---------------------------------------------------------------------------------


def _check_open(pair: Pair) -> None:
    if pair.status == Pair.Status.ENDED:
        raise ValidationError(ENDED_MESSAGE, code="ended")


def meeting_booking_check(*, pair: Pair, by: Participant) -> None:
    """Raises unless ``pair`` can take a new time now: it must be started, not paused and have
    a kickoff agreement both sides accepted. The pages use it to explain up front."""
    _check_open(pair)
    if pair.status == Pair.Status.PROPOSED:
        raise ValidationError(
            "Your pair has not been confirmed yet; you can book sessions once it has.",
            code="proposed",
        )
    if pair.status == Pair.Status.PAUSED:
        # The pause lifts on paused_until itself, in the booker's own calendar, even before a
        # manager sets the pair active again.
        today = local_time(timezone.now(), by.person.time_zone).date()
        if pair.paused_until is None:
            raise ValidationError(
                "Your pair is paused for now; ask your programme manager to resume it.",
                code="paused",
            )
        if today < pair.paused_until:
            raise ValidationError(
                f"Your pair is paused until {format_date(pair.paused_until, 'j F Y')}; "
                "you can book sessions from that day.",
                code="paused",
            )
    if agreement_current(pair) is None:
        raise ValidationError(AGREEMENT_MESSAGE, code="no_agreement")


def _topic_errors(pair: Pair, topic: Topic | None) -> dict[str, str]:
    if topic is not None and topic.programme_id != pair.cohort.programme_id:
        return {"topic": TOPIC_MESSAGE}
    return {}


def _check_time(
    pair: Pair,
    *,
    by: Participant,
    starts_at: datetime,
    duration_minutes: int,
    topic: Topic | None,
    exclude: Meeting | None = None,
) -> None:
    """Raises for a topic outside the road map, a time in the past, a duration out of range,
    or an overlap with another session of the pair that is not cancelled. Call with the pair
    row locked."""
    if timezone.is_naive(starts_at):
        raise ValueError("starts_at must be an aware datetime")
    errors = _topic_errors(pair, topic)
    if not MIN_MINUTES <= duration_minutes <= MAX_MINUTES:
        errors["duration_minutes"] = DURATION_MESSAGE
    if starts_at < timezone.now():
        errors["starts_at"] = PAST_MESSAGE
    elif starts_at > timezone.now() + MAX_AHEAD:
        errors["starts_at"] = AHEAD_MESSAGE
    if errors:
        raise ValidationError(errors)
    ends_at = starts_at + timedelta(minutes=duration_minutes)
    others = (
        Meeting.objects.filter(
            pair=pair,
            starts_at__lt=ends_at,
            starts_at__gt=starts_at - timedelta(minutes=MAX_MINUTES),
        )
        .exclude(status=Meeting.Status.CANCELLED)
        .order_by("starts_at")
    )
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    for other in others:
        if other.ends_at > starts_at:
            zone = by.person.time_zone
            start = local_time(other.starts_at, zone)
            end = local_time(other.ends_at, zone)
            raise ValidationError(
                {
                    "starts_at": f"You already have a session from {start:%H:%M} to "
                    f"{end:%H:%M} that day ({zone} time)."
                },
                code="overlap",
            )


def _lock(pair: Pair, by: Participant) -> None:
    """Lock the acting participant's row, then the pair's, until the transaction ends, so two
    changes to one pair take turns and two bookings cannot both pass the overlap check. Always
    in that order (as the pulse does, which may move a session), so two locks never wait on
    each other. (A no-op on SQLite, which locks the whole database for a write.)"""
    participant_lock(by)
    Pair.objects.select_for_update().filter(pk=pair.pk).values_list("pk").get()


def _queue_update(meeting: Meeting, kind: Kind, by: Participant, side: Role) -> None:
    """The partner's e-mail, and a fresh look at the pair's at-risk flags, both once the
    transaction commits. Counted by the rate limit first: over it, the ValidationError undoes
    the change."""
    action_count(participant=by, kind=ActionKind.PARTNER_MAIL)
    notices.ask_meeting_update(meeting, kind, side)
    pair_activity_on_commit(pair_id=meeting.pair_id)


# --- Services -------------------------------------------------------------------------------


def meeting_schedule(
    *,
    pair: Pair,
    by: Participant,
    starts_at: datetime,
    duration_minutes: int,
    topic: Topic | None,
    submission: UUID | None = None,
) -> Meeting:
    """Book a session; the partner gets an e-mail with the invitation. ``submission`` is the
    booking form's one-time token: the same form sent again returns the session it booked,
    without a second one or a second e-mail."""
    side = side_of(pair=pair, participant=by)
    meeting_booking_check(pair=pair, by=by)
    with transaction.atomic():
        _lock(pair, by)
        if submission is not None:
            booked = Meeting.objects.filter(pair=pair, submission=submission).first()
            if booked is not None:
                return booked
        _check_time(
            pair, by=by, starts_at=starts_at, duration_minutes=duration_minutes, topic=topic
        )
        meeting = Meeting.objects.create(
            pair=pair,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            topic=topic,
            scheduled_by=side,
            uid=uuid4(),
            submission=submission,
        )
        _queue_update(meeting, "scheduled", by, side)
    return meeting


def _check_scheduled(meeting: Meeting) -> None:
    if meeting.status != Meeting.Status.SCHEDULED:
        raise ValidationError(
            f"This session is already {meeting.get_status_display().lower()}; "
            "it cannot be moved or cancelled any more.",
            code="not_scheduled",
        )


def meeting_reschedule(
    *,
    meeting: Meeting,
    by: Participant,
    starts_at: datetime,
    duration_minutes: int,
    topic: Topic | None,
) -> Meeting:
    """Move a scheduled session (or change its length or topic). The invitation keeps its UID
    and gets a higher SEQUENCE, so calendars update the event instead of adding one."""
    pair = meeting.pair
    side = side_of(pair=pair, participant=by)
    meeting_booking_check(pair=pair, by=by)
    with transaction.atomic():
        _lock(pair, by)
        meeting.refresh_from_db()
        _check_scheduled(meeting)
        _check_time(
            pair,
            by=by,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            topic=topic,
            exclude=meeting,
        )
        meeting.starts_at = starts_at
        meeting.duration_minutes = duration_minutes
        meeting.topic = topic
        meeting.sequence += 1
        meeting.save(
            update_fields=["starts_at", "duration_minutes", "topic", "sequence", "updated_at"]
        )
        _queue_update(meeting, "rescheduled", by, side)
    return meeting


def meeting_cancel(*, meeting: Meeting, by: Participant, reason: str = "") -> Meeting:
    """Cancel a scheduled session, recording which side cancelled it (the cancellation rate is
    split by it). Allowed while the pair is paused; not once it has ended."""
    pair = meeting.pair
    side = side_of(pair=pair, participant=by)
    _check_open(pair)
    reason = " ".join(reason.split())
    max_length = cast(int, Meeting._meta.get_field("cancel_reason").max_length)
    if len(reason) > max_length:
        raise ValidationError(
            {"reason": f"Keep the reason to {max_length} characters (it has {len(reason)})."}
        )
    with transaction.atomic():
        _lock(pair, by)
        meeting.refresh_from_db()
        _check_scheduled(meeting)
        meeting.status = Meeting.Status.CANCELLED
        meeting.cancelled_by = side
        meeting.cancel_reason = reason
        meeting.sequence += 1
        meeting.save(
            update_fields=["status", "cancelled_by", "cancel_reason", "sequence", "updated_at"]
        )
        _queue_update(meeting, "cancelled", by, side)
    return meeting


def meeting_mark(
    *,
    meeting: Meeting,
    by: Participant,
    status: Mark | str,
    led_by: Role | str,
    topic: Topic | None,
    missed_by: Role | str = "",
) -> Meeting:
    """Record that a session that has started was held (and who led it) or missed (and, if
    the one logging it says so, which side did not turn up: ``missed_by``, blank when not
    known). A mark can be corrected later; a cancelled session cannot be marked."""
    pair = meeting.pair
    side = side_of(pair=pair, participant=by)
    _check_open(pair)
    errors = _topic_errors(pair, topic)
    if status not in Meeting.MARKED:
        errors["status"] = "Say whether the session was held or missed."
    if led_by not in ("", *Role.values):
        errors["led_by"] = "Choose who led the session."
    if missed_by not in ("", *Role.values):
        errors["missed_by"] = "Choose who did not turn up, or leave it blank."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        _lock(pair, by)
        meeting.refresh_from_db()
        if meeting.status == Meeting.Status.CANCELLED:
            raise ValidationError(
                "This session was cancelled, so it cannot be marked held or missed.",
                code="cancelled",
            )
        if meeting.starts_at > timezone.now():
            raise ValidationError(
                "This session has not started yet; mark it once it has taken place.",
                code="future",
            )
        meeting.status = status
        # Nobody leads a missed session.
        meeting.led_by = led_by if status == Meeting.Status.HELD else ""
        # Only a missed session has a side that did not turn up.
        meeting.missed_by = missed_by if status == Meeting.Status.MISSED else ""
        meeting.topic = topic
        meeting.save(update_fields=["status", "led_by", "missed_by", "topic", "updated_at"])
        _queue_update(meeting, "marked", by, side)
    return meeting
