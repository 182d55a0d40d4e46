"""The matching services that views, admin actions, tasks, commands and other apps call,
gathered in one place; each lives in the module for what it does:

- ``matching.cohort_data``: a cohort loaded into the engine's arrays (``cohort_data``,
  ``policy_for``);
- ``matching.explain``: reasons and waiting-list explanations;
- ``matching.runs``: starting, executing and sweeping runs (and their Celery tasks);
- ``matching.review``: checking and changing a proposal, rules, approval.

It also holds ``best_partner_for``, the re-match suggestion for one participant."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db.models import Count

from matching import engine
from matching.cohort_data import CURRENT_PAIR, CohortData, cohort_data, policy_for
from matching.explain import reasons
from matching.review import (
    MatchingError,
    PairCheck,
    matching_run_approve,
    pair_check,
    pair_rule_add,
    proposal_change_partner,
    proposal_swap,
)
from matching.runs import matching_run_execute, matching_run_start, matching_runs_due
from programmes.models import Pair, Participant

__all__ = [
    "CohortData",
    "MatchingError",
    "PairCheck",
    "PartnerSuggestion",
    "best_partner_for",
    "cohort_data",
    "matching_run_approve",
    "matching_run_execute",
    "matching_run_start",
    "matching_runs_due",
    "pair_check",
    "pair_rule_add",
    "policy_for",
    "proposal_change_partner",
    "proposal_swap",
    "reasons",
]


@dataclass(frozen=True)
class PartnerSuggestion:
    partner: Participant
    score: float
    reasons: list[str]


def best_partner_for(*, participant: Participant) -> PartnerSuggestion | None:
    """For re-matching one participant later: the best feasible partner among those of the
    cohort with no current pair (or a place left), under the same rules. None if nobody."""
    cohort = participant.cohort
    data = cohort_data(cohort)
    policy = policy_for(cohort)
    problem = engine.build_problem(
        data.mentee_side, data.mentor_side, weights=policy.weights, constraints=data.constraints
    )
    busy = Pair.objects.filter(cohort=cohort, status__in=CURRENT_PAIR)
    if participant.role == Participant.Role.MENTEE:
        if participant not in data.mentees:
            return None
        i = data.mentees.index(participant)
        load = dict(
            busy.values("reverse_mentor").annotate(n=Count("pk")).values_list("reverse_mentor", "n")
        )
        free = np.array(
            [load.get(p.pk, 0) < problem.capacity[j] for j, p in enumerate(data.mentors)],
            dtype=bool,
        )
        row = np.where(problem.allowed[i] & free, problem.score[i], -np.inf)
        if not len(row) or not np.isfinite(row.max()):
            return None
        j = int(np.argmax(row))
    else:
        if participant not in data.mentors:
            return None
        j = data.mentors.index(participant)
        taken = set(busy.values_list("mentee", flat=True))
        free = np.array([p.pk not in taken for p in data.mentees], dtype=bool)
        column = np.where(problem.allowed[:, j] & free, problem.score[:, j], -np.inf)
        if not len(column) or not np.isfinite(column.max()):
            return None
        i = int(np.argmax(column))
    partner = data.mentors[j] if participant.role == Participant.Role.MENTEE else data.mentees[i]
    return PartnerSuggestion(
        partner=partner,
        score=float(problem.score[i, j]),
        reasons=reasons(data, problem, i, j, weights=policy.weights),
    )
