"""A seeded cohort simulator: pairs of a few kinds (archetypes) live a cohort day by day
through the product's own services, and the simulator keeps the ground truth of each pair
(its archetype, the days it held a session, its pauses, and so the day it lapsed, if it did).

It lives in bench/, not in the product: it needs time-machine (a development dependency) to
move the clock the services read, it writes throw-away programmes, and nothing in the product
runs it. bench/early_warning.py runs it for several seeds; tests/bench/test_cohort_sim.py
checks its ground truth and that it drives the real services.

What it drives (each call at its own simulated moment, ``timezone.now()`` moved there):

- the kickoff agreement (``agreement_start`` / ``agreement_propose`` and ``agreement_accept``
  by both sides) before anything else;
- sessions: ``meeting_schedule`` by the agreement's driver (the reverse-mentor),
  ``meeting_reschedule`` and ``meeting_cancel`` by the side that moves or cancels,
  ``meeting_mark`` held or missed by one side;
- pulses: ``pulse_situation`` + ``pulse_submit`` by each side that answers, which also logs a
  session nobody marked;
- check-ins: ``checkins_due`` every morning, ``checkin_answer`` by the participants who
  answer, and ``pairs_resume_due`` every morning (a pause asked in a check-in lasts 30 days).

Assumptions (numbers drawn per pair from ``random.Random(seed)``; see ARCHETYPES and Traits):

- Shares: healthy 50%, busy executive 17%, drifting 15%, safety problem 5%, reversion 5%,
  poor fit 4%, sudden stop 4%. 85% of pairs agree a fortnightly cadence, 15% weekly.
- Healthy: about 88-93% of sessions held, the rest cancelled by either side (some on the
  day), missed, or moved a few days (mostly well ahead); after a session that did not happen
  they book a make-up session within a week 70% of the time. The next session is for one
  cadence after the last (give or take two days), booked on the day of the last one, or
  (10-50% of the time, per pair) only 3 days to a cadence before it. Each person answers
  60-98% of pulses; answers carry ordinary noise (a 3 for safety 5% of the time, an
  executive-taught session 3% of the time, an empty action 25%).
- Busy executive: the executive cancels a quarter of the sessions and moves another fifth,
  mostly the day before; make-ups 80% of the time; the executive answers half the pulses;
  asked in a check-in, 30% take a month's pause. They recover; 20% of them drift as well.
- Drifting: healthy until a day between 15 and 75, then the sessions thin out (booked late,
  a cadence plus 3-14 days on, and only a few days ahead), more cancellations and misses,
  few make-ups, one side (the executive 70% of the time) stops answering pulses and the
  other answers less, with more "nothing new" learning and fewer actions; 10-35 days later
  they stop altogether: the session booked then is cancelled, missed or never logged, and
  nothing more is booked. A check-in is mostly left unanswered.
- Safety problem: like healthy, but one side (the reverse-mentor 80% of the time) gives a
  safety answer of 1 or 2 from its second to fifth session; 30% drift as well.
- Reversion: like healthy, but 70% of pulses say the executive did most of the teaching.
- Poor fit: one side answers "not a good fit" after the first session; half of them drift
  from early on.
- Sudden stop: healthy until a day between 20 and 90, then nothing more (someone left the
  organisation): no warning sign before it, on purpose.

The ground truth: a pair *lapses* on the first day on which 30 days have passed without a
held session (counted from its start day, or its latest held session), not counting the days
it was paused (``lapse_day``); a held session is one that took place, whether or not anybody
logged it. Days are the programme's (Europe/London); day 0 is the cohort's first day.
"""

import dataclasses
import heapq
import inspect
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from pairs import meetings as meeting_services
from pairs import services as pair_services
from pairs.models import Meeting, Pair
from programmes.models import Cadence, Cohort, KeySkill, Participant, Person, Programme, Role
from risks.checkins import checkin_answer, checkins_due, pairs_resume_due
from risks.models import CheckIn
from surveys.models import Pulse
from surveys.pulses import Answers, pulse_situation, pulse_submit

