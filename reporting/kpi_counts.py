"""What the KPI snapshots are computed from (reporting/kpis.py says what each figure means):
the calendar months of a programme and its cohorts, and the aggregate queries that count, per
cohort and month, sessions, pulse requests and their answers, pairs, flags, NPS answers and
confidence ratings, with the distinct people behind each figure.

Each figure knows its own people: the participants whose sessions or answers its value is
computed from, counted distinct in the query that counts the figure (never one count borrowed
from another figure), so the sponsors' pages can suppress a figure by the people it really
comes from. Participants belong to one cohort, so a programme's people are the sum of its
cohorts'."""

from collections import Counter
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    Case,
    Count,
    DateField,
    F,
    FilteredRelation,
    Q,
    Value,
    When,
)
from django.db.models.functions import TruncMonth

from pairs.models import Meeting, Pair
from programmes.models import Cohort, Participant, Programme, Role
from risks.models import RiskFlag
from surveys.models import ConfidenceRating, NpsResponse, Pulse, PulseRequest

PROMOTERS_FROM = 9
DETRACTORS_UP_TO = 6


# --- Months -------------------------------------------------------------------------------------


def next_month(month: date) -> date:
    return (month.replace(day=1) + timedelta(days=32)).replace(day=1)


def month_start(month: date, zone: ZoneInfo) -> datetime:
    """The instant ``month`` begins in ``zone``."""
    return datetime.combine(month, time(0), tzinfo=zone)


def _months(first: date, last: date) -> list[date]:
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def _trunc_month(path: str, zone: ZoneInfo) -> TruncMonth:
    return TruncMonth(path, tzinfo=zone, output_field=DateField())


@dataclass(frozen=True)
class Calendar:
    """The months of a programme and of each of its cohorts."""

    zone: ZoneInfo
    months: list[date]  # the programme's, in order
    cohort_months: dict[int, list[date]]

    @property
    def starts(self) -> datetime:
        return month_start(self.months[0], self.zone)

    @property
    def ends(self) -> datetime:
        return month_start(next_month(self.months[-1]), self.zone)

    def clamp(self, cohort_id: int, month: date) -> date:
        """``month``, or the nearest month of the cohort (for late survey answers)."""
        own = self.cohort_months[cohort_id]
        return min(max(month, own[0]), own[-1])


def calendar_of(programme: Programme, cohorts: list[Cohort], now: datetime) -> Calendar | None:
    zone = ZoneInfo(programme.time_zone)
    current = now.astimezone(zone).date().replace(day=1)
    cohort_months = {}
    for cohort in cohorts:
        last = min(cohort.ends_on, current).replace(day=1)
        months = _months(cohort.starts_on.replace(day=1), last)
        if months:  # a cohort that has not started yet has no months
            cohort_months[cohort.pk] = months
    if not cohort_months:
        return None
    first = min(months[0] for months in cohort_months.values())
    last = max(months[-1] for months in cohort_months.values())
    return Calendar(zone=zone, months=_months(first, last), cohort_months=cohort_months)


# --- Counting -----------------------------------------------------------------------------------


@dataclass
class Counts:
    """What one scope's figures for one month are computed from. The ``*_people`` fields are
    distinct participants: see each count's query for whom it counts."""

    held: int = 0
    due: int = 0
    not_happened: int = 0
    cancelled_by_mentee: int = 0
    cancelled_by_mentor: int = 0
    held_people: int = 0  # in the pairs of the month's held sessions
    due_people: int = 0  # in the pairs of the month's sessions that came due
    requested: int = 0
    answered: int = 0
    held_answers: int = 0
    actions: int = 0
    followed_up: int = 0
    done: int = 0
    requested_people: int = 0  # asked for a pulse
    held_answer_people: int = 0  # answered "held"
    followed_up_people: int = 0  # answered the follow-up question
    noted_people: int = 0  # answered a pulse for a held session (learning logged or not)
    taught_people: int = 0  # answered "who taught most?" for a held session
    noted: int = 0
    reverted: int = 0
    taught: int = 0
    active_pairs: int = 0
    pair_people: int = 0
    flagged: int = 0
    answers: int = 0
    promoters: int = 0
    detractors: int = 0
    nps_people: int = 0
    confidence_people: int = 0
    confidence_changed: int = 0  # with a rating counted in the month (all skills)
    held_by_topic: Counter = field(default_factory=Counter)
    topic_people: Counter = field(default_factory=Counter)  # in the pairs of held sessions
    skill_total: Counter = field(default_factory=Counter)  # sum of (latest − baseline)
    skill_people: Counter = field(default_factory=Counter)
    skill_changed: Counter = field(default_factory=Counter)  # with a rating in the month

    def add(self, other: "Counts") -> None:
        for f in fields(self):
            mine = getattr(self, f.name)
            if isinstance(mine, Counter):
                mine.update(getattr(other, f.name))
            else:
                setattr(self, f.name, mine + getattr(other, f.name))


