"""A pair lapses once 30 days pass without a held session (docs/at-risk.md): counted from the
day after its start or its last held session, a pause's days not counted."""

from datetime import date, timedelta

import pytest

from risks.lapses import LAPSE_DAYS, lapse_day

START = date(2026, 9, 1)
END = START + timedelta(days=200)


@pytest.mark.parametrize("held_after", [None, 0, 10, 29])
def test_it_lapses_thirty_days_after_the_start_or_the_last_held_session(held_after) -> None:
    held = [] if held_after is None else [START + timedelta(days=held_after)]
    last = held[0] if held else START
    assert lapse_day(START, END, held, []) == last + timedelta(days=LAPSE_DAYS)


def test_a_pause_s_days_do_not_count_and_a_session_in_time_saves_it() -> None:
    pause = (START + timedelta(days=5), START + timedelta(days=35))  # thirty days paused
    assert lapse_day(START, END, [], [pause]) == START + timedelta(days=LAPSE_DAYS + 30)
    every_four_weeks = [START + timedelta(days=28 * n) for n in range(1, 8)]
    assert lapse_day(START, END, every_four_weeks, []) is None
    assert lapse_day(START, START + timedelta(days=LAPSE_DAYS - 1), [], []) is None