ZONE = "Europe/London"
LAPSE_DAYS = 30
HEALTHY, BUSY, DRIFTING = "healthy", "busy executive", "drifting"
SAFETY, REVERSION, POOR_FIT, SUDDEN = "safety problem", "reversion", "poor fit", "sudden stop"
ARCHETYPES: dict[str, float] = {
    HEALTHY: 0.50,
    BUSY: 0.17,
    DRIFTING: 0.15,
    SAFETY: 0.05,
    REVERSION: 0.05,
    POOR_FIT: 0.04,
    SUDDEN: 0.04,
}
# Pairs with one of these problems are never "healthy", lapse or not.
PROBLEMS = frozenset({SAFETY, REVERSION, POOR_FIT})
MENTEE, MENTOR = Role.MENTEE, Role.REVERSE_MENTOR
# Whether marking a session missed can say who did not turn up (issue 19 asks for it).
MARK_TAKES_MISSED_BY = "missed_by" in inspect.signature(meeting_services.meeting_mark).parameters


def lapse_day(
    held_days: list[int], pauses: list[tuple[int, int]], *, days: int, lapse_after: int = LAPSE_DAYS
) -> int | None:
    """The first day (0 = the pair's first day) on which ``lapse_after`` days have passed
    without a held session, not counting paused days; None if that never happens before
    ``days``. ``pauses``: (first paused day, first day active again)."""
    held = set(held_days)
    paused = {day for start, end in pauses for day in range(start, end)}
    quiet = 0
    for day in range(days):
        if day in held:
            quiet = 0
            continue
        if day > 0 and day not in paused:
            quiet += 1
        if quiet >= lapse_after:
            return day
    return None


@dataclass
class Traits:
    """How one pair behaves: the probabilities its sessions, pulses and answers are drawn
    from, and the days its trouble starts."""

    archetype: str
    cadence: int
    held: float  # the rest split between cancelled (by whom: exec_cancels), missed, moved
    moved: float
    exec_cancels: float  # share of cancellations that are the executive's
    late_moves: float  # share of moves and cancellations made on the day or the day before
    makeup: float
    books_later: float  # chance the next session is booked days later, not on the day
    pulse: dict[str, float]
    drift_from: int | None = None
    stop_at: int | None = None
    silent: str = MENTEE
    low_safety: tuple[str, int] | None = None  # (side, held-session number)
    unfit: str = ""
    reverts: float = 0.03
    pauses: float = 0.0


def _traits(rng: random.Random, archetype: str) -> Traits:
    cadence = 7 if rng.random() < 0.15 else 14
    traits = Traits(
        archetype=archetype,
        cadence=cadence,
        held=rng.uniform(0.86, 0.93),
        moved=rng.uniform(0.03, 0.08),
        exec_cancels=0.6,
        late_moves=0.25,
        makeup=0.7,
        books_later=rng.uniform(0.1, 0.5),
        pulse={MENTEE: rng.uniform(0.6, 0.98), MENTOR: rng.uniform(0.7, 0.98)},
        silent=MENTEE if rng.random() < 0.7 else MENTOR,
    )
    drifts = {DRIFTING: 1.0, BUSY: 0.2, SAFETY: 0.3, POOR_FIT: 0.5}.get(archetype, 0.0)
    if archetype == BUSY:
        traits.held, traits.moved, traits.exec_cancels = rng.uniform(0.55, 0.7), 0.2, 0.9
        traits.late_moves, traits.makeup, traits.pauses = 0.7, 0.8, 0.3
        traits.pulse[MENTEE] = rng.uniform(0.3, 0.7)
    if archetype == SAFETY:
        side = MENTOR if rng.random() < 0.8 else MENTEE
        traits.low_safety = (side, rng.randint(2, 5))
    if archetype == REVERSION:
        traits.reverts = 0.7
    if archetype == POOR_FIT:
        traits.unfit = MENTEE if rng.random() < 0.5 else MENTOR
    if rng.random() < drifts:
        first = 5 if archetype == POOR_FIT else 15
        traits.drift_from = rng.randint(first, 75)
        traits.stop_at = traits.drift_from + rng.randint(10, 35)
    if archetype == SUDDEN:
        traits.stop_at = traits.drift_from = rng.randint(20, 90)
    return traits


