"""The KPI snapshots: DESIGN.md's "numbers every part must agree on", per cohort and calendar
month and for the whole programme, written to KpiSnapshot. Pages read the snapshots; nothing
recomputes a figure on the fly, so the admin, the sponsors' pages and the e-mails agree.

``kpis_compute`` recomputes one programme and replaces all its rows in one transaction, with
the programme row locked so two runs take turns; recomputing writes equal rows. ``kpis_due``
(beat, every ten minutes) computes each programme whose night has come: running programmes,
and closed ones whose last cohort ended less than CLOSED_GRACE ago (late pulses and the
end-of-cohort NPS answers still arrive), once their latest snapshot is older than the last
02:00 in the programme's time zone (or they have none). Run twice, the second run computes
nothing.

**Months** are calendar months in ``Programme.time_zone``. The programme has rows for every
month from its earliest cohort's start to the current month, but not past its last cohort's
end; a cohort has rows for every month it runs (start to end, not past the current month),
with every figure None ("no data") where there is nothing to compute it from. Programme rows
are the sums of the cohort rows of the same month (numerators, denominators and people add
up: a participant belongs to one cohort), except topic coverage, whose distinct topics are
counted across the cohorts. Data of a cohort outside its months is left out, except survey
answers given after its last month (or before its first), which count in that month: the
end-of-cohort NPS and confidence answers arrive in the days after a cohort ends.

**The figures** (a session's month is the month it starts in; "held" is the session's status):

- session_frequency: held sessions / pairs active in the month. A pair is active in a month
  when it is not PROPOSED, started on or before the month's last day (a pair with no start
  date counts from the day it was created, as the at-risk rules do) and has not
  ended, or ended on or after the month's first day. Paused pairs count: a pause is part of
  the programme's cadence problem, not a reason to leave the pair out.
- notes_logged: held sessions with at least one pulse whose learning is not blank / held
  sessions.
- action_commitment: pulses answering "held" whose action is not blank / pulses answering
  "held". (pulse_submit stores both lines stripped, so blank is "".)
- action_follow_through: pulses reporting their previous action done ("yes"; "partly" is not
  done) / pulses that answered the follow-up, in the month of the follow-up pulse's session.
- pulse_response_rate: answered pulse requests / pulse requests for the month's sessions (as
  surveys/counts.py counts them). Pulses are read through their requests throughout: every
  pulse has one (surveys/pulses.py writes it with the pulse), and a rate can never pass 100%.
- cancellation_rate: sessions cancelled or missed / sessions whose start time has come
  (``starts_at`` <= now, whatever their status but withdrawn, so a session not logged yet
  counts as scheduled and not as missed, and one withdrawn when its pair ended not at all).
  Parts "mentee" and "reverse_mentor": the sessions that side cancelled, over the same
  denominator.
- confidence_change: per key skill (part "skill:<id>"), the mean over participants with an
  intake baseline and a later non-intake rating recorded before the month's end of (their
  latest such rating − their baseline); cumulative, as of the month's end. Part "": the mean
  of every participant-skill difference of all skills.
- nps: answers submitted in the month: numerator promoters (9–10) − detractors (0–6),
  denominator answers, value 100 × numerator / denominator (−100 to 100).
- reversion_rate: held sessions with at least one pulse saying the executive taught most
  (teaching 4 or 5) / held sessions with at least one teaching answer.
- at_risk_pairs: value and numerator the distinct pairs with a flag open at any moment of the
  month (opened before its end, not resolved before its start); denominator the active pairs.
  A count, so 0 is a figure when there are active pairs.
- topic_coverage: distinct road-map topics of held sessions / the programme's topics (None
  without topics or without held sessions). Parts "topic:<id>": held sessions on that topic
  (the value, a count), over held sessions.

Every value is None when its denominator is 0 (at_risk_pairs: when there are neither active
nor flagged pairs), never 0 and never an error. Values are stored unrounded; pages round.

**people** is how many participants a figure is computed from: those in the month's active
pairs for the session figures (session_frequency, notes_logged, cancellation_rate,
at_risk_pairs, topic_coverage), the distinct participants with a pulse for the month's
sessions for the pulse figures (action_commitment, action_follow_through,
pulse_response_rate, reversion_rate), the distinct participants answering for nps, and the
participants counted for confidence_change.

Everything is counted in the database by aggregate queries grouped by cohort and month: one
over sessions, one over pulse requests with their pulses, one each over pairs, flags and NPS
answers (a conditional count per month where a row spans months), and one window query for
the confidence change; Python only adds up aggregated rows. Learning and action are only
tested for blankness; nothing else a participant wrote is read.
"""

