"""Matching runs: load a cohort into the engine's arrays, solve, explain, save; review and
approve. Views, admin actions and the Celery task call these."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, time
from functools import partial
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from matching import engine, notices
from matching.models import MatchingPolicy, MatchingRun, PairRule, ProposedPair, WaitingEntry
from programmes.availability import to_utc_hours_of_week
from programmes.models import Cohort, Intake, IntakeObjective, Pair, Participant
from programmes.pairs import pair_close
from programmes.reporting_lines import load_manager_map, tree_intervals

logger = logging.getLogger(__name__)

MODES = {Intake.MeetingMode.IN_PERSON: engine.IN_PERSON, Intake.MeetingMode.VIDEO: engine.VIDEO}
CURRENT_PAIR = [Pair.Status.PROPOSED, Pair.Status.ACTIVE, Pair.Status.PAUSED]


class MatchingError(Exception):
    """A review action the rules refuse, in words for the manager."""


@dataclass
class CohortData:
    cohort: Cohort
    mentees: list[Participant]
    mentors: list[Participant]
    mentee_side: engine.Side
    mentor_side: engine.Side
    constraints: engine.Constraints
    topics: list[str]
    without_intake: list[Participant] = field(default_factory=list)
    load_elsewhere: dict[int, int] = field(default_factory=dict)  # mentor row -> pairs


def policy_for(cohort: Cohort) -> MatchingPolicy:
    policy, _ = MatchingPolicy.objects.get_or_create(programme_id=cohort.programme_id)
    return policy


def cohort_data(cohort: Cohort, *, allow_without_shared_time: bool = False) -> CohortData:
    """Everything the engine needs about a cohort, in a fixed number of queries. The chosen
    topics come as (participant, topic) rows straight into arrays, and hours are converted
    to UTC once per time zone, not once per person: at 5,000 a side, model instances for
    every answer and a datetime per slot took most of the run."""
    participants = list(
        cohort.participants.exclude(status=Participant.Status.WITHDRAWN)
        .select_related("person", "intake")
        .order_by("pk")
    )
    complete = [p for p in participants if _submitted(p)]
    without = [p for p in participants if not _submitted(p)]
    mentees = [p for p in complete if p.role == Participant.Role.MENTEE]
    mentors = [p for p in complete if p.role == Participant.Role.REVERSE_MENTOR]
    topics = list(cohort.programme.topics.values_list("pk", "title"))
    column = {pk: i for i, (pk, _) in enumerate(topics)}
    intervals = tree_intervals(load_manager_map())
    departments: dict[str, int] = {}
    in_cohort = {"intake__participant__in": [p.pk for p in complete]}
    ranked = list(
        IntakeObjective.objects.filter(**in_cohort).values_list(
            "intake__participant", "topic", "rank"
        )
    )
    sharing = list(
        Intake.can_share.through.objects.filter(**in_cohort).values_list(
            "intake__participant", "topic"
        )
    )
    ruled_out = list(
        Intake.off_limits.through.objects.filter(**in_cohort).values_list(
            "intake__participant", "topic"
        )
    )
    utc_slot: dict[str, np.ndarray] = {}  # zone -> UTC hour of each local slot of the week
    offset: dict[str, float] = {}

    def utc_of(zone: str) -> np.ndarray:
        if zone not in utc_slot:
            utc_slot[zone] = np.array(
                [min(to_utc_hours_of_week([s], zone, cohort.starts_on)) for s in range(168)]
            )
            offset[zone] = _utc_offset(zone, cohort)
        return utc_slot[zone]

    def side(people: list[Participant], *, with_capacity: bool) -> engine.Side:
        n, t = len(people), len(topics)
        row_of = {p.pk: row for row, p in enumerate(people)}
        wants = np.zeros((n, t), dtype=int)
        shares = np.zeros((n, t), dtype=bool)
        off = np.zeros((n, t), dtype=bool)
        for participant, topic, rank in ranked:
            if participant in row_of and topic in column:
                wants[row_of[participant], column[topic]] = rank
        for answers, array in ((sharing, shares), (ruled_out, off)):
            for participant, topic in answers:
                if participant in row_of and topic in column:
                    array[row_of[participant], column[topic]] = True
        hours = np.zeros((n, 168), dtype=bool)
        for row, p in enumerate(people):
            slots = [s for s in p.intake.availability if 0 <= s < 168]
            hours[row, utc_of(p.person.time_zone)[slots]] = True
        return engine.Side(
            ids=np.array([p.pk for p in people], dtype=int),
            wants=wants,
            shares=shares,
            off_limits=off,
            hours=hours,
            utc_offset=np.array([offset[p.person.time_zone] for p in people], dtype=float),
            communication=_codes(
                [p.intake.communication_style for p in people], Intake.CommunicationStyle.values
            ),
            feedback=_codes([p.intake.feedback_style for p in people], Intake.FeedbackStyle.values),
            mode=np.array([MODES.get(p.intake.meeting_mode, engine.EITHER) for p in people]),
            department=np.array(
                [
                    departments.setdefault(p.person.department, len(departments))
                    if p.person.department
                    else -1
                    for p in people
                ]
            ),
            line_entry=np.array([intervals.get(p.person_id, (-1, -1))[0] for p in people]),
            line_exit=np.array([intervals.get(p.person_id, (-1, -1))[1] for p in people]),
            capacity=np.array([p.capacity for p in people]) if with_capacity else None,
        )

    mentee_side = side(mentees, with_capacity=False)
    mentor_side = side(mentors, with_capacity=True)

    # The same few colleagues get asked again and again: cap anyone's load across programmes.
    load = dict(
        Pair.objects.filter(
            status__in=CURRENT_PAIR, reverse_mentor__person__in=[p.person_id for p in mentors]
        )
        .exclude(cohort=cohort)
        .values("reverse_mentor__person")
        .annotate(n=Count("pk"))
        .values_list("reverse_mentor__person", "n")
    )
    load_elsewhere = {}
    for row, p in enumerate(mentors):
        elsewhere = load.get(p.person_id, 0)
        load_elsewhere[row] = elsewhere
        mentor_side.capacity[row] = max(0, min(p.capacity, settings.MAX_MENTORING_LOAD - elsewhere))

    return CohortData(
        cohort=cohort,
        mentees=mentees,
        mentors=mentors,
        mentee_side=mentee_side,
        mentor_side=mentor_side,
        constraints=_constraints(cohort, mentees, mentors, allow_without_shared_time),
        topics=[title for _, title in topics],
        without_intake=without,
        load_elsewhere=load_elsewhere,
    )


def _submitted(participant: Participant) -> bool:
    intake = getattr(participant, "intake", None)
    return intake is not None and intake.submitted_at is not None


def _codes(values: list[str], choices: list[str]) -> np.ndarray:
    index = {v: i for i, v in enumerate(choices)}
    return np.array([index.get(v, -1) for v in values], dtype=int)


def _utc_offset(zone: str, cohort: Cohort) -> float:
    moment = datetime.combine(cohort.starts_on, time(12), tzinfo=ZoneInfo(zone))
    return moment.utcoffset().total_seconds() / 3600


def _constraints(
    cohort: Cohort, mentees: list[Participant], mentors: list[Participant], allow: bool
) -> engine.Constraints:
    mentee_row = {p.person_id: i for i, p in enumerate(mentees)}
    mentor_row = {p.person_id: j for j, p in enumerate(mentors)}
    rules = PairRule.objects.filter(Q(cohort=cohort) | Q(kind=PairRule.Kind.BLOCKED)).filter(
        mentee__in=mentee_row, reverse_mentor__in=mentor_row
    )
    constraints = engine.Constraints(
        allow_without_shared_time=allow, avoided=_avoided(mentees, mentors)
    )
    for rule in rules:
        pair = (mentee_row[rule.mentee_id], mentor_row[rule.reverse_mentor_id])
        if rule.kind == PairRule.Kind.LOCKED:
            constraints.locked.add(pair)
        else:
            constraints.excluded.add(pair)
    # Pairs already made in this cohort, or proposed by its latest run, are kept where it
    # costs little: one changed weight should not reshuffle everyone.
    current = list(
        Pair.objects.filter(cohort=cohort, status__in=CURRENT_PAIR).values_list(
            "mentee__person", "reverse_mentor__person"
        )
    )
    latest = (
        MatchingRun.objects.filter(
            cohort=cohort, status__in=[MatchingRun.Status.DONE, MatchingRun.Status.APPROVED]
        )
        .order_by("-created_at")
        .first()
    )
    if latest is not None:
        current += latest.proposals.values_list("mentee__person", "reverse_mentor__person")
    for mentee, mentor in current:
        if mentee in mentee_row and mentor in mentor_row:
            constraints.previous.add((mentee_row[mentee], mentor_row[mentor]))
    # A mentee can be locked to one partner only; the latest ruling wins.
    seen: dict[int, tuple[int, int]] = {}
    for i, j in sorted(constraints.locked):
        seen[i] = (i, j)
    constraints.locked = set(seen.values())
    return constraints


def _avoided(
    mentees: list[Participant], mentors: list[Participant]
) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (mentee row, mentor row) that either of the two ruled out at intake
    ("people I would rather not be paired with"), as two index arrays. One query; the loop is
    over the answers (a handful a person), never over pairs."""
    mentee_of_participant = {p.pk: i for i, p in enumerate(mentees)}
    mentor_of_participant = {p.pk: j for j, p in enumerate(mentors)}
    mentee_of_person = {p.person_id: i for i, p in enumerate(mentees)}
    mentor_of_person = {p.person_id: j for j, p in enumerate(mentors)}
    answers = Intake.avoid.through.objects.filter(
        intake__participant__in=[*mentee_of_participant, *mentor_of_participant]
    ).values_list("intake__participant_id", "person_id")
    rows: list[int] = []
    cols: list[int] = []
    for participant_id, person_id in answers:
        if participant_id in mentee_of_participant and person_id in mentor_of_person:
            rows.append(mentee_of_participant[participant_id])
            cols.append(mentor_of_person[person_id])
        elif participant_id in mentor_of_participant and person_id in mentee_of_person:
            rows.append(mentee_of_person[person_id])
            cols.append(mentor_of_participant[participant_id])
    return np.array(rows, dtype=int), np.array(cols, dtype=int)


