"""Reverse-mentors with different numbers of places: the solver's columns are places, and each
maps back to the person who owns it."""

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import maximum_bipartite_matching

from matching import engine
from tests.matching.sides import open_cohort, random_cohort


def solve(mentees, mentors, constraints=None, *, protect=False):
    constraints = constraints or engine.Constraints()
    problem = engine.build_problem(
        mentees, mentors, weights=engine.DEFAULT_WEIGHTS, constraints=constraints
    )
    return problem, engine.solve(problem, constraints=constraints, protect_worst_off=protect)


def test_it_never_gives_a_pair_to_a_reverse_mentor_with_no_place_left() -> None:
    # Places 2, 0, 1 add up to the number of reverse-mentors: the case that used to be taken
    # for "one place each" and map the solver's columns to the wrong people.
    mentees, mentors = open_cohort(3, 3, capacity=[2, 0, 1])

    for protect in (False, True):
        _, solution = solve(mentees, mentors, protect=protect)

        load = np.bincount([j for _, j in solution.pairs], minlength=3)
        assert load.tolist() == [2, 0, 1]
        assert solution.unmatched_mentees == []


def test_it_never_pairs_a_reporting_line_whatever_the_places() -> None:
    mentees, mentors = open_cohort(3, 3, capacity=[0, 2, 1])
    # Mentee 0 manages reverse-mentor 1 (who has two places).
    mentees.line_entry[0], mentees.line_exit[0] = 0, 10
    mentors.line_entry[1], mentors.line_exit[1] = 1, 2

    for protect in (False, True):
        problem, solution = solve(mentees, mentors, protect=protect)

        assert problem.forbidden["reporting_line"][0, 1]
        assert (0, 1) not in solution.pairs
        assert all(problem.allowed[i, j] for i, j in solution.pairs)
        assert len(solution.pairs) == 3  # mentee 0 takes reverse-mentor 2, the others 1


def test_a_locked_pair_takes_a_place_and_the_rest_go_to_the_right_people() -> None:
    mentees, mentors = open_cohort(4, 3, capacity=[3, 0, 1])
    constraints = engine.Constraints(locked={(0, 2)})

    _, solution = solve(mentees, mentors, constraints)

    assert (0, 2) in solution.pairs
    assert sorted(j for i, j in solution.pairs if i != 0) == [0, 0, 0]


def test_a_second_place_costs_its_penalty_even_when_the_first_is_locked() -> None:
    # Two reverse-mentors, equally good: a locked pair already holds the first one's place,
    # so the free mentee goes to the second, spreading the load.
    mentees, mentors = open_cohort(2, 2, capacity=[2, 1])
    constraints = engine.Constraints(locked={(0, 0)})

    problem, solution = solve(mentees, mentors, constraints)

    assert np.isclose(problem.score[1, 0], problem.score[1, 1])
    assert solution.pairs == [(0, 0), (1, 1)]


def test_it_keeps_a_previous_pair_on_a_reverse_mentor_with_several_places() -> None:
    mentees, mentors = open_cohort(2, 3, capacity=[0, 2, 1])
    before = engine.Constraints(previous={(1, 2)})
    after = engine.Constraints(previous={(1, 1)})

    assert (1, 2) in solve(mentees, mentors, before)[1].pairs
    assert (1, 1) in solve(mentees, mentors, after)[1].pairs


def test_each_criterion_reads_the_same_for_one_pair_a_row_a_column_and_all() -> None:
    mentees, mentors = random_cohort(np.random.default_rng(4), 5, 4, max_capacity=2)
    problem = engine.build_problem(
        mentees, mentors, weights=engine.DEFAULT_WEIGHTS, constraints=engine.Constraints()
    )
    weights = engine.DEFAULT_WEIGHTS

    for _name, table in problem.criteria.items():
        full = table[:, :]
        assert full.shape == (5, 4)
        assert ((full >= 0) & (full <= 1 + 1e-6)).all()
        assert np.allclose(table[2, :], full[2])
        assert np.allclose(table[:, 3], full[:, 3])
        assert np.isclose(table[1, 2], full[1, 2])
    # The score is the weighted mean of the criteria, however it was computed.
    mean = sum(weights[c] * problem.criteria[c][:, :] for c in engine.CRITERIA)
    assert np.allclose(problem.score, mean / sum(weights.values()), atol=1e-6)
    # ... and for a list of pairs at once, exactly as one pair at a time.
    rows, cols = np.array([0, 4, 2, 2]), np.array([3, 0, 1, 1])
    for table in problem.criteria.values():
        assert table.pairs(rows, cols).tolist() == [
            table[int(i), int(j)] for i, j in zip(rows, cols, strict=True)
        ]


