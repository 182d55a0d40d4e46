"""The solver's side of the matching engine, on plain arrays: its cost matrix (one column per
place left, built a block of rows at a time), the search for the protected lowest score, and
the assignment itself. ``matching.engine`` owns the scores, the rules and what they mean, and
calls these; nothing here knows about people."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_array
from scipy.sparse.csgraph import maximum_bipartite_matching

# Rows at a time for passes over (mentees × mentors) that need a temporary: fresh memory is
# slow to touch the first time (on a virtual machine, more than the arithmetic), so a small
# block reused beats a temporary as large as the matrix.
BLOCK_ROWS = 512


def blocks(rows: int) -> list[slice]:
    return [slice(start, start + BLOCK_ROWS) for start in range(0, rows, BLOCK_ROWS)]


@dataclass(frozen=True)
class Places:
    """The solver's columns: one per place left. ``owner[c]`` is the reverse-mentor (row of
    the mentor side) who owns column c and ``rank[c]`` which of their pairs it would be (0
    for the first, counting locked pairs). Columns come in rounds: first one column for each
    reverse-mentor with a place left, in order, then one for each with a second place left,
    and so on; so with one place each the columns are the reverse-mentors themselves, and
    the extra places (the only ones with a penalty) are one block at the end. Mentor j's
    columns are ``by_owner[first[j]:first[j] + count[j]]``."""

    owner: np.ndarray
    rank: np.ndarray
    count: np.ndarray
    first: np.ndarray
    by_owner: np.ndarray

    @classmethod
    def of(cls, count: np.ndarray, held: np.ndarray) -> Places:
        rounds = [np.flatnonzero(count > k) for k in range(int(count.max(initial=0)))]
        owner = np.concatenate(rounds) if rounds else np.zeros(0, dtype=int)
        rank = np.concatenate(
            [held[r] + k for k, r in enumerate(rounds)] if rounds else [np.zeros(0, dtype=int)]
        )
        return cls(
            owner=owner,
            rank=rank,
            count=count,
            first=np.cumsum(count) - count,
            by_owner=np.argsort(owner, kind="stable"),
        )


def cost_matrix(
    score: np.ndarray,
    allowed: np.ndarray,
    rows: np.ndarray,
    places: Places,
    previous: tuple[np.ndarray, np.ndarray],
    *,
    penalty: float,
    bonus: float,
) -> np.ndarray:
    """The solver's cost matrix, rows × columns: minus each pair's value, +inf where a rule
    forbids the pair. A pair's value is its score, less ``penalty`` times the place's
    rank, plus ``bonus`` on the ``previous`` cells (solver row, column),
    worked out in float32 as the scores are. Built a block of rows at a time (a ``where``
    over the problem's arrays, a gather of the place columns unless every reverse-mentor has
    exactly one, the penalty and the bonus) and negated into float64: given exactly the
    array it works on, the solver copies nothing (given float32 to maximise, it made two
    copies as large as this one)."""
    m, n = score.shape
    cost = np.empty((len(rows), len(places.owner)))
    ranked = np.flatnonzero(places.rank)
    # Mostly the block of extra places at the end: the penalty touches only those columns.
    start = int(ranked[0]) if len(ranked) and ranked[-1] - ranked[0] + 1 == len(ranked) else 0
    # Usually the first n columns are the n reverse-mentors in order, with no penalty: they
    # are the ``where`` itself, and only the extra places are gathered.
    head = n if bool((places.count > 0).all()) and (start >= n or not len(ranked)) else 0
    penalties = penalty * places.rank[start:]
    order = np.argsort(previous[0], kind="stable")
    bonus_rows, bonus_cols = previous[0][order], previous[1][order]
    whole_rows = len(rows) == m
    for block in blocks(len(rows)):
        source = block if whole_rows else rows[block]
        part = np.where(allowed[source], score[source], -np.inf)
        tail = np.take(part, places.owner[head:], axis=1)
        if len(ranked):
            tail[:, start - head :] -= penalties
        first, last = np.searchsorted(bonus_rows, [block.start, block.start + len(part)])
        r, c = bonus_rows[first:last] - block.start, bonus_cols[first:last]
        part[r[c < head], c[c < head]] += bonus
        tail[r[c >= head], c[c >= head] - head] += bonus
        if head:
            np.negative(part, out=cost[block, :head])
        np.negative(tail, out=cost[block, head:])
    return cost


def previous_cells(
    previous: tuple[np.ndarray, np.ndarray], free_rows: np.ndarray, places: Places
) -> tuple[np.ndarray, np.ndarray]:
    """The solver's cells (row, column) of every place of a previous partner."""
    i, j = previous
    keep = free_rows[i] & (places.count[j] > 0)
    i, j = i[keep], j[keep]
    row_of = np.cumsum(free_rows) - 1  # mentee row -> solver row
    per_pair = places.count[j]
    starts = np.cumsum(per_pair) - per_pair
    offset = np.arange(per_pair.sum()) - np.repeat(starts, per_pair)
    columns = places.by_owner[np.repeat(places.first[j], per_pair) + offset]
    return np.repeat(row_of[i], per_pair), columns


def max_matching_size(allowed: np.ndarray) -> int:
    if allowed.size == 0 or not allowed.any():
        return 0
    match = maximum_bipartite_matching(csr_array(allowed), perm_type="column")
    return int((match >= 0).sum())