import logging
from collections import Counter
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    DateField,
    F,
    FilteredRelation,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone

from programmes.models import (
    Cohort,
    KeySkill,
    KpiSnapshot,
    Meeting,
    Pair,
    Participant,
    Programme,
    RiskFlag,
    Role,
    Topic,
)
from surveys.models import ConfidenceRating, NpsResponse, Pulse, PulseRequest

logger = logging.getLogger(__name__)

Kpi = KpiSnapshot.Kpi

# Snapshots are computed each night once it is this late in the programme's time zone.
COMPUTE_AT = time(2, 0)
# A closed programme is still computed this long after its last cohort ended.
CLOSED_GRACE = timedelta(days=60)
# Pulse answers 4 and 5 to "who taught most?" (1 = the reverse-mentor … 5 = the executive).
REVERTED_FROM = 4
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
class _Calendar:
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


def _calendar(programme: Programme, cohorts: list[Cohort], now: datetime) -> _Calendar | None:
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
    return _Calendar(zone=zone, months=_months(first, last), cohort_months=cohort_months)


# --- Counting -----------------------------------------------------------------------------------


@dataclass
class _Counts:
    """What one scope's figures for one month are computed from."""

    held: int = 0
    due: int = 0
    not_happened: int = 0
    cancelled_by_mentee: int = 0
    cancelled_by_mentor: int = 0
    requested: int = 0
    answered: int = 0
    held_answers: int = 0
    actions: int = 0
    followed_up: int = 0
    done: int = 0
    pulse_people: int = 0
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
    held_by_topic: Counter = field(default_factory=Counter)
    skill_total: Counter = field(default_factory=Counter)  # sum of (latest − baseline)
    skill_people: Counter = field(default_factory=Counter)

    def add(self, other: "_Counts") -> None:
        for f in fields(self):
            mine = getattr(self, f.name)
            if isinstance(mine, Counter):
                mine.update(getattr(other, f.name))
            else:
                setattr(self, f.name, mine + getattr(other, f.name))


def _add_row(counts: dict, key: tuple[int, date], row: dict) -> None:
    target = counts.setdefault(key, _Counts())
    for name, value in row.items():
        setattr(target, name, getattr(target, name) + value)


def _count_sessions(counts: dict, cohort_ids: list[int], cal: _Calendar, now: datetime) -> None:
    """Sessions by cohort, month and topic: held, due, cancelled (by whom) and missed."""
    # A session withdrawn when its pair ended was never due: neither side called it off.
    came = Q(starts_at__lte=now) & ~Q(status=Meeting.Status.WITHDRAWN)
    cancelled = came & Q(status=Meeting.Status.CANCELLED)
    rows = (
        Meeting.objects.filter(
            pair__cohort__in=cohort_ids, starts_at__gte=cal.starts, starts_at__lt=cal.ends
        )
        .annotate(month=_trunc_month("starts_at", cal.zone))
        .order_by()
        .values("pair__cohort", "month", "topic")
        .annotate(
            held=Count("pk", filter=Q(status=Meeting.Status.HELD)),
            due=Count("pk", filter=came),
            not_happened=Count(
                "pk", filter=came & Q(status__in=[Meeting.Status.CANCELLED, Meeting.Status.MISSED])
            ),
            cancelled_by_mentee=Count("pk", filter=cancelled & Q(cancelled_by=Role.MENTEE)),
            cancelled_by_mentor=Count("pk", filter=cancelled & Q(cancelled_by=Role.REVERSE_MENTOR)),
        )
    )
    for row in rows:
        key = (row.pop("pair__cohort"), row.pop("month"))
        topic = row.pop("topic")
        _add_row(counts, key, row)
        if topic is not None and row["held"]:
            counts[key].held_by_topic[topic] += row["held"]


