"""The engine against an exhaustive search on thousands of small random cohorts.

Hypothesis draws each cohort: up to five mentees and four reverse-mentors with 0 to 3 places
each, a random organisation tree (reporting lines), hours from a small pool (so some pairs
share none), exclusions, pairs avoided at intake, locked pairs, previous pairs, with and
without "no shared time" allowed. The search tries every way of giving the free mentees a
place (or none) and checks the rules itself, from the people's data, not from the engine's
masks. It proves:

- no pair breaks a rule, and no reverse-mentor gets more pairs than places (locked pairs are
  kept as the manager decided);
- as many pairs as any rule-abiding matching;
- the value the solver maximised equals the exhaustive optimum;
- with "protect the worst-off": the lowest free pair equals the best bottleneck any matching
  of that many pairs reaches, and the value is the best among the matchings that reach it.
"""

from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.engine import (
    DEFAULT_WEIGHTS,
    EXTRA_PLACE_PENALTY,
    KEEP_PAIR_BONUS,
    Constraints,
    Problem,
    Side,
    build_problem,
    solve,
)
from programmes.reporting_lines import tree_intervals
from tests.matching.sides import random_cohort, random_side
from tests.oracles import in_same_line, solver_objective

HOUR_POOL = np.array([9, 33, 58])  # a few hours of the week both sides pick from


@dataclass
class Cohort:
    mentees: Side
    mentors: Side
    managers: dict[int, int | None]  # person -> manager; mentee i is person i, mentor j m + j
    constraints: Constraints


@st.composite
def cohorts(draw) -> Cohort:
    m, n = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    people = m + n
    # About one person in three has a manager in the cohort: lines rule out some pairs, not most.
    managers = {p: draw(st.sampled_from([None, None, *range(people)])) for p in range(people)}
    # Only managers earlier in a random order: a forest, no loops.
    order = draw(st.permutations(range(people)))
    rank = {p: k for k, p in enumerate(order)}
    managers = {p: b if b is not None and rank[b] < rank[p] else None for p, b in managers.items()}
    intervals = tree_intervals(managers)
    entry = np.array([intervals[p][0] for p in range(people)])
    exit_ = np.array([intervals[p][1] for p in range(people)])

    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    capacity = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    # Hours are drawn below, where Hypothesis can shrink them.
    pool = np.arange(8)
    mentees = random_side(rng, m, entry=entry[:m], exit_=exit_[:m], pool=pool)
    mentors = random_side(rng, n, entry=entry[m:], exit_=exit_[m:], capacity=capacity, pool=pool)
    for side, size in ((mentees, m), (mentors, n)):
        for row in range(size):
            side.hours[row] = False
            chosen = draw(st.sets(st.sampled_from(HOUR_POOL.tolist()), min_size=1, max_size=3))
            side.hours[row, sorted(chosen)] = True

    pairs = st.tuples(st.integers(0, m - 1), st.integers(0, n - 1))
    avoided = sorted(draw(st.sets(pairs, max_size=2)))
    locked = draw(st.dictionaries(st.integers(0, m - 1), st.integers(0, n - 1), max_size=2))
    constraints = Constraints(
        excluded=draw(st.sets(pairs, max_size=2)),
        avoided=(
            np.array([i for i, _ in avoided], dtype=int),
            np.array([j for _, j in avoided], dtype=int),
        ),
        locked=set(locked.items()),
        previous=draw(st.sets(pairs, max_size=m)),
        allow_without_shared_time=draw(st.booleans()),
    )
    return Cohort(mentees, mentors, managers, constraints)


def rule_abiding(cohort: Cohort, i: int, j: int) -> bool:
    """Every hard rule, checked pair by pair from the people's data (capacity aside)."""
    mentee, mentor, rules = cohort.mentees, cohort.mentors, cohort.constraints
    m = len(mentee)
    avoided = set(zip(rules.avoided[0].tolist(), rules.avoided[1].tolist(), strict=True))
    return not (
        in_same_line(i, m + j, cohort.managers)
        or (i, j) in rules.excluded
        or (i, j) in avoided
        or (mentee.wants[i] > 0).__and__(mentor.off_limits[j]).any()
        or (mentor.wants[j] > 0).__and__(mentee.off_limits[i]).any()
        or (not rules.allow_without_shared_time and not (mentee.hours[i] & mentor.hours[j]).any())
    )


