"""The matching engine: pure NumPy/SciPy over whole cohorts, no database.

Scores every mentee × reverse-mentor pair on several criteria in [0, 1], forbids the pairs the
hard rules rule out (as -inf, never a large negative number: with -inf the solver cannot quietly
pick a forbidden pair), and finds the exact optimum with ``linear_sum_assignment``:

1. as many pairs as the rules allow (a feasibility check names who cannot be placed);
2. optionally, the highest lowest-pair score every such matching can reach ("protect the
   worst-off");
3. the largest total score, with a small penalty on each extra place of a reverse-mentor so
   load spreads, and a small bonus for keeping previous pairs so a re-run does not reshuffle.

``matching/services.py`` loads cohorts into ``Side`` arrays and saves the results.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_array
from scipy.sparse.csgraph import maximum_bipartite_matching

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
    criteria: dict[str, np.ndarray]  # each (mentees, mentors) float32 in [0, 1]
    score: np.ndarray  # weighted sum, (mentees, mentors) float64 in [0, 1]
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
    solver_matrix: np.ndarray | None = None  # what the solver was given (for the benchmark)


def build_problem(
    mentees: Side, mentors: Side, *, weights: dict[str, float], constraints: Constraints
) -> Problem:
    criteria = {
        "objectives": _objectives(mentees, mentors),
        "time_zone": _pairwise(mentees.utc_offset, mentors.utc_offset, _time_zone),
        "style": _pairwise(_style_code(mentees), _style_code(mentors), _style_fit),
        "mode": _pairwise(mentees.mode, mentors.mode, _mode_fit),
        "departments": _pairwise(mentees.department, mentors.department, _different),
    }
    shared = mentees.hours.astype(np.float32) @ mentors.hours.T.astype(np.float32)
    criteria["availability"] = np.minimum(shared / HOURS_FOR_FULL_AVAILABILITY, 1.0).astype(
        np.float32
    )
    total_weight = sum(max(weights.get(c, 0.0), 0.0) for c in CRITERIA) or 1.0
    score = np.zeros((len(mentees), len(mentors)), dtype=np.float32)
    for name in CRITERIA:
        w = max(weights.get(name, 0.0), 0.0) / total_weight
        if w:
            score += np.float32(w) * criteria[name]

    capacity = np.asarray(
        mentors.capacity if mentors.capacity is not None else np.ones(len(mentors)), dtype=int
    )
    forbidden = {
        "reporting_line": _same_line(mentees, mentors),
        "excluded": (
            _index_mask(constraints.excluded, score.shape)
            if constraints.excluded
            else np.broadcast_to(np.False_, score.shape)
        ),
        "avoided": _rows_cols_mask(constraints.avoided, score.shape),
        "off_limits": (
            (mentees.wants > 0).astype(np.float32) @ mentors.off_limits.T.astype(np.float32)
            + mentees.off_limits.astype(np.float32) @ (mentors.wants > 0).T.astype(np.float32)
        )
        > 0,
        # Read-only broadcast views: no (mentees × mentors) copy for a per-column rule.
        "no_shared_time": (
            np.broadcast_to(np.False_, score.shape)
            if constraints.allow_without_shared_time
            else shared == 0
        ),
        "no_capacity": np.broadcast_to(capacity <= 0, score.shape),
    }
    allowed = np.ones(score.shape, dtype=bool)
    for mask in forbidden.values():
        np.logical_and(allowed, ~mask, out=allowed)
    return Problem(
        mentees=mentees,
        mentors=mentors,
        criteria=criteria,
        score=score.astype(np.float64),
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
    places = _Places.of(np.maximum(problem.capacity - held, 0), held)
    rows = np.flatnonzero(free_rows)

    score = _restrict(problem.score, rows, places, m, n)
    allowed = _restrict(problem.allowed, rows, places, m, n)
    # The solver's matrix, in its own buffer (the solver must not see -inf in ``score``).
    value = np.where(allowed, score, -np.inf)
    if places.rank.any():
        value -= EXTRA_PLACE_PENALTY * places.rank[None, :]
    if constraints.previous:
        r, c = _previous_cells(constraints.previous, free_rows, places)
        value[r, c] += KEEP_PAIR_BONUS

    threshold = None
    if protect_worst_off:
        size = _max_matching_size(allowed)
        if size:
            threshold = _best_threshold(score, allowed, size)
            below = score < threshold
            allowed = allowed & ~below
            value[below] = -np.inf

    assignment, matrix = _assign(value, allowed)
    pairs = list(locked) + [(int(rows[r]), int(places.owner[c])) for r, c in assignment]
    pairs.sort()
    scores = [float(problem.score[i, j]) for i, j in pairs]
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


def solver_objective(problem: Problem, solution: Solution, *, constraints: Constraints) -> float:
    """The value the solver maximised, over all pairs (locked ones add the same to every
    matching): the scores, less ``EXTRA_PLACE_PENALTY`` times 0, 1, 2 … for a reverse-mentor's
    first, second, third … pair, plus ``KEEP_PAIR_BONUS`` for each previous pair kept. For
    tests that compare it with an exhaustive search."""
    load: dict[int, int] = {}
    value = 0.0
    for i, j in solution.pairs:
        value += problem.score[i, j] - EXTRA_PLACE_PENALTY * load.get(j, 0)
        value += KEEP_PAIR_BONUS * ((i, j) in constraints.previous)
        load[j] = load.get(j, 0) + 1
    return float(value)


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


def _objectives(mentees: Side, mentors: Side) -> np.ndarray:
    """How well what one side wants to learn is met by what the other can share; ranked
    choices count more. The executive's learning counts twice the reverse-mentor's."""
    mentee_weight, mentee_total = _rank_weights(mentees.wants)
    mentor_weight, mentor_total = _rank_weights(mentors.wants)
    # Both products come out mentees × mentors, in memory order: no transposed temporaries.
    mentee_fit = mentee_weight @ mentors.shares.T.astype(np.float32)
    mentee_fit /= np.where(mentee_total > 0, mentee_total, 1)[:, None]
    mentor_fit = mentees.shares.astype(np.float32) @ mentor_weight.T
    mentor_fit /= np.where(mentor_total > 0, mentor_total, 1)[None, :]
    # Where the reverse-mentor named no objective, the executive's fit is the whole score.
    has_goals = mentor_total > 0
    mentee_fit *= np.where(has_goals, 2 / 3, 1).astype(np.float32)[None, :]
    mentor_fit *= np.where(has_goals, 1 / 3, 0).astype(np.float32)[None, :]
    mentee_fit += mentor_fit
    return mentee_fit


def _rank_weights(wants: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ranks = np.clip(wants, 0, len(RANK_WEIGHTS)).astype(int)
    weight = np.where(ranks > 0, RANK_WEIGHTS[np.maximum(ranks - 1, 0)], 0.0).astype(np.float32)
    return weight, weight.sum(axis=1)


def _pairwise(a: np.ndarray, b: np.ndarray, fit) -> np.ndarray:
    """``fit`` for every pair, computed once per pair of distinct values and then looked up:
    a cohort has a handful of zones, styles, modes and departments, not thousands."""
    ua, ia = np.unique(a, return_inverse=True)
    ub, ib = np.unique(b, return_inverse=True)
    table = np.asarray(fit(ua[:, None], ub[None, :]), dtype=np.float32)
    return table[ia][:, ib]


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


def _same_line(mentees: Side, mentors: Side) -> np.ndarray:
    a_in, a_out = mentees.line_entry[:, None], mentees.line_exit[:, None]
    b_in, b_out = mentors.line_entry[None, :], mentors.line_exit[None, :]
    known = (a_in >= 0) & (b_in >= 0)
    a_above_b = (a_in <= b_in) & (b_out <= a_out)
    b_above_a = (b_in <= a_in) & (a_out <= b_out)
    return known & (a_above_b | b_above_a)


def _rows_cols_mask(index: tuple[np.ndarray, np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    rows, cols = index
    if not len(rows):
        return np.broadcast_to(np.False_, shape)
    mask = np.zeros(shape, dtype=bool)
    mask[rows, cols] = True
    return mask


def _index_mask(pairs: set[tuple[int, int]], shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    if pairs:
        rows, cols = zip(*pairs, strict=True)
        mask[list(rows), list(cols)] = True
    return mask


# --- solving ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Places:
    """The solver's columns: one per place left. ``owner[c]`` is the reverse-mentor (row of
    the mentor side) who owns column c, ``rank[c]`` which of their pairs it would be (0 for
    the first, counting locked pairs), and mentor j's columns are ``first[j]`` to
    ``first[j] + count[j] - 1``."""

    owner: np.ndarray
    rank: np.ndarray
    first: np.ndarray
    count: np.ndarray

    @classmethod
    def of(cls, count: np.ndarray, held: np.ndarray) -> _Places:
        owner = np.repeat(np.arange(len(count)), count)
        first = np.cumsum(count) - count
        rank = np.arange(len(owner)) - first[owner] + held[owner]
        return cls(owner=owner, rank=rank, first=first, count=count)

    def one_each(self, n: int) -> bool:
        return len(self.owner) == n and bool((self.count == 1).all())


def _restrict(matrix: np.ndarray, rows: np.ndarray, places: _Places, m: int, n: int) -> np.ndarray:
    """``matrix`` (mentees × mentors) as the solver's rows × columns: the array itself when
    every mentee is free and every mentor has exactly one place, else a gathered copy."""
    same_rows, same_cols = len(rows) == m, places.one_each(n)
    if same_rows and same_cols:
        return matrix
    if same_rows:
        return np.take(matrix, places.owner, axis=1)
    if same_cols:
        return np.take(matrix, rows, axis=0)
    return matrix[np.ix_(rows, places.owner)]


def _previous_cells(
    previous: set[tuple[int, int]], free_rows: np.ndarray, places: _Places
) -> tuple[np.ndarray, np.ndarray]:
    """The solver's cells (row, column) of every place of a previous partner."""
    pairs = np.array(sorted(previous), dtype=int).reshape(-1, 2)
    i, j = pairs[:, 0], pairs[:, 1]
    keep = free_rows[i] & (places.count[j] > 0)
    i, j = i[keep], j[keep]
    row_of = np.cumsum(free_rows) - 1  # mentee row -> solver row
    per_pair = places.count[j]
    starts = np.cumsum(per_pair) - per_pair
    offset = np.arange(per_pair.sum()) - np.repeat(starts, per_pair)
    return np.repeat(row_of[i], per_pair), np.repeat(places.first[j], per_pair) + offset


