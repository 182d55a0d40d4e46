"""What a pair's history says about its chances, as known at the end of one day: the signals
the risk score (risks/score.py) weighs. docs/at-risk.md lists them and says which the model
uses.

Only what was known by the end of day ``on`` (in the programme's time zone) counts: sessions
that had started by then, with their status as logged by then (a session logged or cancelled
later counts as not logged yet, from its ``updated_at``), sessions booked by then, pulses
submitted by then and check-ins answered by then. Only counts, dates and yes/no facts are
read: never what anyone wrote (whether a learning or an action was left empty is worked out
by the database) and never a safety answer.

``signals_for`` reads any number of pairs of one programme in a fixed number of queries (five);
``pair_signals`` is the same for one pair.
"""

import itertools
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Avg, BooleanField, ExpressionWrapper, Q

from pairs.models import Agreement, Meeting, Pair
from programmes.models import Cadence, Programme, Role
from risks.models import CheckIn
from surveys.models import Pulse
from surveys.pulses import REQUEST_DELAY
from surveys.reminders import PULSE_NUDGE_AFTER

# A pair lapses when this many days pass without a held session (DESIGN.md; risks/lapses.py
# works the day out).
LAPSE_DAYS = 30
CADENCE_DAYS: dict[str, int] = {Cadence.WEEKLY: 7, Cadence.FORTNIGHTLY: 14, Cadence.MONTHLY: 30}
# Sessions that did not happen, cancellations and reschedules count within this many days.
WINDOW_DAYS = 42
# Pulses and their contents are looked at over the last this many held sessions.
RECENT_HELD = 3
# A held session's pulse may still be on its way this long after it ends (as the old
# "no pulse" rule's grace period).
PULSE_GRACE = REQUEST_DELAY + PULSE_NUDGE_AFTER + timedelta(days=1)
# A started session nobody has logged this long after its end counts as unlogged (a held
# session is usually marked, or logged by its pulse, within the pulse's grace period).
UNLOGGED_AFTER = PULSE_GRACE


@dataclass(frozen=True)
class Signals:
    """One pair, as known at the end of day ``on``: plain numbers (and the few dates the
    reasons quote). Shares are 0..1; a share with nothing to measure is 0."""

    on: date
    cadence_days: int
    # Days since the last held session (or since the pair started or came back from a pause).
    days_since_held: int
    days_since_held_vs_cadence: float
    last_held: date | None
    # The day the current quiet spell is counted from: the last held session, else the
    # pair's start, or the end of its latest pause when that is later.
    quiet_since: date
    # Started sessions that did not happen within WINDOW_DAYS, and by whom.
    not_happened: int
    not_happened_in_a_row: int
    cancelled_by_exec: int
    cancelled_by_mentor: int
    missed_by_exec: int
    missed_by_mentor: int
    missed_by_unknown: int
    latest_not_happened: date | None
    # Sessions moved to another time (within WINDOW_DAYS), and those moved in their last day.
    rescheduled: int
    rescheduled_late: int
    # 1 when a session is booked from tomorrow to one cadence ahead, else 0.
    next_booked: int
    # Days from tomorrow to the next booked session (any distance ahead); None: none booked.
    days_to_next: int | None
    # Days past one cadence since the last held session (0 while within it).
    overdue_days: int
    # Sessions that ended more than UNLOGGED_AFTER ago and nobody has logged (within
    # WINDOW_DAYS): held or not, nobody says.
    unlogged: int
    # How far ahead the latest RECENT_HELD started sessions were booked, in days (their mean;
    # None before any), and the mean interval between the latest held sessions (None before
    # two).
    booking_notice: float | None
    held_interval: float | None
    # Held sessions within WINDOW_DAYS.
    held_recent: int
    # Sessions booked for after the last held session (or the start of the quiet spell),
    # whatever became of them: 0 when nobody has even booked the next one.
    booked_since_held: int
    # Started sessions still awaiting their log, within UNLOGGED_AFTER of their end.
    awaiting_log: int
    # Over the last RECENT_HELD held sessions whose pulse had time to come.
    settled_held: int
    exec_pulse_share: float
    mentor_pulse_share: float
    silent_sides: int  # sides with no pulse for any of them (0, 1 or 2)
    empty_learning_share: float
    no_action_share: float
    action_not_done_share: float
    teaching_mean: float  # 1..5, 0 when unknown; 4 and up: the executive taught
    # Teaching drift: teaching_mean less the mean of the pulses before those sessions (0 when
    # either is unknown); above 0, the executive teaches more than before.
    teaching_drift: float
    # The executive's confidence trend: the mean of their key-skill ratings in their latest
    # rated pulse less that in their first (0 before two rated pulses).
    exec_confidence_change: float
    # 1 when the latest answered check-in asked for a pause or a re-match.
    checkin_wants_out: int
    checkin_continue: int