def test_it_leaves_out_of_the_solvers_matrix_whoever_has_no_allowed_partner() -> None:
    # Mentee 2 shares no hour with anyone, and nobody may be paired with reverse-mentor 0:
    # no matching places them, so the solver never sees them (and never fails on them).
    mentees, mentors = open_cohort(3, 3)
    mentees.hours[2] = False
    constraints = engine.Constraints(excluded={(0, 0), (1, 0), (2, 0)})

    for protect in (False, True):
        _, solution = solve(mentees, mentors, constraints, protect=protect)

        assert solution.solver_matrix.shape == (2, 2)
        assert sorted(solution.pairs) == [(0, 1), (1, 2)] or sorted(solution.pairs) == [
            (0, 2),
            (1, 1),
        ]
        assert solution.unmatched_mentees == [2]
        assert solution.unmatched_mentors == [0]


def test_it_matches_as_many_as_possible_when_two_want_the_same_only_partner() -> None:
    # Mentees 0 and 1 may only go to reverse-mentor 0: one of them waits, mentee 2 takes
    # reverse-mentor 1, and of the two matchings of two pairs the better one wins.
    mentees, mentors = random_cohort(np.random.default_rng(8), 3, 2)
    mentees.hours[:] = mentors.hours[0] | mentors.hours[1]
    mentees.line_entry[:], mentees.line_exit[:] = -1, -1
    mentors.line_entry[:], mentors.line_exit[:] = -1, -1
    mentees.off_limits[:], mentors.off_limits[:] = False, False
    constraints = engine.Constraints(excluded={(0, 1), (1, 1), (2, 0)})

    for protect in (False, True):
        problem, solution = solve(mentees, mentors, constraints, protect=protect)

        assert problem.allowed.sum() == 3
        winner = 0 if problem.score[0, 0] >= problem.score[1, 0] else 1
        assert sorted(solution.pairs) == sorted([(winner, 0), (2, 1)])


def bottleneck_by_every_distinct_score(problem: engine.Problem) -> float:
    """The protected lowest score the plain way: for each distinct score, from the top, is
    there a matching of the largest size using only pairs scoring at least that?"""
    places = np.repeat(np.arange(problem.capacity.size), problem.capacity)

    def size(mask: np.ndarray) -> int:
        graph = csr_array(mask[:, places])
        return int((maximum_bipartite_matching(graph, perm_type="column") >= 0).sum())

    most = size(problem.allowed)
    for value in np.unique(problem.score[problem.allowed])[::-1]:
        if size(problem.allowed & (problem.score >= value)) == most:
            return float(value)
    raise AssertionError("no threshold")


def test_it_protects_the_worst_off_at_the_plain_searchs_threshold_on_larger_cohorts() -> None:
    # Larger than any exhaustive check: the search that starts from the top and looks only at
    # the best pairs agrees with trying every distinct score, with more mentees than places,
    # fewer, several places each, and three mentees who can only meet one reverse-mentor (no
    # matching places everyone, so the search has to go all the way down).
    sizes = [(40, 30, 2, False), (30, 45, 1, False), (50, 50, 3, False), (60, 25, 1, False)]
    for seed, (m, n, most, crowded) in enumerate([*sizes, (30, 30, 1, True)]):
        mentees, mentors = random_cohort(
            np.random.default_rng(seed), m, n, max_capacity=most, hour_pool=5
        )
        if crowded:
            hour = 167  # not in the shared pool: only reverse-mentor 0 meets then
            mentors.hours[0, hour] = True
            mentees.hours[:3] = False
            mentees.hours[:3, hour] = True

        problem, solution = solve(mentees, mentors, protect=True)

        assert solution.threshold == bottleneck_by_every_distinct_score(problem)
        assert min(solution.scores) == solution.threshold
        plain = solve(mentees, mentors)[1]
        assert len(solution.pairs) == len(plain.pairs)
        if crowded:
            assert len(solution.pairs) < min(m, n)
