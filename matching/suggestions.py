"""Partners for one participant, later in a cohort's life: the re-match's candidates. The same
rules, scores and reasons as a matching run, for one row (or column) of the cohort's problem:
the best few partners with a place free, best first, and how many of the others each rule
rules out. Registered as the programmes app's matchmaker (pairs/matchmaking.py) in
MatchingConfig.ready(), so the at-risk queue reaches it without importing this app."""

from collections.abc import Collection

import numpy as np
from django.contrib.auth.models import User
from django.db.models import Count

from matching import engine, notices
from matching.models import PairRule
from matching.services import cohort_data, pair_rule_add, policy_for, reasons
from pairs.matchmaking import PartnerSuggestion, Suggestions
from pairs.models import Pair
from programmes.models import Cohort, Participant, Role

PAIRED = "paired already, no place left"
NO_INTAKE = "intake not completed"
LOWER = "a lower score than those shown"


def best_partners_for(
    *, participant: Participant, limit: int = 3, excluding: Collection[int] = ()
) -> Suggestions:
    """The best ``limit`` partners for ``participant`` among the other side of the cohort who
    have a place free (a reverse-mentor: fewer current pairs in the cohort than places; an
    executive: no current pair), under the cohort's rules and the programme's weights, best
    first (equal scores: the earlier participant first). Nobody in ``excluding`` (participant
    ids) is offered: that is how the partner being left is kept out. A fixed number of
    queries, however large the cohort."""
    cohort = participant.cohort
    data = cohort_data(cohort)
    policy = policy_for(cohort)
    mentee = participant.role == Role.MENTEE
    others = data.mentors if mentee else data.mentees
    without_intake = sum(1 for p in data.without_intake if p.role != participant.role)
    mine = data.mentees if mentee else data.mentors
    if participant not in mine or not others:
        ruled = [(NO_INTAKE, without_intake)] if without_intake else []
        return Suggestions(candidates=[], ruled_out=ruled)
    problem = engine.build_problem(
        data.mentee_side, data.mentor_side, weights=policy.weights, constraints=data.constraints
    )
    me = mine.index(participant)
    busy = Pair.objects.current().filter(cohort=cohort)
    if mentee:
        load = dict(
            busy.values("reverse_mentor").annotate(n=Count("pk")).values_list("reverse_mentor", "n")
        )
        free = np.array(
            [load.get(p.pk, 0) < problem.capacity[j] for j, p in enumerate(others)], dtype=bool
        )
        scores = problem.score[me]
        masks = {rule: mask[me] for rule, mask in problem.forbidden.items()}
        allowed = problem.allowed[me]
    else:
        taken = set(busy.values_list("mentee", flat=True))
        free = np.array([p.pk not in taken for p in others], dtype=bool)
        scores = problem.score[:, me]
        masks = {rule: mask[:, me] for rule, mask in problem.forbidden.items()}
        allowed = problem.allowed[:, me]
    left_out = np.array([p.pk in excluding for p in others], dtype=bool)
    fits = allowed & free & ~left_out & np.isfinite(scores)
    order = sorted(np.flatnonzero(fits).tolist(), key=lambda k: (-float(scores[k]), k))
    shown = order[:limit]
    candidates = []
    for k in shown:
        i, j = (me, k) if mentee else (k, me)
        candidates.append(
            PartnerSuggestion(
                partner=others[k],
                score=float(problem.score[i, j]),
                reasons=reasons(data, problem, i, j, weights=policy.weights),
            )
        )
    return Suggestions(
        candidates=candidates,
        ruled_out=_ruled_out(masks, free, left_out, len(order) - len(shown), without_intake),
    )


def best_partner_for(*, participant: Participant) -> PartnerSuggestion | None:
    """The one best partner (a late intake matched on its own), or None if nobody fits."""
    return best_partners_for(participant=participant, limit=1).best


def _ruled_out(
    masks: dict[str, np.ndarray],
    free: np.ndarray,
    left_out: np.ndarray,
    lower: int,
    without_intake: int,
) -> list[tuple[str, int]]:
    """Each person not offered counted once, under the first rule (in the engine's order)
    that rules them out; the partner being left is not counted: the page says where they go."""
    counted = left_out.copy()
    result = []
    for rule, words in engine.RULES.items():
        mask = masks.get(rule)
        if mask is None:
            continue
        hit = np.asarray(mask) & ~counted
        if hit.any():
            result.append((words, int(hit.sum())))
            counted |= hit
    busy = ~free & ~counted
    if busy.any():
        result.append((PAIRED, int(busy.sum())))
    if lower:
        result.append((LOWER, lower))
    if without_intake:
        result.append((NO_INTAKE, without_intake))
    return result


class CohortMatchmaker:
    """The matchmaker the programmes app asks (see pairs/matchmaking.py)."""

    def suggest(
        self, *, participant: Participant, limit: int, excluding: Collection[int] = ()
    ) -> Suggestions:
        return best_partners_for(participant=participant, limit=limit, excluding=excluding)

    def keep_apart(
        self,
        *,
        cohort: Cohort,
        mentee: Participant,
        mentor: Participant,
        by: User | None,
        note: str,
    ) -> None:
        pair_rule_add(
            cohort=cohort,
            mentee=mentee,
            mentor=mentor,
            kind=PairRule.Kind.EXCLUDED,
            user=by,
            note=note,
        )

    def introduce(self, pair: Pair) -> None:
        notices.ask_match_introduction(pair)
