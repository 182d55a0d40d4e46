"""The engine against an exhaustive search on small random cohorts: the same optimum, and
never a broken rule."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.engine import (
    DEFAULT_WEIGHTS,
    EXTRA_PLACE_PENALTY,
    Constraints,
    build_problem,
    solve,
    solver_objective,
)
from tests.matching.sides import random_cohort

cohorts = st.tuples(
    st.integers(0, 2**32 - 1),  # seed
    st.integers(1, 7),  # mentees
    st.integers(1, 7),  # mentors
    st.integers(1, 2),  # largest capacity
)


def brute_force(score: np.ndarray, allowed: np.ndarray, capacity: np.ndarray):
    """Every assignment of mentees to mentor places (or to nobody): the best by number of
    pairs, then by total score less extra-place penalties; and the best lowest pair score
    among assignments with the most pairs."""
    m, n = score.shape
    best = {"pairs": -1, "value": -np.inf, "maximin": -np.inf}
    used = [0] * n

    def walk(i: int, pairs: int, value: float, lowest: float) -> None:
        if i == m:
            if pairs > best["pairs"]:
                best.update(pairs=pairs, value=value, maximin=lowest)
            elif pairs == best["pairs"]:
                best["value"] = max(best["value"], value)
                best["maximin"] = max(best["maximin"], lowest)
            return
        walk(i + 1, pairs, value, lowest)
        for j in range(n):
            if allowed[i, j] and used[j] < capacity[j]:
                penalty = EXTRA_PLACE_PENALTY * used[j]
                used[j] += 1
                walk(i + 1, pairs + 1, value + score[i, j] - penalty, min(lowest, score[i, j]))
                used[j] -= 1

    walk(0, 0, 0.0, np.inf)
    return best


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts)
def test_it_finds_the_same_optimum_as_trying_every_assignment(cohort) -> None:
    seed, m, n, max_capacity = cohort
    mentees, mentors = random_cohort(np.random.default_rng(seed), m, n, max_capacity=max_capacity)
    constraints = Constraints()
    problem = build_problem(mentees, mentors, weights=DEFAULT_WEIGHTS, constraints=constraints)

    solution = solve(problem, constraints=constraints)
    best = brute_force(problem.score, problem.allowed, problem.capacity)

    assert len(solution.pairs) == best["pairs"]
    assert np.isclose(
        solver_objective(problem, solution, constraints=constraints), max(best["value"], 0.0)
    )
    for i, j in solution.pairs:
        assert problem.allowed[i, j], "a pair that breaks a hard rule"
    load = np.bincount([j for _, j in solution.pairs], minlength=n)
    assert (load <= problem.capacity).all()
    assert len({i for i, _ in solution.pairs}) == len(solution.pairs)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts)
def test_it_protects_the_worst_off_as_well_as_any_assignment_can(cohort) -> None:
    seed, m, n, max_capacity = cohort
    mentees, mentors = random_cohort(np.random.default_rng(seed), m, n, max_capacity=max_capacity)
    constraints = Constraints()
    problem = build_problem(mentees, mentors, weights=DEFAULT_WEIGHTS, constraints=constraints)

    solution = solve(problem, constraints=constraints, protect_worst_off=True)
    best = brute_force(problem.score, problem.allowed, problem.capacity)

    assert len(solution.pairs) == best["pairs"]
    if best["pairs"]:
        assert np.isclose(solution.lowest, best["maximin"])
        assert np.isclose(solution.threshold, best["maximin"])
    for i, j in solution.pairs:
        assert problem.allowed[i, j]


def test_it_keeps_previous_pairs_when_a_weight_changes_a_little() -> None:
    mentees, mentors = random_cohort(np.random.default_rng(11), 60, 60, hour_pool=4)
    first_constraints = Constraints()
    before = solve(
        build_problem(mentees, mentors, weights=DEFAULT_WEIGHTS, constraints=first_constraints),
        constraints=first_constraints,
    )
    nudged = DEFAULT_WEIGHTS | {"time_zone": DEFAULT_WEIGHTS["time_zone"] * 1.1}

    def moved(constraints: Constraints) -> int:
        problem = build_problem(mentees, mentors, weights=nudged, constraints=constraints)
        return len(set(before.pairs) - set(solve(problem, constraints=constraints).pairs))

    without_bonus = moved(Constraints())
    with_bonus = moved(Constraints(previous=set(before.pairs)))

    assert without_bonus > 0  # the nudge alone reshuffles some pairs…
    assert with_bonus < without_bonus  # …the bonus for keeping pairs keeps more of them