def reachable(
    allowed: np.ndarray,
    *,
    axis: int,
    rows: np.ndarray | None = None,
    columns: np.ndarray | None = None,
) -> np.ndarray:
    """For each row (axis=1) or column (axis=0): is any pair allowed with the rows or
    columns given (all when None)? Slices only when some are left out."""
    if rows is not None and not rows.all():
        allowed = allowed[rows]
    if columns is not None and not columns.all():
        allowed = allowed[:, columns]
    return cast(np.ndarray, allowed.any(axis=axis))


def protect_worst_off(
    score: np.ndarray,
    allowed: np.ndarray,
    cost: np.ndarray,
    rows: np.ndarray,
    places: Places,
    *,
    penalty: float,
) -> float | None:
    """Forbid, in the solver's cost matrix, every pair scoring below the best bottleneck: the
    highest score t such that a matching of as many pairs as the rules allow exists using
    only pairs scoring at least t. Returns t (None when no pair is allowed).

    The search never lists all allowed pairs (at 5,000 a side, ten million): it first goes
    down from an upper bound of t in growing steps, listing only the pairs scoring at least
    the step's value, until those pairs alone match as many as possible; then it searches
    among the distinct scores of that (small) list."""
    m, n = score.shape
    if len(rows) < m:
        score, allowed = score[rows], allowed[rows]
    has_place = places.count > 0
    if not has_place.all():
        allowed = allowed & has_place
    shape = cost.shape
    most = min(shape)  # the largest size any matching could have
    # Everyone on the smaller side is matched in a matching of that size, so each needs a
    # pair scoring at least t: t is at most the lowest of their best scores. Read from the
    # solver's matrix, whose values are the scores less at most the penalty of the highest
    # place, plus a bonus: a bound, not the exact value, is all this needs.
    best = -cost.min(axis=1 if shape[0] <= shape[1] else 0)
    if not np.isfinite(best).any():
        return None
    bound = float(best.min()) + penalty * int(places.rank.max(initial=0)) + 1e-6
    step = 0.01
    while True:
        floor = bound if bound > 0 else -np.inf  # scores are never below 0
        r, c, cell_score = _cells_at_least(score, allowed, places, floor)
        size = _edges_matching_size(r, c, shape)
        if size == most or floor == -np.inf:
            break
        bound, step = bound - step, step * 2
    candidates = np.unique(cell_score)
    lo, hi = 0, len(candidates) - 1  # candidates[lo] always feasible
    while lo < hi:
        mid = (lo + hi + 1) // 2
        keep = cell_score >= candidates[mid]
        if _edges_matching_size(r[keep], c[keep], shape) >= size:
            lo = mid
            # The answer is at least this: the pairs below it never count again.
            r, c, cell_score = r[keep], c[keep], cell_score[keep]
        else:
            hi = mid - 1
    threshold = candidates[lo]
    below = score < threshold
    everyone = int(has_place.sum()) == n  # the first n columns are the reverse-mentors
    head = n if everyone else 0
    np.copyto(cost[:, :head], np.inf, where=below[:, :head])
    np.copyto(cost[:, head:], np.inf, where=below[:, places.owner[head:]])
    return float(threshold)


def _cells_at_least(
    score: np.ndarray, allowed: np.ndarray, places: Places, floor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The solver's cells (row, column, score), row by row, of the allowed pairs scoring at
    least ``floor``: each pair once for every place of its reverse-mentor."""
    i, j = np.nonzero(allowed & (score >= floor) if floor > -np.inf else allowed)
    pair_score = score[i, j]
    per_pair = places.count[j]
    starts = np.cumsum(per_pair) - per_pair
    offset = np.arange(per_pair.sum()) - np.repeat(starts, per_pair)
    columns = places.by_owner[np.repeat(places.first[j], per_pair) + offset]
    return np.repeat(i, per_pair), columns, np.repeat(pair_score, per_pair)


def _edges_matching_size(r: np.ndarray, c: np.ndarray, shape: tuple[int, int]) -> int:
    """The largest matching's size in the graph of cells (r, c), r sorted: the sparse graph
    is built straight from the cells, without a dense mask or a sort."""
    if not len(r):
        return 0
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=shape[0]), out=indptr[1:])
    graph = csr_array((np.ones(len(c), dtype=bool), c, indptr), shape=shape)
    match = maximum_bipartite_matching(graph, perm_type="column")
    return int((match >= 0).sum())


def assign(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The cheapest assignment of as many rows as the rules allow, as (rows, columns) of
    ``cost``, which is +inf where a rule forbids the pair; and the matrix the solver saw."""
    rows, cols = cost.shape
    none = np.zeros(0, dtype=int)
    if not rows or not cols:
        return none, none, None
    matrix = cost
    try:
        # Usually every row (or every column) can be matched: solve at once. With +inf for
        # forbidden pairs the solver raises rather than pick one when it cannot.
        r, c = linear_sum_assignment(matrix)
    except ValueError:
        # Someone who has allowed partners still cannot be placed: fewer partners than
        # people who need them. Give the solver one "leave unmatched" column, costing 0, for
        # each person left out of the largest matching: every full assignment then has
        # exactly that matching's size in real pairs, and the solver maximises their value.
        size = max_matching_size(np.isfinite(cost))
        if size == 0:
            return none, none, None
        matrix = np.hstack([cost, np.zeros((rows, rows - size))])
        r, c = linear_sum_assignment(matrix)
    real = c < cols
    r, c = r[real], c[real]
    real = np.isfinite(cost[r, c])
    return r[real], c[real], matrix
