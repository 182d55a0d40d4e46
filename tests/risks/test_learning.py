"""The risk score learns (risks/learning.py): a penalised logistic fit that stays at the
default weights with little data and follows the data with much; the nightly refit on the
pairs of ended cohorts once there are enough, idempotent; the lapse day it learns from."""

from datetime import date

import numpy as np
import pytest

from risks import learning, tasks
from risks.lapses import LAPSE_DAYS, lapse_day
from risks.learning import NAMES, Samples, fit, refit
from risks.models import RiskModel
from risks.score import DEFAULT_WEIGHTS, FEATURES
from tests.factories import ProgrammeFactory
from tests.risks.score_helpers import (
    DAY,
    cohort_pair,
    ended_cohort,
    fortnightly,
    historic,
    london,
)

pytestmark = pytest.mark.django_db

START = date(2026, 1, 5)


# --- The lapse day ------------------------------------------------------------------------


def test_a_pair_lapses_on_the_thirtieth_day_without_a_held_session() -> None:
    held = [START + 10 * DAY]
    assert lapse_day(START, START + 100 * DAY, held, []) == START + (10 + LAPSE_DAYS) * DAY
    # Held on the 29th quiet day: the count starts again.
    again = [*held, START + (10 + LAPSE_DAYS - 1) * DAY]
    assert lapse_day(START, START + 60 * DAY, again, []) is None


def test_a_managers_pause_is_not_counted() -> None:
    held = [START]
    pause = (START + 5 * DAY, START + 35 * DAY)
    assert lapse_day(START, START + 100 * DAY, held, [pause]) == START + (LAPSE_DAYS + 30) * DAY


# --- The fit ------------------------------------------------------------------------------


def synthetic(n: int, seed: int = 7) -> Samples:
    """Pairs whose lapse depends on one feature only ("silent_sides"), strongly."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, len(NAMES)))
    x[:, 0] = 1.0
    silent = NAMES.index("silent_sides")
    x[:, silent] = rng.integers(0, 3, n)
    z = -3.0 + 3.0 * x[:, silent]
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(float)
    return Samples(x=x, y=y, pairs=n, lapsed=int(y.sum()))


def test_with_little_data_the_weights_stay_near_the_defaults() -> None:
    weights = fit(synthetic(5))
    learned = fit(synthetic(5000))

    assert set(weights) == set(NAMES)

    def distance(found: dict[str, float]) -> float:
        return sum((found[name] - DEFAULT_WEIGHTS[name]) ** 2 for name in NAMES) ** 0.5

    for name in NAMES:
        assert weights[name] == pytest.approx(DEFAULT_WEIGHTS[name], abs=1.0)
    assert distance(weights) < distance(learned) / 2


def test_with_much_data_the_weights_follow_it() -> None:
    weights = fit(synthetic(5000))

    assert weights["silent_sides"] > DEFAULT_WEIGHTS["silent_sides"] + 1.0
    # A feature the data never shows keeps its prior.
    assert weights["checkin_wants_out"] == pytest.approx(DEFAULT_WEIGHTS["checkin_wants_out"])


def test_no_sample_gives_the_defaults() -> None:
    empty = Samples(x=np.zeros((0, len(NAMES))), y=np.zeros(0), pairs=0, lapsed=0)
    assert fit(empty) == {name: DEFAULT_WEIGHTS[name] for name in NAMES}
    assert list(NAMES[1:]) == list(FEATURES)


# --- The nightly refit --------------------------------------------------------------------


def history(programme, *, pairs: int, lapsing: int) -> None:
    """An ended cohort of the programme: ``lapsing`` pairs held their first session only,
    the others met every fortnight."""
    london(programme)
    cohort = ended_cohort(programme)
    for i in range(pairs):
        pair = cohort_pair(cohort)
        if i < lapsing:
            historic(pair, cohort.starts_on + 3 * DAY)
        else:
            fortnightly(pair, cohort.starts_on + 3 * DAY, cohort.ends_on, pulses=False)


@pytest.fixture
def few(monkeypatch) -> int:
    monkeypatch.setattr(learning, "MIN_PAIRS", 4)
    return 4


def test_too_little_history_keeps_the_default_weights(programme, few) -> None:
    history(programme, pairs=few - 1, lapsing=1)

    assert refit(programme) is False

    assert not RiskModel.objects.exists()


def test_it_refits_on_the_ended_cohorts_pairs_once_there_are_enough(programme, few) -> None:
    history(programme, pairs=few + 2, lapsing=3)
    running = cohort_pair(ended_cohort(programme, ago=-30))  # not ended yet: not learned from
    assert running

    assert refit(programme) is True

    model = RiskModel.objects.get(programme=programme)
    assert (model.pairs_used, model.lapsed_used) == (few + 2, 3)
    assert set(model.weights) == set(NAMES)
    assert model.weights != {name: DEFAULT_WEIGHTS[name] for name in NAMES}


def test_a_programme_with_too_few_of_its_own_learns_from_the_organisation(programme, few) -> None:
    history(ProgrammeFactory(), pairs=few, lapsing=2)

    assert refit(programme) is True

    assert RiskModel.objects.get(programme=programme).pairs_used == few


def test_the_nightly_task_run_twice_changes_the_row_once(programme, few) -> None:
    history(programme, pairs=few, lapsing=2)

    assert tasks.refit_risk_models() == {"refitted": 1}
    before = list(RiskModel.objects.values())
    assert tasks.refit_risk_models() == {"refitted": 0}

    assert list(RiskModel.objects.values()) == before
    assert len(before) == 1


def test_the_beat_runs_it_nightly(settings) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["refit-risk-models"]
    assert entry["task"] == "risks.tasks.refit_risk_models"
    assert entry["schedule"] == 24 * 3600
