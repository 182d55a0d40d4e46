"""The matching services that views, admin actions, tasks, commands and other apps call,
gathered in one place; each lives in the module for what it does:

- ``matching.cohort_data``: a cohort loaded into the engine's arrays (``cohort_data``,
  ``policy_for``);
- ``matching.explain``: reasons and waiting-list explanations;
- ``matching.runs``: starting, executing and sweeping runs (and their Celery tasks);
- ``matching.review``: checking and changing a proposal, rules, approval.

Partners for one participant later in a cohort's life (a re-match, a late intake) are in
``matching.suggestions``."""

from __future__ import annotations

from matching.cohort_data import CohortData, cohort_data, policy_for
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

__all__ = [
    "CohortData",
    "MatchingError",
    "PairCheck",
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
