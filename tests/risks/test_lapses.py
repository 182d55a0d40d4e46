"""A pair lapses once 30 days pass without a held session (docs/at-risk.md): counted from the
day after its start or its last held session, a pause's days not counted."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from pairs.models import Pair
from risks.checkins import PAUSE_LENGTH
from risks.lapses import LAPSE_DAYS, lapse_day, lapse_days
from risks.models import CheckIn
from tests.factories import CheckInFactory, PairFactory

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


@pytest.mark.django_db
def test_a_pause_chosen_in_a_check_in_counts_as_a_pause(django_assert_num_queries) -> None:
    """The product offered it ("pause for one month"): the quiet month is not a lapse."""
    paused, quiet = PairFactory(started_on=START), PairFactory(started_on=START)
    for pair in (paused, quiet):
        pair.cohort.ends_on = END
        pair.cohort.save(update_fields=["ends_on"])
    answered = datetime.combine(START + timedelta(days=5), time(12), tzinfo=UTC)
    CheckInFactory(pair=paused, choice=CheckIn.Choice.PAUSE, answered_at=answered)
    pairs = list(
        Pair.objects.select_related("cohort__programme").filter(pk__in=[paused.pk, quiet.pk])
    )

    # The held sessions, the managers' pauses, the check-ins answered "pause".
    with django_assert_num_queries(3):
        lapses = lapse_days(pairs, today=END)

    assert lapses[quiet.pk] == START + timedelta(days=LAPSE_DAYS)
    assert lapses[paused.pk] == START + timedelta(days=LAPSE_DAYS) + PAUSE_LENGTH