@dataclass
class PairTruth:
    """What really happened to one simulated pair."""

    pair_id: int
    archetype: str
    cadence: int
    held_days: list[int] = field(default_factory=list)
    # Days of sessions cancelled or missed (not those called off by a pause).
    not_happened_days: list[int] = field(default_factory=list)
    pauses: list[tuple[int, int]] = field(default_factory=list)
    lapse_day: int | None = None

    @property
    def healthy(self) -> bool:
        """No lapse and no safety, reversion or fit problem."""
        return self.lapse_day is None and self.archetype not in PROBLEMS


@dataclass
class SimResult:
    programme_id: int
    tag: str  # in its people's e-mail addresses: {role}-{number}-{tag}@sim.example
    start: date
    days: int
    truths: dict[int, PairTruth]  # by pair id
    refused: int  # service calls refused (a ValidationError): should stay near 0


@dataclass
class _State:
    pair_id: int
    mentee_id: int
    mentor_id: int
    traits: Traits
    truth: PairTruth
    held_count: int = 0
    paused_until: int | None = None
    # The booking chain: a pause starts a new one, and events of the old one do nothing.
    chain: int = 0
    booked: set[int] = field(default_factory=set)  # ids of sessions still to be decided


DayHook = Callable[[int, date], None]


class CohortSimulation:
    """One cohort of ``pairs`` pairs over ``days`` days from ``start``, seeded. ``run`` calls
    ``on_day(day, date)`` at 23:30 of each day, once that day's events have happened, with
    the clock there (the place to evaluate what was known that day)."""

    def __init__(
        self,
        *,
        seed: int,
        pairs: int,
        days: int,
        start: date = date(2026, 1, 5),
        archetypes: list[str] | None = None,
    ) -> None:
        self.rng = random.Random(seed)  # noqa: S311 (a simulation, not a secret)
        self.seed, self.size, self.days, self.start = seed, pairs, days, start
        self.zone = ZoneInfo(ZONE)
        self.tag = uuid4().hex[:8]
        # Fixed archetypes (for tests), else drawn with ARCHETYPES' shares.
        self.archetypes = archetypes or self.rng.choices(
            list(ARCHETYPES), weights=list(ARCHETYPES.values()), k=pairs
        )
        self.events: list[tuple[datetime, int, Callable[[], None]]] = []
        self.counter = itertools.count()
        self.states: dict[int, _State] = {}
        self.refused = 0
        self.coordinates: time_machine.Coordinates | None = None
        self.programme: Programme | None = None

    # --- Time -----------------------------------------------------------------------------

    def moment(self, day: int, hour: int = 0, minute: int = 0) -> datetime:
        return datetime.combine(self.start + timedelta(days=day), time(hour, minute), self.zone)

    def day_of(self, moment: datetime) -> int:
        return (moment.astimezone(self.zone).date() - self.start).days

    def _move_to(self, moment: datetime) -> None:
        if self.coordinates is None:
            raise RuntimeError("the clock moves only while the simulation runs")
        self.coordinates.move_to(moment)

    def at(self, moment: datetime, action: Callable[[], None]) -> None:
        heapq.heappush(self.events, (moment, next(self.counter), action))

    def _call(self, service: Callable[[], object]) -> object | None:
        try:
            return service()
        except ValidationError:
            self.refused += 1
            return None

    # --- Running --------------------------------------------------------------------------

    def run(self, on_day: DayHook | None = None) -> SimResult:
        traveller = time_machine.travel(self.moment(0, 6), tick=False)
        self.coordinates = traveller.start()
        try:
            self._set_up()
            for day in range(self.days):
                self._morning(day)
                end = self.moment(day, 23, 30)
                while self.events and self.events[0][0] <= end:
                    moment, _, action = heapq.heappop(self.events)
                    self._move_to(moment)
                    action()
                self._move_to(end)
                if on_day is not None:
                    on_day(day, self.start + timedelta(days=day))
        finally:
            traveller.stop()
        for state in self.states.values():
            truth = state.truth
            truth.lapse_day = lapse_day(truth.held_days, truth.pauses, days=self.days)
        if self.programme is None:
            raise RuntimeError("the simulation set up no programme")
        return SimResult(
            programme_id=self.programme.pk,
            tag=self.tag,
            start=self.start,
            days=self.days,
            truths={state.pair_id: state.truth for state in self.states.values()},
            refused=self.refused,
        )

    def _set_up(self) -> None:
        name = f"Simulated cohort {self.seed} {self.tag}"
        self.programme = Programme.objects.create(
            name=name,
            slug=f"sim-{self.seed}-{self.tag}",
            purpose="A simulated programme (bench/early_warning.py).",
            status=Programme.Status.RUNNING,
            time_zone=ZONE,
        )
        for position in range(2):
            KeySkill.objects.create(
                programme=self.programme, name=f"Skill {position}", position=position
            )
        cohort = Cohort.objects.create(
            programme=self.programme,
            name=name,
            starts_on=self.start,
            ends_on=self.start + timedelta(days=self.days),
            status=Cohort.Status.RUNNING,
        )
        for number, archetype in enumerate(self.archetypes):
            self._pair(cohort, number, _traits(self.rng, archetype))

    def _pair(self, cohort: Cohort, number: int, traits: Traits) -> None:
        people = [
            Person.objects.create(
                full_name=f"{role.label.split()[0]} {number}",
                email=f"{role.value}-{number}-{self.tag}@sim.example",
                time_zone=ZONE,
            )
            for role in (MENTEE, MENTOR)
        ]
        mentee, mentor = (
            Participant.objects.create(
                cohort=cohort, person=person, role=role, status=Participant.Status.MATCHED
            )
            for person, role in zip(people, (MENTEE, MENTOR), strict=True)
        )
        pair = Pair.objects.create(
            cohort=cohort,
            mentee=mentee,
            reverse_mentor=mentor,
            status=Pair.Status.ACTIVE,
            started_on=self.start,
        )
        if traits.cadence == 14:
            agreement = pair_services.agreement_start(pair=pair)
            for side in (mentee, mentor):
                pair_services.agreement_accept(pair=pair, by=side, agreement_id=agreement.pk)
        else:
            agreement = pair_services.agreement_propose(
                pair=pair,
                by=mentor,
                driver=MENTOR,
                cadence=Cadence.WEEKLY,
                meeting_mode="video",
                cancellation="A day ahead.",
                pledge=True,
            )
            pair_services.agreement_accept(pair=pair, by=mentee, agreement_id=agreement.pk)
        truth = PairTruth(pair_id=pair.pk, archetype=traits.archetype, cadence=traits.cadence)
        state = _State(pair.pk, mentee.pk, mentor.pk, traits, truth)
        self.states[pair.pk] = state
        # The first session, booked in the first few days, for a day within the first
        # fortnight (a weekly pair's within its first week or so).
        first = self.rng.randint(3, 10) - traits.cadence
        self.at(self.moment(self.rng.randint(0, 2), 9), lambda: self._book(state, first, 0))

    def _morning(self, day: int) -> None:
        """Beat's morning work: pauses that are over end, check-ins that are due are asked."""
        self._move_to(self.moment(day, 6))
        pairs_resume_due()
        self._move_to(self.moment(day, 7))
        checkins_due()
        asked = CheckIn.objects.filter(
            pair__cohort__programme=self.programme,
            answered_at=None,
            asked_at__gte=self.moment(day, 7),
        ).values_list("pk", "pair_id", "participant_id")
        for checkin_id, pair_id, participant_id in asked:
            self._plan_checkin(self.states[pair_id], checkin_id, participant_id, day)

    # --- Phases ---------------------------------------------------------------------------

    def phase(self, state: _State, day: int) -> str:
        traits = state.traits
        if traits.stop_at is not None and day >= traits.stop_at:
            return "stopped"
        if traits.drift_from is not None and day >= traits.drift_from:
            return "drift"
        return "normal"

    def _pair_now(self, state: _State) -> Pair:
        return Pair.objects.select_related(
            "cohort__programme", "mentee__person", "reverse_mentor__person"
        ).get(pk=state.pair_id)

    def _side(self, pair: Pair, side: str) -> Participant:
        return pair.mentee if side == MENTEE else pair.reverse_mentor

    # --- Sessions -------------------------------------------------------------------------

    def _book(self, state: _State, after_day: int, chain: int) -> None:
        """The driver books the next session: one cadence after ``after_day`` (the last
        session's day) as a rule, later and at short notice once the pair drifts."""
        now_day = self.day_of(self._now())
        phase = self.phase(state, now_day)
        if phase == "stopped" or chain != state.chain:
            return
        if state.paused_until is not None and now_day < state.paused_until:
            return  # the pause's own chain books after it
        rng, cadence = self.rng, state.traits.cadence
        target = after_day + cadence + rng.randint(-2, 2)
        notice = None
        if phase == "drift":
            target += rng.randint(3, 14)
            notice = rng.randint(1, 4)
        elif rng.random() < state.traits.books_later:
            notice = rng.randint(3, cadence)
        if notice is not None and target - notice > now_day:
            # Not booked yet: the booking comes only ``notice`` days ahead.
            when = target - notice
            self.at(self.moment(when, 8), lambda: self._book_on(state, target, chain))
            return
        self._book_on(state, max(target, now_day + 1), chain)

    def _book_on(self, state: _State, day: int, chain: int) -> None:
        now_day = self.day_of(self._now())
        if self.phase(state, now_day) == "stopped" or chain != state.chain:
            return
        if state.paused_until is not None and now_day < state.paused_until:
            return
        pair = self._pair_now(state)
        starts_at = self.moment(day, self.rng.randint(9, 16))
        meeting = self._call(
            lambda: meeting_services.meeting_schedule(
                pair=pair,
                by=pair.reverse_mentor,
                starts_at=starts_at,
                duration_minutes=45,
                topic=None,
            )
        )
        if isinstance(meeting, Meeting):
            self._plan(state, meeting.pk, movable=True)

    def _now(self) -> datetime:
        return timezone.now()

    def _fate(self, state: _State, day: int, movable: bool) -> str:
        traits, rng = state.traits, self.rng
        phase = self.phase(state, day)
        if phase == "stopped":
            return rng.choices(["cancelled", "missed", "unlogged"], [0.4, 0.3, 0.3])[0]
        held = traits.held if phase == "normal" else traits.held - 0.3
        moved = traits.moved if movable else 0.0
        draw = rng.random()
        if draw < held:
            return "held"
        if draw < held + moved:
            return "moved"
        return "cancelled" if rng.random() < 0.7 else "missed"

    def _plan(self, state: _State, meeting_id: int, *, movable: bool) -> None:
        meeting = Meeting.objects.get(pk=meeting_id)
        day = self.day_of(meeting.starts_at)
        fate = self._fate(state, day, movable)
        state.booked.add(meeting_id)
        rng, traits = self.rng, state.traits
        notice = rng.randint(0, 1) if rng.random() < traits.late_moves else rng.randint(2, 6)
        ahead = max(meeting.starts_at - timedelta(days=notice), self._now() + timedelta(hours=1))
        if fate == "moved":
            self.at(ahead, lambda: self._move(state, meeting_id))
        elif fate == "cancelled":
            side = MENTEE if rng.random() < traits.exec_cancels else MENTOR
            if self.phase(state, day) != "normal":
                side = traits.silent
            self.at(ahead, lambda: self._cancel(state, meeting_id, side))
        elif fate == "missed":
            self.at(meeting.ends_at + timedelta(hours=1), lambda: self._missed(state, meeting_id))
        elif fate == "held":
            self.at(meeting.ends_at, lambda: self._held(state, meeting_id))
        else:  # unlogged: it did not happen, and nobody says so
            state.booked.discard(meeting_id)

    def _move(self, state: _State, meeting_id: int) -> None:
        meeting = Meeting.objects.get(pk=meeting_id)
        if meeting.status != Meeting.Status.SCHEDULED:
            return
        pair = self._pair_now(state)
        side = MENTEE if self.rng.random() < state.traits.exec_cancels else MENTOR
        starts_at = meeting.starts_at + timedelta(days=self.rng.randint(1, 7))
        moved = self._call(
            lambda: meeting_services.meeting_reschedule(
                meeting=meeting,
                by=self._side(pair, side),
                starts_at=starts_at,
                duration_minutes=meeting.duration_minutes,
                topic=None,
            )
        )
        if moved is not None:
            self._plan(state, meeting_id, movable=False)

    def _cancel(self, state: _State, meeting_id: int, side: str) -> None:
        meeting = Meeting.objects.get(pk=meeting_id)
        state.booked.discard(meeting_id)
        if meeting.status != Meeting.Status.SCHEDULED:
            return
        pair = self._pair_now(state)
        self._call(
            lambda: meeting_services.meeting_cancel(meeting=meeting, by=self._side(pair, side))
        )
        state.truth.not_happened_days.append(self.day_of(meeting.starts_at))
        self._after_not_held(state, meeting)

    def _missed(self, state: _State, meeting_id: int) -> None:
        """One side did not turn up; the other logs it (and may say so in a pulse)."""
        meeting = Meeting.objects.get(pk=meeting_id)
        state.booked.discard(meeting_id)
        if meeting.status != Meeting.Status.SCHEDULED:
            return
        pair = self._pair_now(state)
        state.truth.not_happened_days.append(self.day_of(meeting.starts_at))
        absent = (
            state.traits.silent if self.rng.random() < 0.7 else self.rng.choice([MENTEE, MENTOR])
        )
        present = MENTOR if absent == MENTEE else MENTEE
        absent_side = {"missed_by": absent} if MARK_TAKES_MISSED_BY else {}
        self._call(
            lambda: meeting_services.meeting_mark(
                meeting=meeting,
                by=self._side(pair, present),
                status="missed",
                led_by="",
                topic=None,
                **absent_side,
            )
        )
        if self.rng.random() < 0.5:
            later = self._now() + timedelta(hours=self.rng.randint(1, 48))
            self.at(later, lambda: self._pulse(state, meeting_id, present, held=False))
        self._after_not_held(state, meeting)

    def _after_not_held(self, state: _State, meeting: Meeting) -> None:
        chain = state.chain
        day = self.day_of(meeting.starts_at)
        now_day = self.day_of(self._now())
        makeup = state.traits.makeup if self.phase(state, now_day) == "normal" else 0.2
        if self.rng.random() < makeup:
            target = max(day, now_day) + self.rng.randint(2, 7)
            self.at(self._now() + timedelta(hours=2), lambda: self._book_on(state, target, chain))
        else:
            self.at(self._now() + timedelta(hours=2), lambda: self._book(state, day, chain))

    def _held(self, state: _State, meeting_id: int) -> None:
        meeting = Meeting.objects.get(pk=meeting_id)
        state.booked.discard(meeting_id)
        if meeting.status != Meeting.Status.SCHEDULED:
            return  # called off since (a pause)
        day = self.day_of(meeting.starts_at)
        state.truth.held_days.append(day)
        state.held_count += 1
        rng = self.rng
        if rng.random() < 0.7:
            pair = self._pair_now(state)
            self._call(
                lambda: meeting_services.meeting_mark(
                    meeting=meeting,
                    by=pair.reverse_mentor,
                    status="held",
                    led_by=MENTOR,
                    topic=None,
                )
            )
        phase = self.phase(state, day)
        for side in (MENTEE, MENTOR):
            answers = state.traits.pulse[side]
            if phase == "drift":
                answers = 0.0 if side == state.traits.silent else answers * 0.6
            if rng.random() < answers:
                later = meeting.ends_at + timedelta(hours=rng.randint(1, 72))
                number = state.held_count
                self.at(
                    later,
                    lambda side=side, number=number: self._pulse(
                        state, meeting_id, side, True, number
                    ),
                )
        chain = state.chain
        self.at(meeting.ends_at + timedelta(hours=1), lambda: self._book(state, day, chain))

    # --- Pulses and check-ins -------------------------------------------------------------

    def _pulse(
        self, state: _State, meeting_id: int, side: str, held: bool, number: int = 0
    ) -> None:
        pair = self._pair_now(state)
        if pair.status == Pair.Status.ENDED:
            return
        meeting = Meeting.objects.select_related("pair__cohort__programme").get(pk=meeting_id)
        now = self._now()
        situation = pulse_situation(meeting=meeting, participant=self._side(pair, side), now=now)
        answers = (
            self._held_answers(state, side, number, situation)
            if held
            else Answers(held=False, not_held=Pulse.NotHeld.MISSED)
        )
        if situation.previous is not None:
            done = self.rng.choices(["yes", "partly", "no"], [0.5, 0.3, 0.2])[0]
            if self.phase(state, self.day_of(now)) != "normal":
                done = self.rng.choice(["partly", "no", "no"])
            answers = dataclasses.replace(answers, previous_action_done=done)
        self._call(lambda: pulse_submit(situation=situation, answers=answers, now=now))

    def _held_answers(self, state: _State, side: str, number: int, situation: object) -> Answers:
        rng, traits = self.rng, state.traits
        drift = self.phase(state, self.day_of(self._now())) != "normal"
        safety = 5 if rng.random() < 0.6 else 4
        if rng.random() < 0.05:
            safety = 3
        low = traits.low_safety
        if low is not None and low[0] == side and number >= low[1]:
            safety = rng.choice([1, 2, 2, 3])
        teaching = rng.randint(4, 5) if rng.random() < traits.reverts else rng.randint(1, 3)
        good_fit = side != traits.unfit
        nothing_new = drift and rng.random() < 0.4
        action = rng.random() < (0.3 if drift else 0.75)
        skills = getattr(situation, "skills", [])
        return Answers(
            held=True,
            learning="Nothing new." if nothing_new else "Something I had not seen before.",
            action="Try it with my team." if action else "",
            good_fit=good_fit,
            safety=safety,
            teaching=teaching,
            confidence={skill.pk: rng.randint(2, 4) for skill in skills},
        )

    def _plan_checkin(self, state: _State, checkin_id: int, participant_id: int, day: int) -> None:
        rng, traits = self.rng, state.traits
        phase = self.phase(state, day)
        if phase == "normal":
            choice = CheckIn.Choice.PAUSE if rng.random() < traits.pauses else "continue"
            answers = 0.8
        else:
            choice = rng.choice([CheckIn.Choice.PAUSE, CheckIn.Choice.REMATCH])
            answers = 0.4
        side = MENTEE if participant_id == state.mentee_id else MENTOR
        if choice == CheckIn.Choice.PAUSE and side != MENTEE and phase == "normal":
            choice = CheckIn.Choice.CONTINUE  # the busy executive is the one who pauses
        if rng.random() < answers:
            later = self.moment(day, 9) + timedelta(hours=rng.randint(0, 48))
            self.at(later, lambda: self._answer(state, checkin_id, choice))

    def _answer(self, state: _State, checkin_id: int, choice: str) -> None:
        checkin = CheckIn.objects.get(pk=checkin_id)
        answered = self._call(lambda: checkin_answer(checkin=checkin, choice=choice))
        if not isinstance(answered, CheckIn) or choice != CheckIn.Choice.PAUSE:
            return
        pair = answered.pair
        if pair.status != Pair.Status.PAUSED or pair.paused_until is None:
            return
        today = self.day_of(self._now())
        until = (pair.paused_until - self.start).days
        if state.paused_until is not None and state.paused_until > today:
            return  # the partner paused it first
        state.paused_until = until
        state.chain += 1
        chain = state.chain
        state.truth.pauses.append((today, until))
        # Sessions booked within the pause are called off by whoever asked for it.
        with transaction.atomic():
            for meeting in Meeting.objects.filter(
                pair_id=state.pair_id,
                status=Meeting.Status.SCHEDULED,
                starts_at__lt=self.moment(until),
            ):
                state.booked.discard(meeting.pk)
                self._call(
                    lambda meeting=meeting: meeting_services.meeting_cancel(
                        meeting=meeting, by=answered.participant
                    )
                )
        after = until - state.traits.cadence
        self.at(self.moment(until, 8), lambda: self._book(state, after, chain))