@dataclass(frozen=True)
class _Session:
    status: str
    starts_at: datetime
    ends_at: datetime
    cancelled_by: str
    missed_by: str
    sequence: int
    updated_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class _Pulse:
    meeting_id: int
    side: str
    starts_at: datetime
    empty_learning: bool
    no_action: bool
    not_done: bool
    teaching: int | None
    confidence: float | None  # the mean of its key-skill ratings


def end_of(day: date, zone: ZoneInfo) -> datetime:
    """The first moment after ``day`` in ``zone``."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def pair_signals(pair: Pair, *, on: date, as_logged: bool = True) -> Signals:
    return signals_for([pair], on=on, as_logged=as_logged)[pair.pk]


def signals_for(pairs: Iterable[Pair], *, on: date, as_logged: bool = True) -> dict[int, Signals]:
    """The signals of ``pairs`` (of any programmes) as known at the end of ``on``: four
    queries (more when the pairs' programmes are not loaded), however many pairs.

    ``as_logged``: a session booked after ``on`` is left out and one logged, moved or
    cancelled after ``on`` counts as not logged yet (from its ``created_at`` and
    ``updated_at``), for replaying the past. The detection, which scores the present, passes
    False: everything in the database is known now (and tests may set "now" in the past)."""
    pairs = list(pairs)
    if not pairs:
        return {}
    ids = [pair.pk for pair in pairs]
    programmes = {pair.pk: _programme(pair) for pair in pairs}
    latest_end = max(end_of(on, ZoneInfo(p.time_zone)) for p in programmes.values())
    sessions = _sessions(ids, latest_end if as_logged else None)
    pulses = _pulses(pairs, latest_end)
    cadences = _cadences(ids, latest_end if as_logged else None)
    checkins = _checkins(ids, latest_end)
    result = {}
    for pair in pairs:
        programme = programmes[pair.pk]
        zone = ZoneInfo(programme.time_zone)
        cadence = cadences.get(pair.pk) or _programme_cadence(programme)
        result[pair.pk] = _signals(
            pair,
            on=on,
            zone=zone,
            cadence=cadence,
            sessions=sessions[pair.pk],
            pulses=pulses[pair.pk],
            checkin=checkins.get(pair.pk, ""),
            as_logged=as_logged,
        )
    return result


def _programme(pair: Pair) -> Programme:
    return pair.cohort.programme


def _programme_cadence(programme: Programme) -> int:
    """Without an agreement: the cadence the programme's monthly target implies."""
    target = programme.sessions_per_month_target
    return 30 if target <= 1 else 14 if target <= 3 else 7


def _sessions(ids: list[int], until: datetime | None) -> dict[int, list[_Session]]:
    sessions: dict[int, list[_Session]] = defaultdict(list)
    booked = Meeting.objects.filter(pair__in=ids)
    if until is not None:
        booked = booked.filter(created_at__lt=until)
    rows = (
        booked.exclude(status=Meeting.Status.WITHDRAWN)
        .order_by("pair_id", "starts_at", "pk")
        .values_list(
            "pair_id",
            "status",
            "starts_at",
            "duration_minutes",
            "cancelled_by",
            "missed_by",
            "sequence",
            "updated_at",
            "created_at",
        )
    )
    for pair_id, status, starts_at, minutes, by, missed_by, seq, updated, created in rows:
        sessions[pair_id].append(
            _Session(
                status=status,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=minutes),
                cancelled_by=by,
                missed_by=missed_by,
                sequence=seq,
                updated_at=updated,
                created_at=created,
            )
        )
    return sessions


