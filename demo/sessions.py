"""Three months of sessions for the running wave and the finished pilot: an agreed kickoff
agreement per pair, sessions about every two weeks, a few notes, and some pairs in trouble so
KPIs and at-risk flags have something real to show:

- one pair whose executive cancelled the last two sessions;
- one pair with no held session for more than five weeks;
- one pair paused for a few weeks.

Healthy pairs never have two sessions in a row that did not happen, and everything in their
last month was held, so they raise no flag by accident."""

import uuid
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import cast

from django.db.models import Case, F, Value, When
from django.db.models.functions import Least
from django.utils import timezone

from demo.context import DemoContext
from pairs.models import Agreement, Meeting, Note, Pair
from programmes.models import Cadence, Role, Topic

EXEC_REASONS = [
    "Board meeting ran over",
    "Called into a customer escalation",
    "Travelling to the Rotterdam depot, no signal",
    "Budget review moved to this slot",
]
MENTOR_REASONS = [
    "Sprint deadline, can we move it?",
    "Off sick today",
    "Covering the warehouse shift",
]
MENTEE_NOTES = [
    "Our intranet search is why people ask each other instead.",
    "Try replying in the team channel instead of e-mail for a week.",
    "Younger customers expect tracking updates without asking.",
    "I interrupt more than I realised in video calls.",
    "Ask the team which AI tools they already use before writing a policy.",
    "Flexible hours matter more to them than working from home.",
]
MENTOR_NOTES = [
    "Showed the shared-inbox workaround; they had never seen it.",
    "They asked good questions about how onboarding felt.",
    "Next time bring real examples from our customer reviews.",
    "Felt easier to disagree this time.",
    "Agreed to look at the careers page together next session.",
]