def _max_matching_size(allowed: np.ndarray) -> int:
    if allowed.size == 0 or not allowed.any():
        return 0
    match = maximum_bipartite_matching(csr_array(allowed), perm_type="column")
    return int((match >= 0).sum())


def _best_threshold(score: np.ndarray, allowed: np.ndarray, size: int) -> float:
    """The highest score t such that a matching of ``size`` pairs exists using only pairs
    scoring at least t: a binary search over the distinct scores."""
    candidates = np.unique(score[allowed])
    lo, hi = 0, len(candidates) - 1  # candidates[lo] always feasible
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _max_matching_size(allowed & (score >= candidates[mid])) >= size:
            lo = mid
        else:
            hi = mid - 1
    return float(candidates[lo])


def _assign(
    value: np.ndarray, allowed: np.ndarray
) -> tuple[list[tuple[int, int]], np.ndarray | None]:
    """The best assignment of as many rows as the rules allow. ``value`` holds -inf where
    ``allowed`` is False."""
    rows, cols = allowed.shape
    if not rows or not cols:
        return [], None
    matrix = value
    try:
        # Usually every row (or every column) can be matched: solve at once. With -inf for
        # forbidden pairs the solver raises rather than pick one when it cannot.
        r, c = linear_sum_assignment(matrix, maximize=True)
    except ValueError:
        size = _max_matching_size(allowed)
        if size == 0:
            return [], None
        # Add one "leave unmatched" column per row, worth 0, and lift every real pair by B:
        # with values spread over R = max - min, one more pair (worth at least B) outweighs
        # any difference in value between matchings of fewer pairs (at most (size - 1) R),
        # so the solver first matches as many as the rules allow, then maximises the value.
        finite = value[allowed]
        low = float(finite.min())
        lift = size * (float(finite.max()) - low) + 1.0 - low
        matrix = np.hstack([value + lift, np.zeros((rows, rows))])
        r, c = linear_sum_assignment(matrix, maximize=True)
    pairs = [(int(i), int(j)) for i, j in zip(r, c, strict=True) if j < cols and allowed[i, j]]
    return pairs, matrix
