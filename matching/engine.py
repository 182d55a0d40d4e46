"""The matching engine: pure NumPy/SciPy over whole cohorts, no database.

Scores every mentee × reverse-mentor pair on several criteria in [0, 1], forbids the pairs the
hard rules rule out (an infinite cost, never a large number: with infinity the solver cannot
quietly pick a forbidden pair), and finds the exact optimum with ``linear_sum_assignment``:

1. as many pairs as the rules allow (a feasibility check names who cannot be placed);
2. optionally, the highest lowest-pair score every such matching can reach ("protect the
   worst-off");
3. the largest total score, with a small penalty on each extra place of a reverse-mentor so
   load spreads, and a small bonus for keeping previous pairs so a re-run does not reshuffle.

``matching/services.py`` loads cohorts into ``Side`` arrays and saves the results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np

from matching import assignment
from matching.assignment import Places, assign, blocks, cost_matrix, previous_cells, reachable

CRITERIA = ("objectives", "availability", "time_zone", "style", "mode", "departments")
DEFAULT_WEIGHTS = {
    "objectives": 0.40,
    "availability": 0.20,
    "time_zone": 0.10,
    "style": 0.10,
    "mode": 0.10,
    "departments": 0.10,
}
RANK_WEIGHTS = np.array([1.0, 0.7, 0.5, 0.4, 0.3])  # 1st choice counts most
HOURS_FOR_FULL_AVAILABILITY = 4  # four shared hours a week leave room to reschedule
EXTRA_PLACE_PENALTY = 0.02
KEEP_PAIR_BONUS = 0.02

# Meeting modes as codes: in person, video, either.
IN_PERSON, VIDEO, EITHER = 0, 1, 2

RULES = {
    "reporting_line": "in one reporting line",
    "excluded": "excluded by the programme manager",
    # Never says which of the two asked, nor anything they wrote.
    "avoided": "one of the two asked at intake not to be paired with the other",
    "off_limits": "a wanted topic is off-limits for the other",
    "no_shared_time": "no shared hour in the week",
    "no_capacity": "no place left (capacity or load cap)",
}


@dataclass
class Side:
    """One side of a cohort as arrays, one row per person (capacity only for mentors).

    - ``wants``: rank of each road-map topic in the person's objectives (0 = not wanted,
      1 = first choice …), shape (people, topics)
    - ``shares``, ``off_limits``: bool (people, topics)
    - ``hours``: bool (people, 168) hours of the week in UTC when they can meet
    - ``utc_offset``: hours east of UTC
    - ``communication``, ``feedback``, ``mode``, ``department``: integer codes (-1 = unknown)
    - ``line_entry``, ``line_exit``: depth-first numbers in the organisation tree, so that
      "A is in B's line" is ``entry[B] <= entry[A] and exit[A] <= exit[B]``
    """

    ids: np.ndarray
    wants: np.ndarray
    shares: np.ndarray
    off_limits: np.ndarray
    hours: np.ndarray
    utc_offset: np.ndarray
    communication: np.ndarray
    feedback: np.ndarray
    mode: np.ndarray
    department: np.ndarray
    line_entry: np.ndarray
    line_exit: np.ndarray
    capacity: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class Constraints:
    """Index pairs (mentee row, mentor row) the manager has ruled on, and those either
    person ruled out at intake (``avoided``: index arrays, one entry per pair)."""

    excluded: set[tuple[int, int]] = field(default_factory=set)
    avoided: tuple[np.ndarray, np.ndarray] = field(
        default_factory=lambda: (np.zeros(0, dtype=int), np.zeros(0, dtype=int))
    )
    locked: set[tuple[int, int]] = field(default_factory=set)
    previous: set[tuple[int, int]] = field(default_factory=set)
    allow_without_shared_time: bool = False


@dataclass
class Problem:
    mentees: Side
    mentors: Side
    criteria: dict[str, PairTable]  # each criterion in [0, 1], read pair by pair
    score: np.ndarray  # weighted sum, (mentees, mentors) float32 in [0, 1]
    shared_hours: np.ndarray  # (mentees, mentors) float32 whole numbers
    forbidden: dict[str, np.ndarray]  # rule -> bool (mentees, mentors)
    allowed: np.ndarray  # bool (mentees, mentors)
    capacity: np.ndarray  # places per mentor left for the solver


@dataclass
class Solution:
    pairs: list[tuple[int, int]]  # (mentee row, mentor row), locked pairs included
    scores: list[float]
    total: float
    lowest: float | None
    threshold: float | None  # the protected lowest score, when asked for
    unmatched_mentees: list[int]
    unmatched_mentors: list[int]  # mentors with no pair at all
    solver_matrix: np.ndarray | None = None  # the cost the solver minimised (for the benchmark)


def build_problem(
    mentees: Side, mentors: Side, *, weights: dict[str, float], constraints: Constraints
) -> Problem:
    """Scores and rules for every pair, in a handful of passes over (mentees × mentors).

    Every criterion except availability is a sum over per-person factors (topics, or one-hot
    codes of a zone, style, mode or department against a small table), so the weighted sum
    of all of them is one matrix product; availability adds ``min(shared, 4) / 4`` in place.
    The criteria themselves are kept as those factors (``PairTable``) and read pair by pair
    for the explanations: at 5,000 a side six full matrices would cost 600 MB and most of
    the time."""
    m, n = len(mentees), len(mentors)
    total_weight = sum(max(weights.get(c, 0.0), 0.0) for c in CRITERIA) or 1.0
    weight = {c: max(weights.get(c, 0.0), 0.0) / total_weight for c in CRITERIA}

    left_objectives, right_objectives = _objective_factors(mentees, mentors)
    criteria: dict[str, PairTable] = {"objectives": _Product(left_objectives, right_objectives)}
    left, right = [left_objectives * np.float32(weight["objectives"])], [right_objectives]
    for name, a, b, fit in (
        ("time_zone", mentees.utc_offset, mentors.utc_offset, _time_zone),
        ("style", _style_code(mentees), _style_code(mentors), _style_fit),
        ("mode", mentees.mode, mentors.mode, _mode_fit),
        ("departments", mentees.department, mentors.department, _different),
    ):
        table = _Lookup.of(a, b, fit)
        criteria[name] = table
        # table[ia[i], ib[j]] = (table[ia] @ onehot(ib).T)[i, j]
        left.append(table.table[table.rows] * np.float32(weight[name]))
        right.append(np.eye(table.table.shape[1], dtype=np.float32)[table.cols])
    score = np.concatenate(left, axis=1) @ np.concatenate(right, axis=1).T

    # Only the hours someone on each side can meet (office hours: a third of the week).
    hours = np.flatnonzero(mentees.hours.any(axis=0) & mentors.hours.any(axis=0))
    shared = mentees.hours[:, hours].astype(np.float32) @ mentors.hours[:, hours].T.astype(
        np.float32
    )
    criteria["availability"] = _Availability(shared)
    if weight["availability"]:
        factor = np.float32(weight["availability"] / HOURS_FOR_FULL_AVAILABILITY)
        for block in blocks(m):  # a small temporary, reused, not one as large as the scores
            part = np.minimum(shared[block], np.float32(HOURS_FOR_FULL_AVAILABILITY))
            part *= factor
            score[block] += part

    capacity = np.asarray(
        mentors.capacity if mentors.capacity is not None else np.ones(n), dtype=int
    )
    shape = (m, n)
    forbidden = {
        "reporting_line": _same_line(mentees, mentors),
        "excluded": _pairs_mask(constraints.excluded, shape),
        "avoided": _rows_cols_mask(constraints.avoided, shape),
        "off_limits": _off_limits(mentees, mentors),
        # Read-only broadcast views: no (mentees × mentors) copy for a per-column rule.
        "no_shared_time": (
            np.broadcast_to(np.False_, shape)
            if constraints.allow_without_shared_time
            else shared == 0
        ),
        "no_capacity": np.broadcast_to(capacity <= 0, shape),
    }
    allowed = ~forbidden["reporting_line"]
    # allowed > forbidden is "allowed and not forbidden", with no ~mask temporary.
    np.greater(allowed, forbidden["off_limits"], out=allowed)
    if not constraints.allow_without_shared_time:
        np.greater(allowed, forbidden["no_shared_time"], out=allowed)
    allowed[:, capacity <= 0] = False
    for rows, cols in (_pairs_index(constraints.excluded), constraints.avoided):
        allowed[rows, cols] = False
    return Problem(
        mentees=mentees,
        mentors=mentors,
        criteria=criteria,
        score=score,
        shared_hours=shared,
        forbidden=forbidden,
        allowed=allowed,
        capacity=capacity,
    )


def solve(
    problem: Problem, *, constraints: Constraints, protect_worst_off: bool = False
) -> Solution:
    """The optimum under the rules. Locked pairs are kept as they are (even if a rule now
    breaks them: the manager decided) and take a place of their mentor.

    The solver sees one row per mentee not locked and one column per place left: a
    reverse-mentor with three places and one locked pair owns two columns, one with no place
    left owns none. ``places.owner`` maps every column back to its person, and nothing below
    assumes one column per person."""
    m, n = problem.score.shape
    locked = sorted(constraints.locked)
    free_rows = np.ones(m, dtype=bool)
    held = np.zeros(n, dtype=int)  # places the locked pairs already take
    for i, j in locked:
        free_rows[i] = False
        held[j] += 1
    left = np.maximum(problem.capacity - held, 0)
    # Who has no allowed partner at all on the other side is left out of the solver's matrix:
    # no matching can place them, and with them in it the solver first fails (after most of
    # its work) and then needs a larger matrix to leave them out.
    free_rows &= reachable(problem.allowed, columns=left > 0, axis=1)
    left[~reachable(problem.allowed, rows=free_rows, axis=0)] = 0
    places = Places.of(left, held)
    rows = np.flatnonzero(free_rows)

    previous = previous_cells(_pairs_index(constraints.previous), free_rows, places)
    cost = cost_matrix(
        problem.score,
        problem.allowed,
        rows,
        places,
        previous,
        penalty=EXTRA_PLACE_PENALTY,
        bonus=KEEP_PAIR_BONUS,
    )

    threshold = None
    if protect_worst_off and cost.size:
        threshold = assignment.protect_worst_off(
            problem.score, problem.allowed, cost, rows, places, penalty=EXTRA_PLACE_PENALTY
        )

    solver_rows, solver_cols, matrix = assign(cost)
    found = zip(rows[solver_rows].tolist(), places.owner[solver_cols].tolist(), strict=True)
    pairs = sorted([*locked, *found])
    index = np.array(pairs, dtype=int).reshape(-1, 2)
    scores = problem.score[index[:, 0], index[:, 1]].tolist()
    matched_mentees = {i for i, _ in pairs}
    matched_mentors = {j for _, j in pairs}
    return Solution(
        pairs=pairs,
        scores=scores,
        total=float(sum(scores)),
        lowest=min(scores) if scores else None,
        threshold=threshold,
        unmatched_mentees=[i for i in range(m) if i not in matched_mentees],
        unmatched_mentors=[j for j in range(n) if j not in matched_mentors],
        solver_matrix=matrix,
    )


def blocking_rules(
    problem: Problem, *, mentee: int | None = None, mentor: int | None = None
) -> dict[str, int]:
    """For one person, how many possible partners each rule rules out."""
    select = (mentee, slice(None)) if mentee is not None else (slice(None), mentor)
    return {
        rule: int(mask[select].sum())
        for rule, mask in problem.forbidden.items()
        if mask[select].any()
    }


# --- criteria ---------------------------------------------------------------------------------


Index: TypeAlias = np.ndarray | int | np.integer  # a row or a column, or several


class PairTable:
    """A criterion for every pair, computed when read: ``table[i, j]`` for one pair,
    ``table[i, :]`` or ``table[:, j]`` for a row or a column, ``table[:, :]`` for all."""

    def __getitem__(self, key: tuple) -> np.ndarray | np.float32:
        i, j = key
        if isinstance(i, int | np.integer) and isinstance(j, int | np.integer):
            return self._at(i, j)  # one pair: what the explanations read, thousands of times
        rows, cols = np.arange(self.shape[0])[i], np.arange(self.shape[1])[j]
        if np.ndim(rows) and np.ndim(cols):
            rows, cols = np.ix_(rows, cols)
        return self._at(rows, cols)

    shape: tuple[int, int]

    def pairs(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """The criterion for the pairs (rows[k], cols[k]), all at once."""
        return self._at(np.asarray(rows), np.asarray(cols))

    def _at(self, rows: Index, cols: Index) -> np.ndarray:
        raise NotImplementedError


class _Product(PairTable):
    """``left[i] · right[j]``."""

    def __init__(self, left: np.ndarray, right: np.ndarray) -> None:
        self.left, self.right = left, right
        self.shape = (len(left), len(right))

    def _at(self, rows: Index, cols: Index) -> np.ndarray:
        return (self.left[rows] * self.right[cols]).sum(axis=-1)


class _Lookup(PairTable):
    """``table[rows[i], cols[j]]``: a cohort has a handful of distinct zones, styles, modes
    and departments, not thousands, so the fit is computed once per pair of values."""

    def __init__(self, table: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> None:
        self.table, self.rows, self.cols = table, rows, cols
        self.shape = (len(rows), len(cols))

    @classmethod
    def of(cls, a: np.ndarray, b: np.ndarray, fit: Callable[..., np.ndarray]) -> _Lookup:
        ua, ia = np.unique(a, return_inverse=True)
        ub, ib = np.unique(b, return_inverse=True)
        table = np.asarray(fit(ua[:, None], ub[None, :]), dtype=np.float32)
        return cls(table, ia.reshape(-1), ib.reshape(-1))

    def _at(self, rows: Index, cols: Index) -> np.ndarray:
        return self.table[self.rows[rows], self.cols[cols]]


class _Availability(PairTable):
    def __init__(self, shared: np.ndarray) -> None:
        self.shared = shared
        self.shape = shared.shape

    def _at(self, rows: Index, cols: Index) -> np.ndarray:
        return np.minimum(self.shared[rows, cols] / HOURS_FOR_FULL_AVAILABILITY, 1.0)


def _objective_factors(mentees: Side, mentors: Side) -> tuple[np.ndarray, np.ndarray]:
    """How well what one side wants to learn is met by what the other can share; ranked
    choices count more. The executive's learning counts twice the reverse-mentor's, and is
    the whole score where the reverse-mentor named no objective. As factors: the criterion
    is ``left @ right.T``, the executive's part in the first half of the columns."""
    mentee_weight, mentee_total = _rank_weights(mentees.wants)
    mentor_weight, mentor_total = _rank_weights(mentors.wants)
    has_goals = mentor_total > 0
    left = np.concatenate(
        [
            mentee_weight / np.where(mentee_total > 0, mentee_total, 1)[:, None],
            mentees.shares.astype(np.float32),
        ],
        axis=1,
    )
    right = np.concatenate(
        [
            mentors.shares * np.where(has_goals, 2 / 3, 1)[:, None],
            mentor_weight
            / np.where(has_goals, mentor_total, 1)[:, None]
            * np.where(has_goals, 1 / 3, 0)[:, None],
        ],
        axis=1,
    )
    return left.astype(np.float32), right.astype(np.float32)


