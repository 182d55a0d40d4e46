"""The timing rules from before issue 19, as bench/early_warning.py keeps them for its baseline:
two sessions in a row (or in the window) that did not happen, or 30 days without a held one."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bench.support.old_rules import MISSED, NO_SESSION, timing_rules
from pairs.models import Meeting, Pair
from tests.factories import MeetingFactory, PairFactory

START = date(2026, 3, 2)
LONDON = ZoneInfo("Europe/London")


def _at(day: int) -> datetime:
    return datetime.combine(START + timedelta(days=day), datetime.min.time(), LONDON).replace(
        hour=10
    )


def _pair(*sessions: tuple[int, str]) -> Pair:
    pair = PairFactory(started_on=START, cohort__programme__time_zone="Europe/London")
    for day, status in sessions:
        by = "mentee" if status == Meeting.Status.CANCELLED else ""
        MeetingFactory(pair=pair, starts_at=_at(day), status=status, cancelled_by=by)
    return pair


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sessions", "day", "expected"),
    [
        # Held every fortnight: nothing.
        ([(0, "held"), (14, "held"), (28, "held")], 40, set()),
        # One session that did not happen: nothing yet (the rules' lateness).
        ([(0, "held"), (14, "missed")], 20, set()),
        # Two in a row: missed.
        ([(0, "held"), (14, "missed"), (28, "cancelled")], 29, {MISSED}),
        # Two within 30 days, a held one between them: missed.
        ([(0, "missed"), (7, "held"), (20, "missed")], 21, {MISSED}),
        # 30 days since the last held session: no session.
        ([(0, "held")], 30, {NO_SESSION}),
        ([(0, "held")], 29, set()),
        # Nothing held since the start: counted from the start.
        ([], 30, {NO_SESSION}),
    ],
)
def test_it_flags_what_the_old_timing_rules_flagged(
    sessions: list[tuple[int, str]], day: int, expected: set[str]
) -> None:
    pair = _pair(*sessions)

    found = timing_rules(pair.cohort.programme, [pair], _at(day) + timedelta(hours=12))

    assert found == {pair.pk: expected}


@pytest.mark.django_db
def test_it_counts_a_pair_back_from_a_pause_from_the_day_it_resumed() -> None:
    pair = _pair((0, "held"))
    pair.resumed_on = START + timedelta(days=20)
    pair.save()

    assert timing_rules(pair.cohort.programme, [pair], _at(45)) == {pair.pk: set()}
    assert timing_rules(pair.cohort.programme, [pair], _at(50)) == {pair.pk: {NO_SESSION}}
