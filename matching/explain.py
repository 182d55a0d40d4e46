"""Explanations in the manager's words: each proposed pair's top reasons and why someone did not
get their best partner, and why each person on the waiting list is waiting."""

from __future__ import annotations

import numpy as np

from matching import engine
from matching.cohort_data import CohortData
from matching.models import MatchingRun, ProposedPair, WaitingEntry
from programmes.models import Participant


def proposals_for(
    run: MatchingRun, data: CohortData, problem: engine.Problem, solution: engine.Solution
) -> list[ProposedPair]:
    """Every proposed pair with its criteria, reasons and notes, the numbers read for all
    pairs at once (at 5,000 a side, reading them pair by pair took a second)."""
    if not solution.pairs:
        return []
    rows, cols = (np.array(side) for side in zip(*solution.pairs, strict=True))
    values = {c: problem.criteria[c].pairs(rows, cols) for c in engine.CRITERIA}
    criteria = {c: values[c].tolist() for c in engine.CRITERIA}
    said = reasons_for_pairs(data, problem, rows, cols, values, weights=run.weights)
    notes = _not_best(data, problem, solution)
    return [
        ProposedPair(
            run=run,
            mentee=data.mentees[i],
            reverse_mentor=data.mentors[j],
            score=round(score, 4),
            criteria={c: round(criteria[c][k], 3) for c in engine.CRITERIA},
            reasons=said[k],
            not_best=notes[k],
            locked=(i, j) in data.constraints.locked,
        )
        for k, ((i, j), score) in enumerate(zip(solution.pairs, solution.scores, strict=True))
    ]


def reasons(
    data: CohortData, problem: engine.Problem, i: int, j: int, *, weights: dict[str, float]
) -> list[str]:
    """The top three reasons for a pair in plain words, ordered by how much each criterion
    added to the pair's score under the run's weights."""
    rows, cols = np.array([i]), np.array([j])
    values = {c: problem.criteria[c].pairs(rows, cols) for c in engine.CRITERIA}
    return reasons_for_pairs(data, problem, rows, cols, values, weights=weights)[0]


def reasons_for_pairs(
    data: CohortData,
    problem: engine.Problem,
    rows: np.ndarray,
    cols: np.ndarray,
    values: dict[str, np.ndarray],
    *,
    weights: dict[str, float],
) -> list[list[str]]:
    """``reasons`` for the pairs (rows[k], cols[k]): the numbers as arrays, the words pair
    by pair."""
    weight = {c: max(weights.get(c, 0.0), 0.0) for c in engine.CRITERIA}
    gain = {c: (weight[c] * values[c].astype(float)).tolist() for c in engine.CRITERIA}
    wanted = data.mentee_side.wants[rows]
    # Each mentee's wanted topics, first choice first, that the reverse-mentor can share.
    order = np.argsort(np.where(wanted > 0, wanted, 99), axis=1)
    met = np.take_along_axis((wanted > 0) & data.mentor_side.shares[cols], order, axis=1)
    # The first two of them, as topic numbers (-1 for none).
    count = np.cumsum(met, axis=1)
    first_two = [
        np.where(found.any(axis=1), order[np.arange(len(order)), found.argmax(axis=1)], -1)
        if found.shape[1]
        else np.full(len(order), -1)  # a programme with no topics yet
        for found in (met & (count == 1), met & (count == 2))
    ]
    quoted = [f"“{title}”" for title in data.topics]
    hours = problem.shared_hours[rows, cols].astype(int).tolist()
    gap = np.abs(data.mentee_side.utc_offset[rows] - data.mentor_side.utc_offset[cols]) % 24
    gap = np.minimum(gap, 24 - gap).tolist()
    same = {
        label: ((a[rows] >= 0) & (a[rows] == b[cols])).tolist()
        for label, a, b in (
            ("communication", data.mentee_side.communication, data.mentor_side.communication),
            ("feedback", data.mentee_side.feedback, data.mentor_side.feedback),
        )
    }
    topics = list(zip(first_two[0].tolist(), first_two[1].tolist(), strict=True))
    result = []
    for k, (i, j) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
        mentee, mentor = data.mentees[i], data.mentors[j]
        said: list[tuple[float, str]] = []
        first, second = topics[k]
        if first >= 0:
            titles = quoted[first] if second < 0 else f"{quoted[first]} and {quoted[second]}"
            said.append(
                (
                    gain["objectives"][k],
                    f"{_first_name(mentee)} wants to learn about {titles}, "
                    f"which {_first_name(mentor)} can share",
                )
            )
        if hours[k]:
            said.append(
                (gain["availability"][k], f"{hours[k]} shared hour{'s' * (hours[k] != 1)} a week")
            )
        if gap[k] <= 3:
            zone = "same time zone" if gap[k] == 0 else f"time zones {gap[k]:g} h apart"
            said.append((gain["time_zone"][k], zone))
        styles = [label for label in ("communication", "feedback") if same[label][k]]
        if styles:
            said.append((gain["style"][k], f"same {' and '.join(styles)} style"))
        a, b = mentee.person.department, mentor.person.department
        if a and b and a != b:
            said.append((gain["departments"][k], f"different departments ({a} and {b})"))
        said.sort(key=lambda item: -item[0])
        result.append([text for value, text in said[:3] if value > 0])
    return result