# --- runs ---------------------------------------------------------------------------------


def matching_run_start(
    *, cohort: Cohort, user=None, protect_worst_off: bool | None = None
) -> MatchingRun:
    """Record a run and queue it after commit. Matching starts: intakes lock."""
    from matching import tasks

    policy = policy_for(cohort)
    with transaction.atomic():
        if cohort.status in (Cohort.Status.PLANNED, Cohort.Status.INTAKE):
            Cohort.objects.filter(pk=cohort.pk).update(status=Cohort.Status.MATCHING)
            cohort.status = Cohort.Status.MATCHING
        run = MatchingRun.objects.create(
            cohort=cohort,
            weights=policy.weights,
            protect_worst_off=policy.protect_worst_off
            if protect_worst_off is None
            else protect_worst_off,
            allow_without_shared_time=policy.allow_without_shared_time,
            created_by=user,
        )
        transaction.on_commit(partial(tasks.run_matching.delay, run.pk))
    return run


def _progress(run: MatchingRun, percent: int, stage: str) -> None:
    MatchingRun.objects.filter(pk=run.pk).update(progress=percent, stage=stage)


def matching_run_execute(*, run: MatchingRun) -> MatchingRun:
    """Do the run: never raises for a cohort's content; an empty side or a cohort where
    everyone is ruled out ends with a clear report."""
    cohort = run.cohort
    _progress(run, 10, "Loading intakes")
    data = cohort_data(cohort, allow_without_shared_time=run.allow_without_shared_time)
    waiting: list[WaitingEntry] = [
        WaitingEntry(run=run, participant=p, reason="Intake not completed yet.")
        for p in data.without_intake
    ]
    proposals: list[ProposedPair] = []
    notes = []
    if not data.mentees or not data.mentors:
        missing = "mentees" if not data.mentees else "reverse-mentors"
        notes.append(f"No {missing} with a completed intake: nobody could be matched.")
        waiting += [
            WaitingEntry(run=run, participant=p, reason=f"No {missing} with a completed intake.")
            for p in data.mentees + data.mentors
        ]
        solution = None
    else:
        _progress(run, 30, "Scoring every possible pair")
        problem = engine.build_problem(
            data.mentee_side, data.mentor_side, weights=run.weights, constraints=data.constraints
        )
        _progress(run, 60, "Finding the best matching")
        solution = engine.solve(
            problem, constraints=data.constraints, protect_worst_off=run.protect_worst_off
        )
        _progress(run, 85, "Explaining each pair")
        proposals = _proposals(run, data, problem, solution)
        waiting += _waiting(run, data, problem, solution)
        if not solution.pairs:
            notes.append("The rules rule out every possible pair: see the waiting list.")
    with transaction.atomic():
        run.proposals.all().delete()
        run.waiting.all().delete()
        ProposedPair.objects.bulk_create(proposals, batch_size=1000)
        WaitingEntry.objects.bulk_create(waiting, batch_size=1000)
        run.status = MatchingRun.Status.DONE
        run.progress = 100
        run.stage = "Done"
        run.finished_at = timezone.now()
        run.total_score = solution.total if solution and solution.pairs else None
        run.lowest_score = solution.lowest if solution and solution.pairs else None
        run.matched_count = len(proposals)
        run.waiting_count = len(waiting)
        run.message = " ".join(notes)
        run.save()
    return run