def _count_answers(counts: dict, cohort_ids: list[int], cal: _Calendar) -> None:
    """Pulse requests by cohort and month of their session, each with its answer (the
    participant's pulse for that session, if any): one pass over requests and pulses gives
    the response rate, the pulse figures and the distinct people who answered. Every pulse
    has its request (surveys/pulses.py writes it with the pulse), so reading pulses through
    their requests reads them all, and "answered" can never exceed "requested".

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
            pulse_people=Count("participant", distinct=True, filter=Q(answer__isnull=False)),
            noted=Count("meeting", distinct=True, filter=held_session & Q(answer__learning__gt="")),
            reverted=Count(
                "meeting",
                distinct=True,
                filter=held_session & Q(answer__teaching__gte=REVERTED_FROM),
            ),
            taught=Count(
                "meeting", distinct=True, filter=held_session & Q(answer__teaching__isnull=False)
            ),
        )
    )
    for row in rows:
        _add_row(counts, (row.pop("meeting__pair__cohort"), row.pop("month")), row)


def _count_pairs(counts: dict, cohort_ids: list[int], cal: _Calendar) -> None:
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
        Pair.objects.filter(cohort__in=cohort_ids)
        .exclude(status=Pair.Status.PROPOSED)
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


def _count_flags(counts: dict, cohort_ids: list[int], cal: _Calendar) -> None:
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


def _count_nps(counts: dict, cohorts: list[Cohort], cal: _Calendar) -> None:
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
# figure. The three windows share one sort.
_CONFIDENCE_SQL = """
SELECT p.cohort_id, c.key_skill_id, c.month_ix, c.first_ix,
       SUM(c.change), SUM(c.first), COUNT(c.first_ix)
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
JOIN {participant} p ON p.id = c.participant_id
WHERE p.cohort_id IN ({cohorts})
GROUP BY p.cohort_id, c.key_skill_id, c.month_ix, c.first_ix
"""


def _count_confidence(counts: dict, skill_ids: list[int], cal: _Calendar) -> None:
    if not skill_ids:
        return
    cohort_ids = list(cal.cohort_months)
    boundaries = [
        connection.ops.adapt_datetimefield_value(month_start(next_month(month), cal.zone))
        for month in cal.months[:-1]
    ]
    # Ratings before the first month count in it, ratings after the last month in it.
    month_ix = (
        "CASE "
        + " ".join(f"WHEN r.recorded_at < %s THEN {i}" for i in range(len(boundaries)))
        + f" ELSE {len(cal.months) - 1} END"
        if boundaries
        else "0"
    )
    sql = _CONFIDENCE_SQL.format(
        month_ix=month_ix,
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
    # Each cohort month gets the running total of the changes up to its end.
    deltas: dict[tuple[int, date], _Counts] = {}
    for cohort_id, skill_id, month_ix, first_ix, change, first, people in changes:
        month = cal.clamp(cohort_id, cal.months[month_ix])
        delta = deltas.setdefault((cohort_id, month), _Counts())
        delta.skill_total[skill_id] += change
        delta.skill_people[skill_id] += first
        if first_ix is not None:
            month = cal.clamp(cohort_id, cal.months[first_ix])
            deltas.setdefault((cohort_id, month), _Counts()).confidence_people += people
    for cohort_id in {cohort_id for cohort_id, _ in deltas}:
        running = _Counts()
        for month in cal.cohort_months[cohort_id]:
            if (cohort_id, month) in deltas:
                running.add(deltas[cohort_id, month])
            target = counts.setdefault((cohort_id, month), _Counts())
            target.confidence_people += running.confidence_people
            target.skill_total.update(running.skill_total)
            target.skill_people.update(running.skill_people)


# --- Figures ------------------------------------------------------------------------------------


def _ratio(numerator: float, denominator: int, scale: float = 1) -> float | None:
    return scale * numerator / denominator if denominator else None


def _figures(
    c: _Counts, *, topic_ids: list[int], skill_ids: list[int]
) -> list[tuple[str, str, float | None, float, int, int]]:
    """(kpi, part, value, numerator, denominator, people) for one scope and month."""
    pairs, pulsed = c.pair_people, c.pulse_people
    covered = sum(1 for topic in topic_ids if c.held_by_topic[topic])
    flagged_value = c.flagged if (c.active_pairs or c.flagged) else None
    rows = [
        (Kpi.SESSION_FREQUENCY, "", _ratio(c.held, c.active_pairs), c.held, c.active_pairs, pairs),
        (Kpi.NOTES_LOGGED, "", _ratio(c.noted, c.held), c.noted, c.held, pairs),
        (Kpi.ACTION_COMMITMENT, "", _ratio(c.actions, c.held_answers), c.actions,
         c.held_answers, pulsed),
        (Kpi.ACTION_FOLLOW_THROUGH, "", _ratio(c.done, c.followed_up), c.done, c.followed_up,
         pulsed),
        (Kpi.PULSE_RESPONSE_RATE, "", _ratio(c.answered, c.requested), c.answered, c.requested,
         pulsed),
        (Kpi.CANCELLATION_RATE, "", _ratio(c.not_happened, c.due), c.not_happened, c.due, pairs),
        (Kpi.CANCELLATION_RATE, Role.MENTEE, _ratio(c.cancelled_by_mentee, c.due),
         c.cancelled_by_mentee, c.due, pairs),
        (Kpi.CANCELLATION_RATE, Role.REVERSE_MENTOR, _ratio(c.cancelled_by_mentor, c.due),
         c.cancelled_by_mentor, c.due, pairs),
        (Kpi.NPS, "", _ratio(c.promoters - c.detractors, c.answers, scale=100),
         c.promoters - c.detractors, c.answers, c.nps_people),
        (Kpi.REVERSION_RATE, "", _ratio(c.reverted, c.taught), c.reverted, c.taught, pulsed),
        (Kpi.AT_RISK_PAIRS, "", flagged_value, c.flagged, c.active_pairs, pairs),
        (Kpi.TOPIC_COVERAGE, "", _ratio(covered, len(topic_ids)) if c.held else None, covered,
         len(topic_ids), pairs),
    ]  # fmt: skip
    total = sum(c.skill_total[skill] for skill in skill_ids)
    counted = sum(c.skill_people[skill] for skill in skill_ids)
    rows.append(
        (Kpi.CONFIDENCE_CHANGE, "", _ratio(total, counted), total, counted, c.confidence_people)
    )
    for skill in skill_ids:
        n = c.skill_people[skill]
        rows.append(
            (Kpi.CONFIDENCE_CHANGE, f"skill:{skill}", _ratio(c.skill_total[skill], n),
             c.skill_total[skill], n, n)
        )  # fmt: skip
    for topic in topic_ids:
        held = c.held_by_topic[topic]
        rows.append(
            (Kpi.TOPIC_COVERAGE, f"topic:{topic}", held if c.held else None, held, c.held, pairs)
        )
    return rows


def _snapshots(programme: Programme, now: datetime) -> list[KpiSnapshot]:
    cohorts = list(Cohort.objects.filter(programme=programme).order_by("starts_on", "pk"))
    cal = _calendar(programme, cohorts, now)
    if cal is None:
        return []
    topic_ids = list(Topic.objects.filter(programme=programme).values_list("pk", flat=True))
    skill_ids = list(KeySkill.objects.filter(programme=programme).values_list("pk", flat=True))
    cohort_ids = list(cal.cohort_months)

    counts: dict[tuple[int, date], _Counts] = {}
    _count_sessions(counts, cohort_ids, cal, now)
    _count_answers(counts, cohort_ids, cal)
    _count_pairs(counts, cohort_ids, cal)
    _count_flags(counts, cohort_ids, cal)
    _count_nps(counts, cohorts, cal)
    _count_confidence(counts, skill_ids, cal)

    snapshots = []

    def write(cohort_id: int | None, month: date, c: _Counts) -> None:
        for kpi, part, value, numerator, denominator, people in _figures(
            c, topic_ids=topic_ids, skill_ids=skill_ids
        ):
            snapshots.append(
                KpiSnapshot(
                    programme_id=programme.pk,
                    cohort_id=cohort_id,
                    month=month,
                    kpi=kpi,
                    part=part,
                    value=value,
                    numerator=numerator,
                    denominator=denominator,
                    people=people,
                    computed_at=now,
                )
            )

    whole = {month: _Counts() for month in cal.months}
    for cohort_id, months in cal.cohort_months.items():
        for month in months:
            c = counts.get((cohort_id, month)) or _Counts()
            whole[month].add(c)
            write(cohort_id, month, c)
    for month, c in whole.items():
        write(None, month, c)
    return snapshots


# --- Services -----------------------------------------------------------------------------------


def kpis_compute(*, programme: Programme, now: datetime | None = None) -> int:
    """Recompute every snapshot of ``programme`` and replace its rows. Returns how many rows
    were written."""
    now = now or timezone.now()
    with transaction.atomic():
        programme = _lock(programme.pk)
        return _replace(programme, now)


def kpis_due(*, now: datetime | None = None) -> int:
    """Compute each programme whose nightly snapshots have come due. Returns how many
    programmes were computed."""
    now = now or timezone.now()
    latest = KpiSnapshot.objects.filter(programme=OuterRef("pk")).order_by("-computed_at")
    candidates = (
        Programme.objects.filter(
            Q(status=Programme.Status.RUNNING) | Q(status=Programme.Status.CLOSED)
        )
        .annotate(
            first_start=Min("cohorts__starts_on"),
            last_end=Max("cohorts__ends_on"),
            computed_at=Subquery(latest.values("computed_at")[:1]),
        )
        .order_by("pk")
    )
    computed = 0
    for programme in candidates:
        if not _is_due(programme, programme.computed_at, now):
            continue
        try:
            with transaction.atomic():
                locked = _lock(programme.pk)
                # Another run may have computed it while this one waited for the lock.
                done = KpiSnapshot.objects.filter(programme=locked).aggregate(at=Max("computed_at"))
                if not _is_due(programme, done["at"], now):
                    continue
                _replace(locked, now)
        except SoftTimeLimitExceeded:
            raise
        except Exception:
            # One programme's failure must not keep the others' figures from being computed;
            # it stays due, so the next scan tries it again.
            logger.exception("KPIs of programme %s could not be computed", programme.pk)
            continue
        computed += 1
    return computed


def last_compute_time(*, zone: ZoneInfo, now: datetime) -> datetime:
    """The latest COMPUTE_AT in ``zone`` at or before ``now``."""
    local = now.astimezone(zone)
    at = datetime.combine(local.date(), COMPUTE_AT, tzinfo=zone)
    if at > now:
        at = datetime.combine(local.date() - timedelta(days=1), COMPUTE_AT, tzinfo=zone)
    return at


def _is_due(programme: Programme, computed_at: datetime | None, now: datetime) -> bool:
    zone = ZoneInfo(programme.time_zone)
    today = now.astimezone(zone).date()
    # Nothing to compute before a cohort starts: such a programme would be "due" forever.
    if programme.first_start is None or programme.first_start > today:
        return False
    if programme.status == Programme.Status.CLOSED and programme.last_end < today - CLOSED_GRACE:
        return False
    return computed_at is None or computed_at < last_compute_time(zone=zone, now=now)


def _lock(programme_id: int) -> Programme:
    # Two computations of one programme take turns: the second waits here, then replaces the
    # first one's rows with equal ones rather than tripping over them.
    return Programme.objects.select_for_update().get(pk=programme_id)


def _replace(programme: Programme, now: datetime) -> int:
    snapshots = _snapshots(programme, now)
    KpiSnapshot.objects.filter(programme=programme).delete()
    KpiSnapshot.objects.bulk_create(snapshots, batch_size=1000)
    return len(snapshots)
