"""A cohort as the engine sees it: its participants with a completed intake loaded into the
engine's arrays, the rules that apply to them (reporting lines, exclusions, locks, blocks,
answers "rather not with"), and the pairs a re-run should keep where it costs little. A fixed
number of queries whatever the cohort's size."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

import numpy as np
from django.db.models import Count, Q, QuerySet

from matching import engine
from matching.models import MatchingPolicy, MatchingRun, PairRule
from pairs.models import Pair
from programmes.availability import to_utc_hours_of_week
from programmes.models import Cohort, Intake, IntakeObjective, Participant, Person, Role
from programmes.organisation import max_mentoring_load
from programmes.reporting_lines import tree_intervals

MODES: dict[str, int] = {
    Intake.MeetingMode.IN_PERSON: engine.IN_PERSON,
    Intake.MeetingMode.VIDEO: engine.VIDEO,
}


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
    # The organisation's cap on one person's pairs across programmes, as this run read it.
    load_cap: int = 0


def policy_for(cohort: Cohort) -> MatchingPolicy:
    policy, _ = MatchingPolicy.objects.get_or_create(programme_id=cohort.programme_id)
    return policy


def cohort_data(cohort: Cohort, *, allow_without_shared_time: bool = False) -> CohortData:
    """Everything the engine needs about a cohort, in a fixed number of queries. The chosen
    topics come as (participant, topic) rows straight into arrays, and hours are converted
    to UTC once per time zone, not once per person: at 5,000 a side, model instances for
    every answer and a datetime per slot took most of the run."""
    taking_part = cohort.participants.exclude(status=Participant.Status.WITHDRAWN)
    participants = list(taking_part.select_related("person", "intake").order_by("pk"))
    complete = [p for p in participants if _submitted(p)]
    without = [p for p in participants if not _submitted(p)]
    mentees = [p for p in complete if p.role == Role.MENTEE]
    mentors = [p for p in complete if p.role == Role.REVERSE_MENTOR]
    topics = list(cohort.programme.topics.values_list("pk", "title"))
    column = {pk: i for i, (pk, _) in enumerate(topics)}
    # Only the lines above the cohort's members, walked up in the database.
    intervals = tree_intervals(Person.objects.managers_above(taking_part.values("person")))
    departments: dict[str, int] = {}
    # Subqueries, not lists of thousands of ids: rows for anyone else are skipped below.
    in_cohort = {"intake__participant__in": taking_part.values("pk")}
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
        Pair.objects.current()
        .filter(
            reverse_mentor__person__in=taking_part.filter(role=Role.REVERSE_MENTOR).values(
                "person"
            ),
        )
        .exclude(cohort=cohort)
        .values("reverse_mentor__person")
        .annotate(n=Count("pk"))
        .values_list("reverse_mentor__person", "n")
    )
    load_elsewhere = {}
    cap = max_mentoring_load()
    capacity = cast(np.ndarray, mentor_side.capacity)  # the mentors' side has one
    for row, p in enumerate(mentors):
        elsewhere = load.get(p.person_id, 0)
        load_elsewhere[row] = elsewhere
        capacity[row] = max(0, min(p.capacity, cap - elsewhere))

    return CohortData(
        cohort=cohort,
        mentees=mentees,
        mentors=mentors,
        mentee_side=mentee_side,
        mentor_side=mentor_side,
        constraints=_constraints(cohort, taking_part, mentees, mentors, allow_without_shared_time),
        topics=[title for _, title in topics],
        without_intake=without,
        load_elsewhere=load_elsewhere,
        load_cap=cap,
    )


def _submitted(participant: Participant) -> bool:
    intake = getattr(participant, "intake", None)
    return intake is not None and intake.submitted_at is not None


def _codes(values: list[str], choices: list[str]) -> np.ndarray:
    index = {v: i for i, v in enumerate(choices)}
    return np.array([index.get(v, -1) for v in values], dtype=int)


def _utc_offset(zone: str, cohort: Cohort) -> float:
    moment = datetime.combine(cohort.starts_on, time(12), tzinfo=ZoneInfo(zone))
    return cast(timedelta, moment.utcoffset()).total_seconds() / 3600


def _constraints(
    cohort: Cohort,
    taking_part: QuerySet,
    mentees: list[Participant],
    mentors: list[Participant],
    allow: bool,
) -> engine.Constraints:
    mentee_row = {p.person_id: i for i, p in enumerate(mentees)}
    mentor_row = {p.person_id: j for j, p in enumerate(mentors)}
    people = taking_part.values("person")
    rules = PairRule.objects.filter(Q(cohort=cohort) | Q(kind=PairRule.Kind.BLOCKED)).filter(
        mentee__in=people, reverse_mentor__in=people
    )
    constraints = engine.Constraints(
        allow_without_shared_time=allow, avoided=_avoided(mentees, mentors, taking_part)
    )
    for rule in rules:
        if rule.mentee_id not in mentee_row or rule.reverse_mentor_id not in mentor_row:
            continue  # someone without a finished intake, or on the other side
        pair = (mentee_row[rule.mentee_id], mentor_row[rule.reverse_mentor_id])
        if rule.kind == PairRule.Kind.LOCKED:
            constraints.locked.add(pair)
        else:
            constraints.excluded.add(pair)
    # Pairs already made in this cohort, or proposed by its latest run, are kept where it
    # costs little: one changed weight should not reshuffle everyone.
    current = list(
        Pair.objects.current()
        .filter(cohort=cohort)
        .values_list("mentee__person", "reverse_mentor__person")
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
    mentees: list[Participant],
    mentors: list[Participant],
    taking_part: QuerySet | None = None,
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
        if taking_part is None
        else taking_part.values("pk")
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