def _slot(rng, day: date) -> datetime:
    """A working-hours start (UTC) on a weekday, on or after the given day."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(rng.choice([8, 9, 10, 13, 14, 15]), rng.choice([0, 30])), UTC)


def _meeting(rng, pair: Pair, starts_at: datetime, **fields) -> Meeting:
    return Meeting(
        pair=pair,
        starts_at=starts_at,
        duration_minutes=rng.choice([45, 45, 60]),
        scheduled_by=Role.REVERSE_MENTOR if rng.random() < 0.8 else Role.MENTEE,
        uid=uuid.uuid4(),
        **fields,
    )


def _held(rng, pair: Pair, starts_at: datetime, topic: Topic) -> Meeting:
    led_by = Role.REVERSE_MENTOR if rng.random() < 0.8 else Role.MENTEE
    return _meeting(rng, pair, starts_at, status=Meeting.Status.HELD, topic=topic, led_by=led_by)


def _not_held(rng, pair: Pair, starts_at: datetime, topic: Topic, by: str = "") -> Meeting:
    if by == "missed":
        return _meeting(rng, pair, starts_at, status=Meeting.Status.MISSED, topic=topic)
    by = by or (Role.MENTEE if rng.random() < 0.7 else Role.REVERSE_MENTOR)
    reasons = EXEC_REASONS if by == Role.MENTEE else MENTOR_REASONS
    return _meeting(
        rng,
        pair,
        starts_at,
        status=Meeting.Status.CANCELLED,
        topic=topic,
        cancelled_by=by,
        cancel_reason=rng.choice(reasons),
    )


def _history(
    ctx: DemoContext, pair: Pair, topics: list[Topic], *, until: date, calm_after: date
) -> list[Meeting]:
    """Sessions about every two weeks from the pair's start up to (not including) `until`.
    Mostly held; a session that did not happen is never followed by another, and none fall
    on or after `calm_after`."""
    rng = ctx.rng
    meetings: list[Meeting] = []
    day = cast(date, pair.started_on) + timedelta(days=rng.randint(2, 6))
    topic_index = 0
    while day < until:
        starts_at = _slot(rng, day)
        if starts_at.date() >= until:
            break
        topic = topics[min(topic_index, len(topics) - 1)]
        previous_held = not meetings or meetings[-1].status == Meeting.Status.HELD
        if previous_held and starts_at.date() < calm_after and rng.random() < 0.2:
            meetings.append(
                _not_held(rng, pair, starts_at, topic, by="missed" if rng.random() < 0.3 else "")
            )
        else:
            meetings.append(_held(rng, pair, starts_at, topic))
            topic_index += 1
        day = starts_at.date() + timedelta(days=rng.randint(12, 16))
    return meetings


def _upcoming(ctx: DemoContext, pair: Pair, topic: Topic) -> list[Meeting]:
    rng = ctx.rng
    first = _slot(rng, ctx.today + timedelta(days=rng.randint(1, 7)))
    meetings = [_meeting(rng, pair, first, topic=topic)]
    if rng.random() < 0.5:
        meetings.append(_meeting(rng, pair, _slot(rng, first.date() + timedelta(days=14))))
    return meetings


def _next_topic(meetings: list[Meeting], topics: list[Topic]) -> Topic:
    held = sum(m.status == Meeting.Status.HELD for m in meetings)
    return topics[min(held, len(topics) - 1)]


def _notes(ctx: DemoContext, pair: Pair, meetings: list[Meeting]) -> list[Note]:
    rng = ctx.rng
    notes = []
    for meeting in meetings:
        if meeting.status != Meeting.Status.HELD or rng.random() > 0.45:
            continue
        by_mentee = rng.random() < 0.5
        note = Note(
            pair=pair,
            meeting=meeting,
            author=pair.mentee if by_mentee else pair.reverse_mentor,
            text=rng.choice(MENTEE_NOTES if by_mentee else MENTOR_NOTES),
            shared=rng.random() < 0.35,
        )
        # Logged a while after the session; bulk_create stamps it now, build() puts it back.
        note.created_at = meeting.ends_at + timedelta(minutes=rng.randint(5, 240))
        notes.append(note)
    return notes


def _dated_as_booked_and_logged(pairs: list[Pair], *, now: datetime) -> None:
    """Each session as if booked ten days ahead, cancelled the day before, and logged three
    hours after it began (never later than now): the risk backtest replays what was known on
    each day, from these times."""
    booked = Least(F("starts_at") - timedelta(days=10), Value(now))
    Meeting.objects.filter(pair__in=pairs).update(
        created_at=booked,
        updated_at=Case(
            When(status=Meeting.Status.SCHEDULED, then=booked),
            When(
                status=Meeting.Status.CANCELLED,
                then=Least(F("starts_at") - timedelta(days=1), Value(now)),
            ),
            default=Least(F("starts_at") + timedelta(hours=3), Value(now)),
        ),
    )


def build(ctx: DemoContext) -> None:
    rng = ctx.rng
    topics = list(ctx.programme.topics.order_by("position"))
    today = ctx.today
    pilot = list(Pair.objects.filter(cohort=ctx.cohorts["pilot"]).order_by("pk"))
    wave = list(
        Pair.objects.filter(cohort=ctx.cohorts["wave2"], status=Pair.Status.ACTIVE).order_by("pk")
    )
    # The first three pairs of the running wave are the troubled ones.
    cancelled_by_exec, gone_quiet, paused = wave[:3]

    meetings: list[Meeting] = []
    notes: list[Note] = []
    agreements: list[Agreement] = []
    for pair in pilot + wave:
        accepted = datetime.combine(
            cast(date, pair.started_on) + timedelta(days=rng.randint(3, 8)), time(17), UTC
        )
        agreements.append(
            Agreement(
                pair=pair,
                number=1,
                proposed_by=Role.REVERSE_MENTOR,
                mentor_accepted_at=accepted - timedelta(hours=rng.randint(2, 30)),
                mentee_accepted_at=accepted,
                cadence=Cadence.FORTNIGHTLY,
            )
        )
        if pair in pilot:
            ended_on = cast(date, pair.ended_on)  # the pilot is over
            history = _history(ctx, pair, topics, until=ended_on, calm_after=ended_on)
        elif pair == cancelled_by_exec:
            history = _history(
                ctx, pair, topics, until=today - timedelta(days=30), calm_after=today
            )
            topic = _next_topic(history, topics)
            for days_ago in (24, 10):
                history.append(
                    _not_held(
                        rng,
                        pair,
                        _slot(rng, today - timedelta(days=days_ago)),
                        topic,
                        by=Role.MENTEE,
                    )
                )
        elif pair == gone_quiet:
            history = _history(
                ctx, pair, topics, until=today - timedelta(days=38), calm_after=today
            )
        elif pair == paused:
            history = _history(
                ctx, pair, topics, until=today - timedelta(days=10), calm_after=today
            )
        else:
            history = _history(
                ctx, pair, topics, until=today, calm_after=today - timedelta(days=30)
            )
            history += _upcoming(ctx, pair, _next_topic(history, topics))
        meetings += history
        notes += _notes(ctx, pair, history)

    Pair.objects.filter(pk=paused.pk).update(
        status=Pair.Status.PAUSED, paused_until=today + timedelta(days=24)
    )
    created = Agreement.objects.bulk_create(agreements)
    # proposed_at is filled in on creation; the demo's agreements were made weeks ago.
    for agreement in created:
        agreement.proposed_at = cast(datetime, agreement.mentor_accepted_at)
    Agreement.objects.bulk_update(created, ["proposed_at"])
    Meeting.objects.bulk_create(meetings)
    _dated_as_booked_and_logged(pilot + wave, now=timezone.now())
    logged_at = [note.created_at for note in notes]
    Note.objects.bulk_create(notes)
    for note, at in zip(notes, logged_at, strict=True):
        note.created_at = at
    Note.objects.bulk_update(notes, ["created_at"])

    statuses = Counter(m.status for m in meetings)
    by_exec = sum(m.cancelled_by == Role.MENTEE for m in meetings)
    ctx.summary.append(
        f"Sessions: {statuses[Meeting.Status.HELD]} held, "
        f"{statuses[Meeting.Status.CANCELLED]} cancelled ({by_exec} by executives), "
        f"{statuses[Meeting.Status.MISSED]} missed, {statuses[Meeting.Status.SCHEDULED]} "
        f"coming up; {len(notes)} notes; 2 pairs drifting, 1 paused"
    )
