"""Reviewing a finished run: score a pair the manager considers, change a partner, swap two,
record locks, exclusions and blocks, and approve. Only a finished run that is the newest of its
cohort (failed runs aside) can be changed or approved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from django.db import transaction
from django.utils import timezone

from audit.models import AuditEntry
from audit.records import audit_record
from matching import engine, notices
from matching.cohort_data import cohort_data
from matching.explain import reasons
from matching.models import MatchingRun, PairRule, ProposedPair
from pairs.models import Pair
from pairs.services import pair_close, participants_paired
from programmes.models import Cohort, Participant

NOT_EDITABLE = "Only a finished run that is not yet approved can be changed."
SUPERSEDED = "A newer run of this cohort exists: only the newest run can be changed or approved."


class MatchingError(Exception):
    """A review action the rules refuse, in words for the manager."""


@dataclass(frozen=True)
class PairCheck:
    score: float | None
    broken: list[str]  # rules the pair would break, in words
    reasons: list[str]


def pair_check(*, run: MatchingRun, mentee: Participant, mentor: Participant) -> PairCheck:
    """Score a pair the manager is considering under the run's weights and options, and name
    the rules it would break."""
    weights = run.weights
    data = cohort_data(run.cohort, allow_without_shared_time=run.allow_without_shared_time)
    rows = {p.pk: i for i, p in enumerate(data.mentees)}
    cols = {p.pk: j for j, p in enumerate(data.mentors)}
    if mentee.pk not in rows or mentor.pk not in cols:
        return PairCheck(
            score=None, broken=["both need a completed intake in this cohort"], reasons=[]
        )
    problem = engine.build_problem(
        data.mentee_side, data.mentor_side, weights=weights, constraints=data.constraints
    )
    i, j = rows[mentee.pk], cols[mentor.pk]
    broken = [
        engine.RULES[rule]
        for rule, mask in problem.forbidden.items()
        if rule != "no_capacity" and mask[i, j]
    ]
    return PairCheck(
        score=float(problem.score[i, j]),
        broken=broken,
        reasons=reasons(data, problem, i, j, weights=weights),
    )


def _lock_editable(run: MatchingRun) -> None:
    """Inside a transaction: lock the run's row so an approval cannot slip in between the
    check and the change, and refuse unless it is finished, not yet approved and not
    superseded by a newer run."""
    status = MatchingRun.objects.select_for_update().values_list("status", flat=True).get(pk=run.pk)
    if status != MatchingRun.Status.DONE:
        raise MatchingError(NOT_EDITABLE)
    _refuse_unless_newest(run)


def _refuse_unless_newest(run: MatchingRun) -> None:
    if run.superseded_by() is not None:
        raise MatchingError(SUPERSEDED)


def proposal_change_partner(*, proposal: ProposedPair, mentor: Participant) -> ProposedPair:
    """Give a mentee another reverse-mentor; refused if a rule would break or the
    reverse-mentor has no place left in this proposal."""
    run = proposal.run
    check = pair_check(run=run, mentee=proposal.mentee, mentor=mentor)
    if check.broken:
        rules = "; ".join(check.broken)
        raise MatchingError(
            f"{proposal.mentee.person} and {mentor.person} cannot be paired: {rules}."
        )
    with transaction.atomic():
        _lock_editable(run)
        taken = run.proposals.filter(reverse_mentor=mentor).exclude(pk=proposal.pk).count()
        if taken >= mentor.capacity:
            raise MatchingError(
                f"{mentor.person} has no place left in this proposal: swap instead."
            )
        proposal.reverse_mentor = mentor
        _save_changed(proposal, check)
        _refresh_totals(run)
    return proposal


def proposal_swap(*, first: ProposedPair, second: ProposedPair) -> None:
    """Swap two mentees' partners; refused, changing nothing, if either new pair breaks a rule."""
    run = first.run
    if second.run_id != run.pk:
        raise MatchingError("Both pairs must come from the same run.")
    a = pair_check(run=run, mentee=first.mentee, mentor=second.reverse_mentor)
    b = pair_check(run=run, mentee=second.mentee, mentor=first.reverse_mentor)
    problems = [
        f"{mentee.person} and {mentor.person}: {'; '.join(check.broken)}"
        for check, mentee, mentor in (
            (a, first.mentee, second.reverse_mentor),
            (b, second.mentee, first.reverse_mentor),
        )
        if check.broken
    ]
    if problems:
        raise MatchingError("This swap would break a rule: " + " / ".join(problems) + ".")
    with transaction.atomic():
        _lock_editable(run)
        first.reverse_mentor, second.reverse_mentor = second.reverse_mentor, first.reverse_mentor
        for proposal, check in ((first, a), (second, b)):
            _save_changed(proposal, check)
        _refresh_totals(run)