def _pulses(pairs: list[Pair], until: datetime) -> dict[int, list[_Pulse]]:
    mentees = {pair.pk: pair.mentee_id for pair in pairs}
    pulses: dict[int, list[_Pulse]] = defaultdict(list)
    rows = (
        Pulse.objects.filter(meeting__pair__in=list(mentees), submitted_at__lt=until)
        .annotate(
            empty_learning=ExpressionWrapper(Q(learning=""), output_field=BooleanField()),
            no_action=ExpressionWrapper(Q(action=""), output_field=BooleanField()),
            not_done=ExpressionWrapper(
                Q(previous_action_done=Pulse.Done.NO), output_field=BooleanField()
            ),
            confidence_mean=Avg("confidence__value"),
        )
        .order_by("pk")
        .values_list(
            "meeting_id",
            "meeting__pair_id",
            "participant_id",
            "meeting__starts_at",
            "empty_learning",
            "no_action",
            "not_done",
            "teaching",
            "confidence_mean",
        )
    )
    for meeting_id, pair_id, who, starts_at, empty, no_action, not_done, teaching, mean in rows:
        side = Role.MENTEE if who == mentees[pair_id] else Role.REVERSE_MENTOR
        pulses[pair_id].append(
            _Pulse(
                meeting_id=meeting_id,
                side=side,
                starts_at=starts_at,
                empty_learning=bool(empty),
                no_action=bool(no_action),
                not_done=bool(not_done),
                teaching=teaching,
                confidence=float(mean) if mean is not None else None,
            )
        )
    return pulses


def _cadences(ids: list[int], until: datetime | None) -> dict[int, int]:
    """The cadence of each pair's latest agreement both sides had accepted (by ``until``)."""
    cadences: dict[int, int] = {}
    agreed = Agreement.objects.filter(
        pair__in=ids, mentee_accepted_at__isnull=False, mentor_accepted_at__isnull=False
    )
    if until is not None:
        agreed = agreed.filter(mentee_accepted_at__lt=until, mentor_accepted_at__lt=until)
    rows = agreed.order_by("pair_id", "number").values_list("pair_id", "cadence")
    for pair_id, cadence in rows:
        cadences[pair_id] = CADENCE_DAYS.get(cadence, 14)
    return cadences


def _checkins(ids: list[int], until: datetime) -> dict[int, str]:
    """The latest check-in answer of each pair answered by ``until``."""
    answers: dict[int, str] = {}
    rows = (
        CheckIn.objects.filter(pair__in=ids, answered_at__lt=until)
        .exclude(choice="")
        .order_by("pair_id", "answered_at", "pk")
        .values_list("pair_id", "choice")
    )
    for pair_id, choice in rows:
        answers[pair_id] = choice
    return answers


def _status_then(session: _Session, until: datetime, as_logged: bool) -> str:
    """A session's status as logged by ``until``: one changed later was not logged yet."""
    if as_logged and session.updated_at >= until and session.status != Meeting.Status.SCHEDULED:
        return Meeting.Status.SCHEDULED
    return session.status


def _share(count: int, of: int) -> float:
    return count / of if of else 0.0


