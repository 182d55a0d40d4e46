"""Random cohorts as engine arrays, for property tests and the benchmark."""

import numpy as np

from matching.engine import EITHER, Side
from programmes.reporting_lines import tree_intervals

TOPICS = 6


def random_side(
    rng: np.random.Generator,
    size: int,
    *,
    entry: np.ndarray,
    exit_: np.ndarray,
    capacity: np.ndarray | None = None,
    pool: np.ndarray,
) -> Side:
    wants = np.zeros((size, TOPICS), dtype=int)
    for row in range(size):
        chosen = rng.choice(TOPICS, size=rng.integers(0, 4), replace=False)
        wants[row, chosen] = np.arange(1, len(chosen) + 1)
    hours = np.zeros((size, 168), dtype=bool)
    for row in range(size):
        hours[row, rng.choice(pool, size=rng.integers(1, 5), replace=False)] = True
    return Side(
        ids=np.arange(size),
        wants=wants,
        shares=rng.random((size, TOPICS)) < 0.4,
        off_limits=rng.random((size, TOPICS)) < 0.05,
        hours=hours,
        utc_offset=rng.choice([0, 1, -5, 8], size=size).astype(float),
        communication=rng.integers(0, 3, size=size),
        feedback=rng.integers(0, 3, size=size),
        mode=rng.integers(0, 3, size=size),
        department=rng.integers(0, 4, size=size),
        line_entry=entry,
        line_exit=exit_,
        capacity=capacity,
    )


def random_cohort(
    rng: np.random.Generator,
    mentees: int,
    mentors: int,
    *,
    max_capacity: int = 1,
    hour_pool: int = 6,
) -> tuple[Side, Side]:
    people = mentees + mentors
    managers: list[int | None] = [None] + [int(rng.integers(0, i)) for i in range(1, people)]
    order = rng.permutation(people)  # who sits where in the tree
    intervals = tree_intervals(dict(enumerate(managers)))
    entry = np.array([intervals[p][0] for p in order])
    exit_ = np.array([intervals[p][1] for p in order])
    capacity = rng.integers(1, max_capacity + 1, size=mentors)
    pool = rng.choice(168, size=hour_pool, replace=False)  # hours both sides pick from
    return (
        random_side(rng, mentees, entry=entry[:mentees], exit_=exit_[:mentees], pool=pool),
        random_side(
            rng,
            mentors,
            entry=entry[mentees:],
            exit_=exit_[mentees:],
            capacity=capacity,
            pool=pool,
        ),
    )


def open_cohort(
    mentees: int, mentors: int, *, capacity: list[int] | None = None
) -> tuple[Side, Side]:
    """Everyone alike and nothing in the way (no reporting lines, no topics ruled out, every
    hour shared): every pair scores the same, so only the rules and places decide."""

    def side(size: int, places: list[int] | None) -> Side:
        return Side(
            ids=np.arange(size),
            wants=np.zeros((size, TOPICS), dtype=int),
            shares=np.zeros((size, TOPICS), dtype=bool),
            off_limits=np.zeros((size, TOPICS), dtype=bool),
            hours=np.ones((size, 168), dtype=bool),
            utc_offset=np.zeros(size),
            communication=np.zeros(size, dtype=int),
            feedback=np.zeros(size, dtype=int),
            mode=np.full(size, EITHER),
            department=np.full(size, -1),
            line_entry=np.full(size, -1),
            line_exit=np.full(size, -1),
            capacity=None if places is None else np.array(places),
        )

    return side(mentees, None), side(mentors, capacity or [1] * mentors)
