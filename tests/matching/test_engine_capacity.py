"""Reverse-mentors with different numbers of places: the solver's columns are places, and each
maps back to the person who owns it."""

import numpy as np

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