def _signals(
    pair: Pair,
    *,
    on: date,
    zone: ZoneInfo,
    cadence: int,
    sessions: list[_Session],
    pulses: list[_Pulse],
    checkin: str,
    as_logged: bool,
) -> Signals:
    until = end_of(on, zone)
    since_window = until - timedelta(days=WINDOW_DAYS)
    started = [(s, _status_then(s, until, as_logged)) for s in sessions if s.starts_at < until]
    held = [s for s, status in started if status == Meeting.Status.HELD]
    last_held = held[-1].starts_at.astimezone(zone).date() if held else None
    start = pair.started_on or pair.created_at.astimezone(zone).date()
    since = last_held or start
    if pair.resumed_on and since < pair.resumed_on <= on:
        since = pair.resumed_on
    days = max(0, (on - since).days)
    not_happened = [
        (s, status)
        for s, status in started
        if status in Meeting.NOT_HAPPENED and s.starts_at >= since_window
    ]
    in_a_row = 0
    for _, status in reversed(started):
        if status not in Meeting.NOT_HAPPENED:
            break
        in_a_row += 1

    def count(status: str, attr: str, side: str) -> int:
        return sum(1 for s, st in not_happened if st == status and getattr(s, attr) == side)

    moved = [
        s
        for s, status in started
        if s.sequence > 0 and status != Meeting.Status.CANCELLED and s.starts_at >= since_window
    ]
    following = [
        s
        for s in sessions
        if s.starts_at >= until and _status_then(s, until, as_logged) == Meeting.Status.SCHEDULED
    ]
    upcoming = [s for s in following if s.starts_at < until + timedelta(days=cadence)]
    # Started sessions nobody has logged: awaiting their log within UNLOGGED_AFTER of their
    # end, unlogged after it (within WINDOW_DAYS).
    not_logged = [s for s, status in started if status == Meeting.Status.SCHEDULED]
    awaiting = [s for s in not_logged if until < s.ends_at + UNLOGGED_AFTER]
    unlogged = [
        s for s in not_logged if s.ends_at + UNLOGGED_AFTER <= until and s.starts_at >= since_window
    ]
    quiet_from = (
        held[-1].starts_at
        if held and since == last_held
        else datetime.combine(since, time.min, tzinfo=zone)
    )
    booked_since = [s for s in sessions if s.starts_at > quiet_from]
    # A session logged after the fact (booked once it had started) had no notice at all.
    notices = [max(0.0, (s.starts_at - s.created_at).total_seconds() / 86400) for s, _ in started]
    held_days = [s.starts_at.astimezone(zone).date() for s in held[-RECENT_HELD:]]
    intervals = [(b - a).days for a, b in itertools.pairwise(held_days)]
    settled = [s for s in held if s.ends_at + PULSE_GRACE <= until][-RECENT_HELD:]
    settled_starts = {s.starts_at for s in settled}
    recent = [p for p in pulses if p.starts_at in settled_starts]
    exec_n = len({p.starts_at for p in recent if p.side == Role.MENTEE})
    mentor_n = len({p.starts_at for p in recent if p.side == Role.REVERSE_MENTOR})
    teaching = [p.teaching for p in recent if p.teaching]
    first_settled = settled[0].starts_at if settled else until
    earlier = [p.teaching for p in pulses if p.teaching and p.starts_at < first_settled]
    by_session = sorted(pulses, key=lambda p: p.starts_at)
    rated = [p.confidence for p in by_session if p.side == Role.MENTEE and p.confidence is not None]
    return Signals(
        on=on,
        cadence_days=cadence,
        days_since_held=days,
        days_since_held_vs_cadence=round(days / cadence, 3),
        last_held=last_held,
        quiet_since=since,
        not_happened=len(not_happened),
        not_happened_in_a_row=in_a_row,
        cancelled_by_exec=count(Meeting.Status.CANCELLED, "cancelled_by", Role.MENTEE),
        cancelled_by_mentor=count(Meeting.Status.CANCELLED, "cancelled_by", Role.REVERSE_MENTOR),
        missed_by_exec=count(Meeting.Status.MISSED, "missed_by", Role.MENTEE),
        missed_by_mentor=count(Meeting.Status.MISSED, "missed_by", Role.REVERSE_MENTOR),
        missed_by_unknown=count(Meeting.Status.MISSED, "missed_by", ""),
        latest_not_happened=(
            not_happened[-1][0].starts_at.astimezone(zone).date() if not_happened else None
        ),
        rescheduled=len(moved),
        # A session moved within its last day: its last change came less than a day before
        # its start (an approximation: the history of each move is not kept).
        rescheduled_late=sum(1 for s in moved if s.starts_at - s.updated_at < timedelta(days=1)),
        next_booked=1 if upcoming else 0,
        days_to_next=(following[0].starts_at.astimezone(zone).date() - on).days - 1
        if following
        else None,
        overdue_days=max(0, days - cadence),
        unlogged=len(unlogged),
        booking_notice=round(statistics.fmean(notices[-RECENT_HELD:]), 2) if notices else None,
        held_interval=round(statistics.fmean(intervals), 2) if intervals else None,
        held_recent=sum(1 for s in held if s.starts_at >= since_window),
        booked_since_held=len(booked_since),
        awaiting_log=len(awaiting),
        settled_held=len(settled),
        exec_pulse_share=round(_share(exec_n, len(settled)), 3),
        mentor_pulse_share=round(_share(mentor_n, len(settled)), 3),
        silent_sides=(
            int(bool(settled) and exec_n == 0) + int(bool(settled) and mentor_n == 0)
            if len(settled) >= 2
            else 0
        ),
        empty_learning_share=round(_share(sum(p.empty_learning for p in recent), len(recent)), 3),
        no_action_share=round(_share(sum(p.no_action for p in recent), len(recent)), 3),
        action_not_done_share=round(_share(sum(p.not_done for p in recent), len(recent)), 3),
        teaching_mean=round(sum(teaching) / len(teaching), 3) if teaching else 0.0,
        teaching_drift=(
            round(statistics.fmean(teaching) - statistics.fmean(earlier), 3)
            if teaching and earlier
            else 0.0
        ),
        exec_confidence_change=round(rated[-1] - rated[0], 3) if len(rated) >= 2 else 0.0,
        checkin_wants_out=int(checkin in (CheckIn.Choice.PAUSE, CheckIn.Choice.REMATCH)),
        checkin_continue=int(checkin == CheckIn.Choice.CONTINUE),
    )