def _add_row(counts: dict, key: tuple[int, date], row: dict) -> None:
    target = counts.setdefault(key, Counts())
    for name, value in row.items():
        setattr(target, name, getattr(target, name) + value)


def count_sessions(counts: dict, cohort_ids: list[int], cal: Calendar, now: datetime) -> None:
    """Sessions by cohort and month: held, due, cancelled (by whom) and missed, and the
    people in the pairs of the held and of the due sessions; then held sessions by topic,
    with the people in their pairs. Two queries, so people are distinct per month and per
    topic (mentees and reverse-mentors are different participants, so the two add up)."""
    # A session withdrawn when its pair ended was never due: neither side called it off.
    came = Q(starts_at__lte=now) & ~Q(status=Meeting.Status.WITHDRAWN)
    cancelled = came & Q(status=Meeting.Status.CANCELLED)
    held = Q(status=Meeting.Status.HELD)
    sessions = (
        Meeting.objects.filter(
            pair__cohort__in=cohort_ids, starts_at__gte=cal.starts, starts_at__lt=cal.ends
        )
        .annotate(month=_trunc_month("starts_at", cal.zone))
        .order_by()
    )
    rows = sessions.values("pair__cohort", "month").annotate(
        held=Count("pk", filter=held),
        due=Count("pk", filter=came),
        not_happened=Count("pk", filter=came & Q(status__in=Meeting.NOT_HAPPENED)),
        cancelled_by_mentee=Count("pk", filter=cancelled & Q(cancelled_by=Role.MENTEE)),
        cancelled_by_mentor=Count("pk", filter=cancelled & Q(cancelled_by=Role.REVERSE_MENTOR)),
        held_mentees=Count("pair__mentee", distinct=True, filter=held),
        held_mentors=Count("pair__reverse_mentor", distinct=True, filter=held),
        due_mentees=Count("pair__mentee", distinct=True, filter=came),
        due_mentors=Count("pair__reverse_mentor", distinct=True, filter=came),
    )
    for row in rows:
        key = (row.pop("pair__cohort"), row.pop("month"))
        row["held_people"] = row.pop("held_mentees") + row.pop("held_mentors")
        row["due_people"] = row.pop("due_mentees") + row.pop("due_mentors")
        _add_row(counts, key, row)
    by_topic = (
        sessions.filter(held, topic__isnull=False)
        .values("pair__cohort", "month", "topic")
        .annotate(
            held=Count("pk"),
            mentees=Count("pair__mentee", distinct=True),
            mentors=Count("pair__reverse_mentor", distinct=True),
        )
    )
    for row in by_topic:
        target = counts.setdefault((row["pair__cohort"], row["month"]), Counts())
        target.held_by_topic[row["topic"]] += row["held"]
        target.topic_people[row["topic"]] += row["mentees"] + row["mentors"]