def _name(participant: Participant) -> str:
    return participant.person.full_name


def _first_name(participant: Participant) -> str:
    return participant.person.full_name.split()[0]


def _not_best(data: CohortData, problem: engine.Problem, solution: engine.Solution) -> list[str]:
    """For each pair, why someone did not get their best-scoring partner, when they did not.
    Everyone's best partner is found in one pass over the scores, a block of rows at a
    time."""
    partner_of = {i: j for i, j in solution.pairs}
    mentees_of: dict[int, list[int]] = {}
    for i, j in solution.pairs:
        mentees_of.setdefault(j, []).append(i)
    row_best, row_value, column_best, column_value = _best_partners(problem)
    rows, cols = (np.array(side) for side in zip(*solution.pairs, strict=True))
    notes = []
    for (i, j), score in zip(solution.pairs, problem.score[rows, cols], strict=True):
        note = []
        best, value = int(row_best[i]), row_value[i]
        # In float32, as the scores are: 1e-9 is below their precision.
        if best != j and np.isfinite(value) and value > score + 1e-9:
            takers = [data.mentees[k].person.full_name for k in mentees_of.get(best, [])]
            if takers:
                note.append(
                    f"{_name(data.mentees[i])}'s best match, {_name(data.mentors[best])} "
                    f"({value:.2f}), went to {' and '.join(takers)} instead, "
                    "where the gain for the cohort was larger."
                )
        best, value = int(column_best[j]), column_value[j]
        if best != i and np.isfinite(value) and value > score + 1e-9:
            other = partner_of.get(best)
            if other is not None:
                note.append(
                    f"{_name(data.mentors[j])}'s best match, {_name(data.mentees[best])} "
                    f"({value:.2f}), is paired with {_name(data.mentors[other])} "
                    "instead, where the gain for the cohort was larger."
                )
        notes.append(" ".join(note))
    return notes


def _best_partners(
    problem: engine.Problem, block: int = 512
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each mentee's and each reverse-mentor's best allowed partner (the first on a tie) and
    its score, -inf for someone with none."""
    m, n = problem.score.shape
    row_best = np.zeros(m, dtype=int)
    row_value = np.full(m, -np.inf, dtype=problem.score.dtype)
    column_best = np.zeros(n, dtype=int)
    column_value = np.full(n, -np.inf, dtype=problem.score.dtype)
    for start in range(0, m, block):
        part = slice(start, start + block)
        value = np.where(problem.allowed[part], problem.score[part], -np.inf)
        if not n:
            continue
        row_best[part] = value.argmax(axis=1)
        row_value[part] = np.take_along_axis(value, row_best[part, None], axis=1)[:, 0]
        best = value.argmax(axis=0)
        top = value[best, np.arange(n)]
        better = top > column_value  # strictly: an earlier block keeps a tie
        column_best[better] = best[better] + start
        column_value[better] = top[better]
    return row_best, row_value, column_best, column_value


def waiting_for(
    run: MatchingRun, data: CohortData, problem: engine.Problem, solution: engine.Solution
) -> list[WaitingEntry]:
    entries = []
    for i in solution.unmatched_mentees:
        entries.append(
            WaitingEntry(run=run, participant=data.mentees[i], reason=_why(problem, mentee=i))
        )
    for j in solution.unmatched_mentors:
        if problem.capacity[j] > 0 or data.load_elsewhere.get(j):
            entries.append(
                WaitingEntry(
                    run=run,
                    participant=data.mentors[j],
                    reason=_why(
                        problem, mentor=j, load=data.load_elsewhere.get(j, 0), cap=data.load_cap
                    ),
                )
            )
    return entries


def _why(
    problem: engine.Problem,
    *,
    mentee: int | None = None,
    mentor: int | None = None,
    load: int = 0,
    cap: int = 0,
) -> str:
    others = problem.score.shape[1] if mentee is not None else problem.score.shape[0]
    allowed = problem.allowed[mentee] if mentee is not None else problem.allowed[:, mentor]
    if mentor is not None and problem.capacity[mentor] == 0:
        return f"Already mentoring {load} elsewhere: at the cap of {cap}."
    if allowed.any():
        count = int(allowed.sum())
        who = (
            "Their only possible partner was"
            if count == 1
            else f"All {count} possible partners were"
        )
        return f"{who} matched with someone else, where the cohort gained more."
    blocked = engine.blocking_rules(problem, mentee=mentee, mentor=mentor)
    parts = [
        f"{engine.RULES[rule]} with {count}"
        for rule, count in blocked.items()
        if rule != "no_capacity"
    ]
    if blocked.get("no_capacity") and mentee is not None:
        parts.append(f"no place left with {blocked['no_capacity']}")
    return f"No possible partner among {others}: " + "; ".join(parts) + "."