def _rank_weights(wants: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ranks = np.clip(wants, 0, len(RANK_WEIGHTS)).astype(int)
    weight = np.where(ranks > 0, RANK_WEIGHTS[np.maximum(ranks - 1, 0)], 0.0).astype(np.float32)
    return weight, weight.sum(axis=1)


def _time_zone(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    gap = np.abs(a - b) % 24
    return 1 - np.minimum(gap, 24 - gap) / 12


def _style_code(side: Side) -> np.ndarray:
    return (side.communication + 1) * 8 + (side.feedback + 1)


def _style_fit(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 for the same communication and feedback styles, ½ for both different or unknown:
    a mismatch is a nudge, not a rule."""

    def same(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (x == y) & (x > 0)

    return 0.5 + 0.25 * same(a // 8, b // 8) + 0.25 * same(a % 8, b % 8)


def _mode_fit(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    clash = ((a == IN_PERSON) & (b == VIDEO)) | ((a == VIDEO) & (b == IN_PERSON))
    return np.where(clash, 0.0, 1.0)


def _different(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return ~((a == b) & (a >= 0))


# --- rules ------------------------------------------------------------------------------------


def _off_limits(mentees: Side, mentors: Side) -> np.ndarray:
    """Pairs where a topic one wants is off-limits for the other, either way round. Few
    people rule any topic out, so each way is a product over only them: their columns
    (reverse-mentors) or rows (mentees) of a matrix that starts all False."""
    result = np.zeros((len(mentees), len(mentors)), dtype=bool)
    ruling = np.flatnonzero(mentors.off_limits.any(axis=1))
    if len(ruling):
        wanted = (mentees.wants > 0).astype(np.float32)
        result[:, ruling] = wanted @ mentors.off_limits[ruling].T.astype(np.float32) > 0
    ruling = np.flatnonzero(mentees.off_limits.any(axis=1))
    if len(ruling):
        wanted = (mentors.wants > 0).astype(np.float32)
        result[ruling] |= mentees.off_limits[ruling].astype(np.float32) @ wanted.T > 0
    return result


def _same_line(mentees: Side, mentors: Side) -> np.ndarray:
    """Pairs in one reporting line. B is below A exactly when B's entry number falls in A's
    [entry, exit] interval, so each person's subordinates on the other side are one range of
    that side sorted by entry: the work grows with the pairs found (a few per person in a
    real organisation), not with mentees × mentors."""
    mask = np.zeros((len(mentees), len(mentors)), dtype=bool)
    for above, below, mentee_above in ((mentees, mentors, True), (mentors, mentees, False)):
        upper = np.flatnonzero(above.line_entry >= 0)
        lower = np.flatnonzero(below.line_entry >= 0)
        lower = lower[np.argsort(below.line_entry[lower], kind="stable")]
        entries = below.line_entry[lower]
        start = np.searchsorted(entries, above.line_entry[upper], side="left")
        stop = np.searchsorted(entries, above.line_exit[upper], side="right")
        count = stop - start
        first = np.cumsum(count) - count
        a = np.repeat(upper, count)
        b = lower[np.repeat(start, count) + np.arange(count.sum()) - np.repeat(first, count)]
        inside = below.line_exit[b] <= above.line_exit[a]
        a, b = a[inside], b[inside]
        if mentee_above:
            mask[a, b] = True
        else:
            mask[b, a] = True
    return mask


def _rows_cols_mask(index: tuple[np.ndarray, np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    rows, cols = index
    if not len(rows):
        return np.broadcast_to(np.False_, shape)
    mask = np.zeros(shape, dtype=bool)
    mask[rows, cols] = True
    return mask


def _pairs_index(pairs: set[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    index = np.array(sorted(pairs), dtype=int).reshape(-1, 2)
    return index[:, 0], index[:, 1]


def _pairs_mask(pairs: set[tuple[int, int]], shape: tuple[int, int]) -> np.ndarray:
    return _rows_cols_mask(_pairs_index(pairs), shape)
