"""Plain, obviously right versions of what the code computes fast or only implies: the tests
compare the code with them."""

from collections.abc import Hashable

from matching.engine import EXTRA_PLACE_PENALTY, KEEP_PAIR_BONUS, Constraints, Problem, Solution
from programmes.reporting_lines import ManagerMap, chain_above


def solver_objective(problem: Problem, solution: Solution, *, constraints: Constraints) -> float:
    """The value the solver maximised, over all pairs (locked ones add the same to every
    matching): the scores, less ``EXTRA_PLACE_PENALTY`` times 0, 1, 2 … for a reverse-mentor's
    first, second, third … pair, plus ``KEEP_PAIR_BONUS`` for each previous pair kept.
    The brute-force tests compare it with an exhaustive search."""
    load: dict[int, int] = {}
    value = 0.0
    for i, j in solution.pairs:
        value += problem.score[i, j] - EXTRA_PLACE_PENALTY * load.get(j, 0)
        value += KEEP_PAIR_BONUS * ((i, j) in constraints.previous)
        load[j] = load.get(j, 0) + 1
    return float(value)


def in_same_line(a: Hashable, b: Hashable, managers: ManagerMap) -> bool:
    """True when either person is anywhere in the other's management chain."""
    return a == b or a in chain_above(b, managers) or b in chain_above(a, managers)