def count_answers(counts: dict, cohort_ids: list[int], cal: Calendar) -> None:
    """Pulse requests by cohort and month of their session, each with its answer (the
    participant's pulse for that session, if any): one pass over requests and pulses gives
    the response rate, the pulse figures and, for each, the distinct people it comes from.
    Every pulse has its request (surveys/pulses.py writes it with the pulse), so reading
    pulses through their requests reads them all, and "answered" can never exceed "requested".

    The held sessions the answers say something about are counted distinct: both
    participants of a session may say it."""
    answered_held = Q(answer__held=True)
    held_session = Q(meeting__status=Meeting.Status.HELD)
    rows = (
        PulseRequest.objects.filter(
            meeting__pair__cohort__in=cohort_ids,
            meeting__starts_at__gte=cal.starts,
            meeting__starts_at__lt=cal.ends,
        )
        .annotate(
            answer=FilteredRelation(
                "meeting__pulses", condition=Q(meeting__pulses__participant=F("participant"))
            ),
            month=_trunc_month("meeting__starts_at", cal.zone),
        )
        .order_by()
        .values("meeting__pair__cohort", "month")
        .annotate(
            requested=Count("pk"),
            answered=Count("answer"),
            held_answers=Count("answer", filter=answered_held),
            # pulse_submit stores learning and action stripped, so "not blank" is "not empty";
            # written as > "" because a missing answer's NULL must not count.
            actions=Count("answer", filter=answered_held & Q(answer__action__gt="")),
            followed_up=Count("answer", filter=Q(answer__previous_action_done__gt="")),
            done=Count("answer", filter=Q(answer__previous_action_done=Pulse.Done.YES)),
            requested_people=Count("participant", distinct=True),
            held_answer_people=Count("participant", distinct=True, filter=answered_held),
            followed_up_people=Count(
                "participant", distinct=True, filter=Q(answer__previous_action_done__gt="")
            ),
            noted_people=Count(
                "participant", distinct=True, filter=held_session & Q(answer__isnull=False)
            ),
            taught_people=Count(
                "participant",
                distinct=True,
                filter=held_session & Q(answer__teaching__isnull=False),
            ),
            noted=Count("meeting", distinct=True, filter=held_session & Q(answer__learning__gt="")),
            reverted=Count(
                "meeting",
                distinct=True,
                filter=held_session & Q(answer__teaching__gte=Pulse.REVERTED_FROM),
            ),
            taught=Count(
                "meeting", distinct=True, filter=held_session & Q(answer__teaching__isnull=False)
            ),
        )
    )
    for row in rows:
        _add_row(counts, (row.pop("meeting__pair__cohort"), row.pop("month")), row)


def count_pairs(counts: dict, cohort_ids: list[int], cal: Calendar) -> None:
    """Active pairs, and the distinct people in them, per cohort and month: one conditional
    count per month. Mentees and reverse-mentors are different participants, so the two
    distinct counts add up."""
    aggregates = {}
    for i, month in enumerate(cal.months):
        following = next_month(month)
        active = (
            (
                Q(started_on__lt=following)
                | Q(started_on__isnull=True, created_at__lt=month_start(following, cal.zone))
            )
            & (Q(ended_on__isnull=True) | Q(ended_on__gte=month))
        )  # fmt: skip
        aggregates[f"pairs_{i}"] = Count("pk", filter=active)
        aggregates[f"mentees_{i}"] = Count("mentee", distinct=True, filter=active)
        aggregates[f"mentors_{i}"] = Count("reverse_mentor", distinct=True, filter=active)
    rows = (
        Pair.objects.started()
        .filter(cohort__in=cohort_ids)
        .order_by()
        .values("cohort")
        .annotate(**aggregates)
    )
    for row in rows:
        for i, month in enumerate(cal.months):
            if row[f"pairs_{i}"]:
                _add_row(
                    counts,
                    (row["cohort"], month),
                    {
                        "active_pairs": row[f"pairs_{i}"],
                        "pair_people": row[f"mentees_{i}"] + row[f"mentors_{i}"],
                    },
                )