def _save_changed(proposal: ProposedPair, check: PairCheck) -> None:
    """A proposal the manager changed: its new partner's score and reasons, as checked."""
    proposal.score = round(cast(float, check.score), 4)  # a pair that can be checked
    proposal.reasons = check.reasons
    proposal.not_best = ""
    proposal.changed_by_manager = True
    proposal.save()


def _refresh_totals(run: MatchingRun) -> None:
    scores = list(run.proposals.values_list("score", flat=True))
    run.total_score = sum(scores) if scores else None
    run.lowest_score = min(scores) if scores else None
    run.save(update_fields=["total_score", "lowest_score"])


def pair_rule_add(
    *,
    cohort: Cohort,
    mentee: Participant,
    mentor: Participant,
    kind: str,
    user=None,
    note: str = "",
) -> PairRule:
    """Record an exclusion, a lock or a block; the next run respects it."""
    rule, _ = PairRule.objects.get_or_create(
        kind=kind,
        cohort=None if kind == PairRule.Kind.BLOCKED else cohort,
        mentee=mentee.person,
        reverse_mentor=mentor.person,
        defaults={"created_by": user, "note": note},
    )
    return rule


def matching_run_approve(*, run: MatchingRun, user=None) -> list[Pair]:
    """Turn the proposal into pairs and queue the introductions after commit. Only the newest
    run of the cohort that has not failed can be approved; approving twice (a double click,
    two managers) creates the pairs once.

    Locks, always in this order: the cohort (run starts lock it too, so no newer run can
    appear between the check and the approval), the run, every participant of the proposal
    and the current pairs of its mentees, each set in primary-key order so two approvals or a
    re-match cannot deadlock. A fixed number of queries whatever the number of pairs, except
    for each pair a re-match ends (``pair_close``)."""
    with transaction.atomic():
        cohort = (
            Cohort.objects.select_for_update(of=("self",))
            .select_related("programme")
            .get(pk=run.cohort_id)
        )
        run.cohort = cohort  # named by the audit entry
        status = (
            MatchingRun.objects.select_for_update().values_list("status", flat=True).get(pk=run.pk)
        )
        if status != MatchingRun.Status.DONE:
            raise MatchingError("This run has already been approved, or is not finished yet.")
        _refuse_unless_newest(run)
        now = timezone.now()
        MatchingRun.objects.filter(pk=run.pk).update(
            status=MatchingRun.Status.APPROVED, approved_at=now, approved_by=user
        )
        # Best score first (the model's order): pairs are created, and introduced, in it.
        proposals = list(run.proposals.select_related("mentee__person", "reverse_mentor__person"))
        people = sorted({p.mentee_id for p in proposals} | {p.reverse_mentor_id for p in proposals})
        list(Participant.objects.select_for_update().filter(pk__in=people).order_by("pk"))
        current = {
            pair.mentee_id: pair
            for pair in Pair.objects.current()
            .select_for_update()
            .filter(mentee__in=[p.mentee_id for p in proposals])
            .order_by("pk")
        }
        start = max(timezone.localdate(now), cohort.starts_on)
        pairs = []
        for proposal in proposals:
            before = current.get(proposal.mentee_id)
            if before and before.reverse_mentor_id == proposal.reverse_mentor_id:
                continue  # kept as it is
            if before:
                pair_close(before, reason="Re-matched", now=now)
            pairs.append(
                Pair(
                    cohort=cohort,
                    mentee=proposal.mentee,
                    reverse_mentor=proposal.reverse_mentor,
                    status=Pair.Status.ACTIVE,
                    started_on=start,
                    score=proposal.score,
                    replaces=before,
                    introduced_at=now,
                )
            )
        Pair.objects.bulk_create(pairs)
        matched = [p.mentee_id for p in pairs] + [p.reverse_mentor_id for p in pairs]
        participants_paired(participant_ids=matched, now=now)
        notices.ask_match_introductions(pairs)
        audit_record(
            AuditEntry.Event.MATCHING_APPROVED,
            by=user,
            target=run,
            programme=cohort.programme,
            changes={
                "status": (MatchingRun.Status.DONE.label, MatchingRun.Status.APPROVED.label),
                "pairs made": ("", len(pairs)),
            },
        )
    run.status, run.approved_at, run.approved_by = MatchingRun.Status.APPROVED, now, user
    return pairs
