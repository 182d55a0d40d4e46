"""Explanations in the manager's words: each proposed pair's top reasons and why someone did not
get their best partner, and why each person on the waiting list is waiting."""

from __future__ import annotations

import numpy as np
from django.conf import settings

from matching import engine
from matching.cohort_data import CohortData
from matching.models import MatchingRun, ProposedPair, WaitingEntry
from programmes.models import Participant


def proposals_for(
    run: MatchingRun, data: CohortData, problem: engine.Problem, solution: engine.Solution
) -> list[ProposedPair]:
    partner_of = {i: j for i, j in solution.pairs}
    mentees_of: dict[int, list[int]] = {}
    for i, j in solution.pairs:
        mentees_of.setdefault(j, []).append(i)
    result = []
    for (i, j), score in zip(solution.pairs, solution.scores, strict=True):
        result.append(
            ProposedPair(
                run=run,
                mentee=data.mentees[i],
                reverse_mentor=data.mentors[j],
                score=round(score, 4),
                criteria={c: round(float(problem.criteria[c][i, j]), 3) for c in engine.CRITERIA},
                reasons=reasons(data, problem, i, j, weights=run.weights),
                not_best=_not_best(data, problem, i, j, partner_of, mentees_of),
                locked=(i, j) in data.constraints.locked,
            )
        )
    return result


def reasons(
    data: CohortData, problem: engine.Problem, i: int, j: int, *, weights: dict[str, float]
) -> list[str]:
    """The top three reasons for a pair in plain words, ordered by how much each criterion
    added to the pair's score under the run's weights."""
    mentee, mentor = data.mentees[i], data.mentors[j]
    weight = {c: max(weights.get(c, 0.0), 0.0) for c in engine.CRITERIA}
    gain = {c: weight[c] * float(problem.criteria[c][i, j]) for c in engine.CRITERIA}
    said: list[tuple[float, str]] = []

    wanted, shared = data.mentee_side.wants[i], data.mentor_side.shares[j]
    met = [t for t in np.argsort(np.where(wanted > 0, wanted, 99)) if wanted[t] > 0 and shared[t]]
    if met:
        titles = " and ".join(f"“{data.topics[t]}”" for t in met[:2])
        said.append(
            (
                gain["objectives"],
                f"{_first_name(mentee)} wants to learn about {titles}, "
                f"which {_first_name(mentor)} can share",
            )
        )
    hours = int(problem.shared_hours[i, j])
    if hours:
        said.append((gain["availability"], f"{hours} shared hour{'s' * (hours != 1)} a week"))
    gap = abs(data.mentee_side.utc_offset[i] - data.mentor_side.utc_offset[j]) % 24
    gap = min(gap, 24 - gap)
    if gap <= 3:
        zone = "same time zone" if gap == 0 else f"time zones {gap:g} h apart"
        said.append((gain["time_zone"], zone))
    styles = [
        label
        for label, a, b in (
            ("communication", data.mentee_side.communication[i], data.mentor_side.communication[j]),
            ("feedback", data.mentee_side.feedback[i], data.mentor_side.feedback[j]),
        )
        if a >= 0 and a == b
    ]
    if styles:
        said.append((gain["style"], f"same {' and '.join(styles)} style"))
    a, b = mentee.person.department, mentor.person.department
    if a and b and a != b:
        said.append((gain["departments"], f"different departments ({a} and {b})"))
    said.sort(key=lambda item: -item[0])
    return [text for value, text in said[:3] if value > 0]


def _name(participant: Participant) -> str:
    return participant.person.full_name


def _first_name(participant: Participant) -> str:
    return participant.person.full_name.split()[0]


def _not_best(
    data: CohortData,
    problem: engine.Problem,
    i: int,
    j: int,
    partner_of: dict[int, int],
    mentees_of: dict[int, list[int]],
) -> str:
    """Why someone did not get their best-scoring partner, when they did not."""
    notes = []
    row = np.where(problem.allowed[i], problem.score[i], -np.inf)
    best = int(np.argmax(row))
    if best != j and np.isfinite(row[best]) and row[best] > problem.score[i, j] + 1e-9:
        takers = [data.mentees[k].person.full_name for k in mentees_of.get(best, [])]
        if takers:
            notes.append(
                f"{_name(data.mentees[i])}'s best match, {_name(data.mentors[best])} "
                f"({row[best]:.2f}), went to {' and '.join(takers)} instead, "
                "where the gain for the cohort was larger."
            )
    column = np.where(problem.allowed[:, j], problem.score[:, j], -np.inf)
    best_mentee = int(np.argmax(column))
    if (
        best_mentee != i
        and np.isfinite(column[best_mentee])
        and column[best_mentee] > problem.score[i, j] + 1e-9
    ):
        other = partner_of.get(best_mentee)
        if other is not None:
            notes.append(
                f"{_name(data.mentors[j])}'s best match, {_name(data.mentees[best_mentee])} "
                f"({column[best_mentee]:.2f}), is paired with {_name(data.mentors[other])} "
                "instead, where the gain for the cohort was larger."
            )
    return " ".join(notes)


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
                    reason=_why(problem, mentor=j, load=data.load_elsewhere.get(j, 0)),
                )
            )
    return entries


def _why(
    problem: engine.Problem, *, mentee: int | None = None, mentor: int | None = None, load: int = 0
) -> str:
    others = problem.score.shape[1] if mentee is not None else problem.score.shape[0]
    allowed = problem.allowed[mentee] if mentee is not None else problem.allowed[:, mentor]
    if mentor is not None and problem.capacity[mentor] == 0:
        return f"Already mentoring {load} elsewhere: at the cap of {settings.MAX_MENTORING_LOAD}."
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