def count_flags(counts: dict, cohort_ids: list[int], cal: Calendar) -> None:
    """Distinct pairs with a flag open at some moment of each month, per cohort."""
    aggregates = {}
    for i, month in enumerate(cal.months):
        starts, ends = month_start(month, cal.zone), month_start(next_month(month), cal.zone)
        open_then = Q(opened_at__lt=ends) & (
            Q(resolved_at__isnull=True) | Q(resolved_at__gte=starts)
        )
        aggregates[f"flagged_{i}"] = Count("pair", distinct=True, filter=open_then)
    rows = (
        RiskFlag.objects.filter(pair__cohort__in=cohort_ids, opened_at__lt=cal.ends)
        .order_by()
        .values("pair__cohort")
        .annotate(**aggregates)
    )
    for row in rows:
        for i, month in enumerate(cal.months):
            if row[f"flagged_{i}"]:
                _add_row(counts, (row["pair__cohort"], month), {"flagged": row[f"flagged_{i}"]})


def count_nps(counts: dict, cohorts: list[Cohort], cal: Calendar) -> None:
    """NPS answers per cohort and month submitted. Answers outside a cohort's months move to
    its nearest month in the query itself, so the distinct people stay distinct."""
    answered = _trunc_month("submitted_at", cal.zone)
    moved = []
    for cohort in cohorts:
        own = cal.cohort_months.get(cohort.pk)
        if own is None:
            continue
        moved += [
            When(
                participant__cohort=cohort.pk,
                submitted_at__lt=month_start(own[0], cal.zone),
                then=Value(own[0]),
            ),
            When(
                participant__cohort=cohort.pk,
                submitted_at__gte=month_start(next_month(own[-1]), cal.zone),
                then=Value(own[-1]),
            ),
        ]
    rows = (
        NpsResponse.objects.filter(participant__cohort__in=list(cal.cohort_months))
        .annotate(month=Case(*moved, default=answered, output_field=DateField()))
        .order_by()
        .values("participant__cohort", "month")
        .annotate(
            answers=Count("pk"),
            promoters=Count("pk", filter=Q(score__gte=PROMOTERS_FROM)),
            detractors=Count("pk", filter=Q(score__lte=DETRACTORS_UP_TO)),
            nps_people=Count("participant", distinct=True),
        )
    )
    for row in rows:
        month = row.pop("month")
        if isinstance(month, datetime):  # PostgreSQL's DATE_TRUNC in a CASE stays a timestamp
            month = month.date()
        _add_row(counts, (row.pop("participant__cohort"), month), row)


# The confidence change is cumulative, so it is counted as changes: each participant's first
# rating of a skill after their baseline adds (rating − baseline) and one participant, each
# later rating adds (rating − the rating before), and a month's figure is the running total
# as of its end. LAG needs a window, which the ORM cannot group by, hence SQL; months are
# bucketed by boundaries computed here in the programme's zone (TruncMonth's months), as
# month indexes. ``first_ix`` is set on one row per participant (the first in the window's
# order) to the month they were first counted in: the distinct people of the all-skills
# figure. The three windows share one sort. The outer level marks one row per participant
# and skill, and one per participant, in each month: the distinct people whose ratings moved
# the running total that month (a month-to-month difference is theirs alone).
_CONFIDENCE_SQL = """
SELECT p.cohort_id, d.key_skill_id, d.month_ix, d.first_ix,
       SUM(d.change), SUM(d.first), COUNT(d.first_ix), SUM(d.skill_moved), SUM(d.person_moved)
FROM (
    SELECT c.participant_id, c.key_skill_id, c.month_ix, c.first_ix, c.change, c.first,
           CASE WHEN ROW_NUMBER() OVER (
                    PARTITION BY c.participant_id, c.key_skill_id, c.month_ix) = 1
                THEN 1 ELSE 0 END AS skill_moved,
           CASE WHEN ROW_NUMBER() OVER (PARTITION BY c.participant_id, c.month_ix) = 1
                THEN 1 ELSE 0 END AS person_moved
    FROM (
        SELECT r.participant_id AS participant_id, r.key_skill_id AS key_skill_id,
               {month_ix} AS month_ix,
               r.value - COALESCE(LAG(r.value) OVER skill_ratings, b.value) AS change,
               CASE WHEN LAG(r.value) OVER skill_ratings IS NULL THEN 1 ELSE 0 END AS first,
               CASE WHEN ROW_NUMBER() OVER person_ratings = 1
                    THEN MIN({month_ix}) OVER person END AS first_ix
        FROM {rating} r
        JOIN {rating} b
          ON b.participant_id = r.participant_id AND b.key_skill_id = r.key_skill_id
         AND b.context = %s
        WHERE r.key_skill_id IN ({skills}) AND r.context <> %s AND r.recorded_at > b.recorded_at
        WINDOW skill_ratings AS (
                   PARTITION BY r.participant_id, r.key_skill_id ORDER BY r.recorded_at, r.id),
               person_ratings AS (
                   PARTITION BY r.participant_id ORDER BY r.key_skill_id, r.recorded_at, r.id),
               person AS (PARTITION BY r.participant_id)
    ) AS c
) AS d
JOIN {participant} p ON p.id = d.participant_id
WHERE p.cohort_id IN ({cohorts})
GROUP BY p.cohort_id, d.key_skill_id, d.month_ix, d.first_ix
"""