def _proposals(
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


def _waiting(
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


# --- review -------------------------------------------------------------------------------


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
    check and the change, and refuse unless it is finished and not yet approved."""
    status = MatchingRun.objects.select_for_update().values_list("status", flat=True).get(pk=run.pk)
    if status != MatchingRun.Status.DONE:
        raise MatchingError("Only a finished run that is not yet approved can be changed.")


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
        proposal.score = round(check.score, 4)
        proposal.reasons = check.reasons
        proposal.not_best = ""
        proposal.changed_by_manager = True
        proposal.save()
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
            proposal.score = round(check.score, 4)
            proposal.reasons = check.reasons
            proposal.not_best = ""
            proposal.changed_by_manager = True
            proposal.save()
        _refresh_totals(run)


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
    """Turn the proposal into pairs and queue the introductions after commit. Approving twice
    (a double click, two managers) creates the pairs once."""

    with transaction.atomic():
        claimed = MatchingRun.objects.filter(pk=run.pk, status=MatchingRun.Status.DONE).update(
            status=MatchingRun.Status.APPROVED, approved_at=timezone.now(), approved_by=user
        )
        if not claimed:
            raise MatchingError("This run has already been approved, or is not finished yet.")
        run.refresh_from_db()
        today = timezone.localdate()
        start = max(today, run.cohort.starts_on)
        pairs = []
        for proposal in run.proposals.select_related("mentee", "reverse_mentor"):
            current = Pair.objects.filter(mentee=proposal.mentee, status__in=CURRENT_PAIR).first()
            if current and current.reverse_mentor_id == proposal.reverse_mentor_id:
                continue  # kept as it is
            if current:
                pair_close(current, reason="Re-matched", now=timezone.now())
            pairs.append(
                Pair.objects.create(
                    cohort=run.cohort,
                    mentee=proposal.mentee,
                    reverse_mentor=proposal.reverse_mentor,
                    status=Pair.Status.ACTIVE,
                    started_on=start,
                    score=proposal.score,
                    replaces=current,
                )
            )
        matched = [p.mentee_id for p in pairs] + [p.reverse_mentor_id for p in pairs]
        Participant.objects.filter(pk__in=matched).update(status=Participant.Status.MATCHED)
        now = timezone.now()
        for pair in pairs:
            notices.ask_match_introduction(pair)
        Pair.objects.filter(pk__in=[pair.pk for pair in pairs]).update(introduced_at=now)
    return pairs


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
