"""The cohort simulator behind bench/early_warning.py: its ground truth (when a pair lapses)
and that what it simulates goes through the product's services into real rows."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bench.support import cohort_sim
from bench.support.cohort_sim import CohortSimulation, lapse_day
from pairs.models import Meeting, Pair
from programmes.models import Role
from risks.models import CheckIn
from surveys.models import Pulse

ZONE = ZoneInfo(cohort_sim.ZONE)


def _day(meeting: Meeting, start: date) -> int:
    return (meeting.starts_at.astimezone(ZONE).date() - start).days


# --- The ground truth, on hand-made histories ------------------------------------------------


@pytest.mark.parametrize(
    ("held", "pauses", "days", "expected"),
    [
        # Nothing held: 30 days from the start, so on day 30.
        ([], [], 60, 30),
        # 30 days after the latest held session.
        ([3, 17], [], 90, 47),
        # Held often enough: never.
        ([0, 14, 28, 42, 56, 70], [], 90, None),
        # One day short of the lapse when the simulation ends.
        ([10], [], 40, None),
        ([10], [], 41, 40),
        # Paused days do not count: 10 quiet days, 20 paused, then 20 more.
        ([], [(11, 31)], 80, 50),
        # A pause after a held session pushes its lapse back by the pause's length.
        ([5], [(20, 50)], 90, 65),
        # A pause over before the quiet spell starts changes nothing.
        ([40], [(10, 20)], 90, 70),
    ],
)
def test_it_lapses_a_pair_on_its_30th_unpaused_day_without_a_held_session(
    held: list[int], pauses: list[tuple[int, int]], days: int, expected: int | None
) -> None:
    assert lapse_day(held, pauses, days=days) == expected


# --- Driving the product's services -----------------------------------------------------------


def _always(fate: str) -> Callable[..., str]:
    def fate_of(self: CohortSimulation, state: Any, day: int, movable: bool) -> str:
        return fate

    return fate_of


@pytest.mark.django_db
def test_it_logs_each_missed_session_as_a_missed_meeting_and_the_pair_lapses_on_day_30(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(CohortSimulation, "_fate", _always("missed"))
    # Nobody answers a check-in, so nothing pauses the pair.
    monkeypatch.setattr(CohortSimulation, "_plan_checkin", lambda *args: None)

    result = CohortSimulation(seed=7, pairs=2, days=45, archetypes=["healthy", "healthy"]).run()

    for pair_id, truth in result.truths.items():
        meetings = list(Meeting.objects.filter(pair_id=pair_id).order_by("starts_at"))
        missed = [m for m in meetings if m.status == Meeting.Status.MISSED]
        # Every session but one still to come (or whose mark is due after the end) was missed.
        assert len(missed) >= 2
        assert len(meetings) - len(missed) <= 1
        assert truth.held_days == []
        assert truth.lapse_day == 30
        assert sorted(truth.not_happened_days) == [_day(m, result.start) for m in missed]
        if cohort_sim.MARK_TAKES_MISSED_BY:
            assert all(m.missed_by in Role.values for m in meetings if m.status == "missed")


@pytest.mark.django_db
def test_it_holds_sessions_through_the_services_and_its_truth_matches_the_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(CohortSimulation, "_fate", _always("held"))

    result = CohortSimulation(seed=3, pairs=3, days=50, archetypes=["healthy"] * 3).run()

    for pair_id, truth in result.truths.items():
        pair = Pair.objects.get(pk=pair_id)
        assert pair.agreements.filter(
            mentee_accepted_at__isnull=False, mentor_accepted_at__isnull=False
        ).exists()
        held = Meeting.objects.filter(pair=pair, status=Meeting.Status.HELD)
        # Each held session is logged (marked, or logged by its first pulse) unless nobody
        # marked it and nobody answered its pulse: the truth knows it was held all the same.
        logged_days = sorted(_day(m, result.start) for m in held)
        assert set(logged_days) <= set(truth.held_days)
        assert len(truth.held_days) >= 3
        assert truth.lapse_day is None
        # Pulses are real rows, about held sessions of this pair, from its two participants.
        pulses = Pulse.objects.filter(meeting__pair=pair)
        assert pulses.exists()
        assert set(pulses.values_list("participant_id", flat=True)) <= {
            pair.mentee_id,
            pair.reverse_mentor_id,
        }
        assert all(pulse.held for pulse in pulses)


@pytest.mark.django_db
def test_a_pause_asked_in_a_check_in_pauses_the_pair_and_does_not_count_towards_its_lapse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(CohortSimulation, "_fate", _always("cancelled"))

    def pause_at_once(
        self: CohortSimulation, state: Any, checkin_id: int, participant_id: int, day: int
    ) -> None:
        # The executive asks for a pause at the first check-in and leaves the next unanswered.
        if participant_id == state.mentee_id and not state.truth.pauses:
            moment = self.moment(day, 9)
            self.at(moment, lambda: self._answer(state, checkin_id, CheckIn.Choice.PAUSE))

    monkeypatch.setattr(CohortSimulation, "_plan_checkin", pause_at_once)

    result = CohortSimulation(seed=11, pairs=1, days=90, archetypes=["healthy"]).run()

    [(pair_id, truth)] = result.truths.items()
    assert CheckIn.objects.filter(pair_id=pair_id, choice=CheckIn.Choice.PAUSE).exists()
    pair = Pair.objects.get(pk=pair_id)
    [(paused, until)] = truth.pauses
    assert until - paused == 30
    assert pair.resumed_on == result.start + timedelta(days=until)
    cancelled = Meeting.objects.filter(pair=pair, status=Meeting.Status.CANCELLED)
    assert cancelled.count() >= 2
    assert set(cancelled.values_list("cancelled_by", flat=True)) <= set(Role.values)
    # Never held, and paused before its 30th quiet day: the 30 paused days do not count.
    assert paused < 30
    assert truth.held_days == []
    assert truth.lapse_day == 60