def count_confidence(counts: dict, skill_ids: list[int], cal: Calendar) -> None:
    if not skill_ids:
        return
    cohort_ids = list(cal.cohort_months)
    boundaries = [
        connection.ops.adapt_datetimefield_value(month_start(next_month(month), cal.zone))
        for month in cal.months[:-1]
    ]
    # Ratings before the first month count in it, ratings after the last month in it.
    month_ix_sql = (
        "CASE "
        + " ".join(f"WHEN r.recorded_at < %s THEN {i}" for i in range(len(boundaries)))
        + f" ELSE {len(cal.months) - 1} END"
        if boundaries
        else "0"
    )
    sql = _CONFIDENCE_SQL.format(
        month_ix=month_ix_sql,
        rating=connection.ops.quote_name(ConfidenceRating._meta.db_table),
        participant=connection.ops.quote_name(Participant._meta.db_table),
        skills=", ".join(["%s"] * len(skill_ids)),
        cohorts=", ".join(["%s"] * len(cohort_ids)),
    )
    params = [
        *boundaries,  # month_ix
        *boundaries,  # month_ix again, inside MIN()
        ConfidenceRating.Context.INTAKE,
        *skill_ids,
        ConfidenceRating.Context.INTAKE,
        *cohort_ids,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        changes = cursor.fetchall()
    # Each cohort month gets the running total of the changes up to its end, and the people
    # whose ratings moved it in that month. Rating months outside a cohort's months are
    # clamped to its first or last; their movers are taken as the largest of them rather than
    # the sum, which could count one participant twice (fewer movers only suppresses more).
    deltas: dict[tuple[int, date], Counts] = {}
    moved: dict[tuple[int, int], Counts] = {}
    for row in changes:
        cohort_id, skill_id, month_ix, first_ix, change, first, people, skill_moved, moved_ = row
        month = cal.clamp(cohort_id, cal.months[month_ix])
        delta = deltas.setdefault((cohort_id, month), Counts())
        delta.skill_total[skill_id] += change
        delta.skill_people[skill_id] += first
        movers = moved.setdefault((cohort_id, month_ix), Counts())
        movers.skill_changed[skill_id] += skill_moved
        movers.confidence_changed += moved_
        if first_ix is not None:
            month = cal.clamp(cohort_id, cal.months[first_ix])
            deltas.setdefault((cohort_id, month), Counts()).confidence_people += people
    for (cohort_id, month_ix), movers in moved.items():
        month = cal.clamp(cohort_id, cal.months[month_ix])
        target = counts.setdefault((cohort_id, month), Counts())
        target.confidence_changed = max(target.confidence_changed, movers.confidence_changed)
        for skill_id, n in movers.skill_changed.items():
            target.skill_changed[skill_id] = max(target.skill_changed[skill_id], n)
    for cohort_id in {cohort_id for cohort_id, _ in deltas}:
        running = Counts()
        for month in cal.cohort_months[cohort_id]:
            if (cohort_id, month) in deltas:
                running.add(deltas[cohort_id, month])
            target = counts.setdefault((cohort_id, month), Counts())
            target.confidence_people += running.confidence_people
            target.skill_total.update(running.skill_total)
            target.skill_people.update(running.skill_people)