@dataclass
class Leaf:
    pairs: int
    value: float  # what the solver maximises, over all pairs, locked ones included
    free_lowest: float  # the lowest pair the solver chose (inf with none)


def every_matching(cohort: Cohort, problem: Problem) -> list[Leaf]:
    """Every rule-abiding matching that keeps the locked pairs: each free mentee gets a place
    left with a rule-abiding partner, or none."""
    m, n = problem.score.shape
    rules = cohort.constraints
    load = [0] * n
    value = 0.0
    for i, j in sorted(rules.locked):
        value += problem.score[i, j] - EXTRA_PLACE_PENALTY * load[j]
        value += KEEP_PAIR_BONUS * ((i, j) in rules.previous)
        load[j] += 1
    free = [i for i in range(m) if i not in dict(rules.locked)]
    options = {i: [j for j in range(n) if rule_abiding(cohort, i, j)] for i in free}
    leaves: list[Leaf] = []

    def walk(k: int, pairs: int, value: float, lowest: float) -> None:
        if k == len(free):
            leaves.append(Leaf(pairs, value, lowest))
            return
        walk(k + 1, pairs, value, lowest)
        i = free[k]
        for j in options[i]:
            if load[j] < problem.capacity[j]:
                gain = problem.score[i, j] - EXTRA_PLACE_PENALTY * load[j]
                gain += KEEP_PAIR_BONUS * ((i, j) in rules.previous)
                load[j] += 1
                walk(k + 1, pairs + 1, value + gain, min(lowest, problem.score[i, j]))
                load[j] -= 1

    walk(0, len(rules.locked), value, np.inf)
    return leaves


def assert_keeps_every_rule(cohort: Cohort, problem: Problem, pairs) -> None:
    rules = cohort.constraints
    assert rules.locked <= set(pairs), "a locked pair was dropped"
    assert len({i for i, _ in pairs}) == len(pairs), "a mentee with two partners"
    for i, j in set(pairs) - rules.locked:
        assert rule_abiding(cohort, i, j), f"({i}, {j}) breaks a hard rule"
        assert problem.allowed[i, j]
    load = np.bincount([j for _, j in pairs], minlength=len(cohort.mentors))
    held = np.bincount([j for _, j in rules.locked], minlength=len(cohort.mentors))
    assert (load <= np.maximum(problem.capacity, held)).all(), "more pairs than places"


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts())
def test_it_finds_the_exhaustive_optimum_and_never_breaks_a_rule(cohort: Cohort) -> None:
    rules = cohort.constraints
    problem = build_problem(
        cohort.mentees, cohort.mentors, weights=DEFAULT_WEIGHTS, constraints=rules
    )
    m, n = problem.score.shape
    naive = np.array(
        [[rule_abiding(cohort, i, j) for j in range(n)] for i in range(m)], dtype=bool
    ).reshape(m, n)
    assert (problem.allowed == (naive & (problem.capacity > 0)[None, :])).all()

    leaves = every_matching(cohort, problem)
    most = max(leaf.pairs for leaf in leaves)
    full = [leaf for leaf in leaves if leaf.pairs == most]

    solution = solve(problem, constraints=rules)
    assert_keeps_every_rule(cohort, problem, solution.pairs)
    assert len(solution.pairs) == most
    assert np.isclose(
        solver_objective(problem, solution, constraints=rules), max(leaf.value for leaf in full)
    )

    protected = solve(problem, constraints=rules, protect_worst_off=True)
    assert_keeps_every_rule(cohort, problem, protected.pairs)
    assert len(protected.pairs) == most
    bottleneck = max(leaf.free_lowest for leaf in full)
    free = [problem.score[i, j] for i, j in set(protected.pairs) - rules.locked]
    if free:
        assert min(free) == bottleneck == protected.threshold
        locked = [problem.score[i, j] for i, j in rules.locked]
        assert protected.lowest == min([*locked, bottleneck])
    reaching = [leaf.value for leaf in full if leaf.free_lowest >= bottleneck]
    assert np.isclose(solver_objective(problem, protected, constraints=rules), max(reaching))


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
