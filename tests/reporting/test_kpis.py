"""kpis_compute: every figure of DESIGN.md's "numbers every part must agree on", per cohort and
calendar month and for the whole programme, against small fixtures worked out by hand in the
comments. Figures with nothing to compute from are None ("no data"), never 0 and never an
error; recomputing writes equal rows; programme rows add up the cohorts'."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pairs.models import Meeting, Pair
from programmes.models import Role
from reporting import tasks
from reporting.kpis import kpis_compute
from reporting.models import KpiSnapshot
from surveys.models import NpsResponse
from tests.factories import KeySkillFactory, ProgrammeFactory
from tests.reporting.kpi_helpers import (
    HELD,
    baseline,
    build_world,
    cohort_in,
    figures,
    flag,
    nps,
    pair_in,
    pulse,
    rating,
    session,
    snapshot_rows,
    utc,
)

pytestmark = pytest.mark.django_db

K = KpiSnapshot.Kpi
JAN, FEB, MAR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)
NOW = utc(2026, 2, 20, 12)  # London is on UTC in January and February


@pytest.fixture
def world() -> dict:
    return build_world(ProgrammeFactory(time_zone="Europe/London", sessions_per_month_target=2))


def test_it_computes_every_figure_of_january_by_hand(world):
    kpis_compute(programme=world["programme"], now=NOW)
    got = figures(world["programme"], world["a"])
    t1, t2, t3, t4 = (topic.pk for topic in world["topics"])
    k1, k2 = (skill.pk for skill in world["skills"])

    # Active in January: P1, P2 and P4 (ended the 20th), not the proposed P3: 3 pairs,
    # 6 people. Held: S1, S2, S4 → 3 / 3 = 1.0 a pair.
    assert got[JAN, K.SESSION_FREQUENCY, ""] == (1.0, 3, 3, 6)
    # Held sessions with a learning: S1 (both), S2 (the executive); S4's answers have none
    # → 2 / 3, from the four who answered for held sessions (m1, r1, m2, r2), not the six
    # in active pairs.
    assert got[JAN, K.NOTES_LOGGED, ""] == pytest.approx((2 / 3, 2, 3, 4))
    # Pulses answering "held": S1 ×2, S2, S4 ×2 = 5; with an action: S1's executive and
    # S4's executive → 2 / 5. Four people answered pulses (m1, r1, m2, r2).
    assert got[JAN, K.ACTION_COMMITMENT, ""] == (0.4, 2, 5, 4)
    # Follow-ups answered: "yes" (S2) and "partly" (S5, not done) → 1 / 2, from the two who
    # answered them (m1, m2).
    assert got[JAN, K.ACTION_FOLLOW_THROUGH, ""] == (0.5, 1, 2, 2)
    # Requests: S1, S2, S4, S5, two each = 8; answered 6 (S2's and S5's reverse-mentors did
    # not) → 0.75, from the four asked.
    assert got[JAN, K.PULSE_RESPONSE_RATE, ""] == (0.75, 6, 8, 4)
    # Sessions whose time has come: S1–S7 = 7 (S7 was never logged); cancelled or missed:
    # S3, S5, S6 → 3 / 7; by the executive S3 → 1 / 7; by the reverse-mentor S6 → 1 / 7.
    # All from the four people of P1 and P2, whose sessions these are (P4 had none).
    assert got[JAN, K.CANCELLATION_RATE, ""] == pytest.approx((3 / 7, 3, 7, 4))
    assert got[JAN, K.CANCELLATION_RATE, Role.MENTEE] == pytest.approx((1 / 7, 1, 7, 4))
    assert got[JAN, K.CANCELLATION_RATE, Role.REVERSE_MENTOR] == pytest.approx((1 / 7, 1, 7, 4))
    # Held sessions with a teaching answer: S1 (2 and 4), S2 (1), S4 (3) = 3; one says the
    # executive taught most (S1's 4) → 1 / 3, from the three who answered it (m1, r1, r2).
    assert got[JAN, K.REVERSION_RATE, ""] == pytest.approx((1 / 3, 1, 3, 3))
    # Flags open at some moment of January: P1 (2–5 Jan) and P2 (from the 27th) → 2 of the
    # 3 active pairs. P1's December flag was resolved before January.
    assert got[JAN, K.AT_RISK_PAIRS, ""] == (2, 2, 3, 6)
    # Topics of held sessions: 1 (S1, S4) and 2 (S2) → 2 of the 4 topics, from the four
    # people of the pairs that held them; per topic, the people of its sessions' pairs.
    assert got[JAN, K.TOPIC_COVERAGE, ""] == (0.5, 2, 4, 4)
    assert got[JAN, K.TOPIC_COVERAGE, f"topic:{t1}"] == (2, 2, 3, 4)
    assert got[JAN, K.TOPIC_COVERAGE, f"topic:{t2}"] == (1, 1, 3, 2)
    assert got[JAN, K.TOPIC_COVERAGE, f"topic:{t3}"] == (0, 0, 3, 0)
    assert got[JAN, K.TOPIC_COVERAGE, f"topic:{t4}"] == (0, 0, 3, 0)
    # NPS: promoters 2 − detractors 1 = 1 of 4 answers → 100 × 1 / 4 = 25.
    assert got[JAN, K.NPS, ""] == (25.0, 1, 4, 4)
    # Confidence by 31 Jan. Skill 1: m1 3 − 2 = +1, r1 3 − 4 = −1 → 0 / 2 = 0.0, a real 0
    # (r2's only rating came before the baseline; m2 has no baseline). Skill 2: nobody.
    assert got[JAN, K.CONFIDENCE_CHANGE, f"skill:{k1}"] == (0.0, 0, 2, 2)
    assert got[JAN, K.CONFIDENCE_CHANGE, f"skill:{k2}"] == (None, 0, 0, 0)
    assert got[JAN, K.CONFIDENCE_CHANGE, ""] == (0.0, 0, 2, 2)


def test_it_computes_the_current_month_so_far(world):
    kpis_compute(programme=world["programme"], now=NOW)
    got = figures(world["programme"], world["a"])
    t1, _, t3, _ = (topic.pk for topic in world["topics"])
    k1, k2 = (skill.pk for skill in world["skills"])

    # February to the 20th: P1 and P2 active (4 people); S8 held → 1 / 2.
    assert got[FEB, K.SESSION_FREQUENCY, ""] == (0.5, 1, 2, 4)
    # S8 has no pulse: a held session without notes is a real 0%, from nobody's answers.
    assert got[FEB, K.NOTES_LOGGED, ""] == (0.0, 0, 1, 0)
    # No pulse, no request: nothing to compute these from.
    assert got[FEB, K.ACTION_COMMITMENT, ""] == (None, 0, 0, 0)
    assert got[FEB, K.ACTION_FOLLOW_THROUGH, ""] == (None, 0, 0, 0)
    assert got[FEB, K.PULSE_RESPONSE_RATE, ""] == (None, 0, 0, 0)
    assert got[FEB, K.REVERSION_RATE, ""] == (None, 0, 0, 0)
    assert got[FEB, K.NPS, ""] == (None, 0, 0, 0)
    # S9 (the 25th) has not come yet: only S8 counts, and it was held → 0 / 1, from P1.
    assert got[FEB, K.CANCELLATION_RATE, ""] == (0.0, 0, 1, 2)
    # P2's flag is still open: 1 of 2.
    assert got[FEB, K.AT_RISK_PAIRS, ""] == (1, 1, 2, 4)
    assert got[FEB, K.TOPIC_COVERAGE, ""] == (0.25, 1, 4, 2)
    assert got[FEB, K.TOPIC_COVERAGE, f"topic:{t3}"] == (1, 1, 1, 2)
    assert got[FEB, K.TOPIC_COVERAGE, f"topic:{t1}"] == (0, 0, 1, 0)
    # Confidence so far, cumulative. Skill 1: m1 4 − 2 = +2, r1 −1 (unchanged), r2 4 − 3 =
    # +1 → 2 / 3. Skill 2: r1 3 − 1 = +2 → 2.0. All skills: 4 / 4 = 1.0, from 3 people.
    assert got[FEB, K.CONFIDENCE_CHANGE, f"skill:{k1}"] == pytest.approx((2 / 3, 2, 3, 3))
    assert got[FEB, K.CONFIDENCE_CHANGE, f"skill:{k2}"] == (2.0, 2, 1, 1)
    assert got[FEB, K.CONFIDENCE_CHANGE, ""] == (1.0, 4, 4, 3)
    # Nothing after the current month, nothing before the cohort's start.
    assert {month for month, _, _ in got} == {JAN, FEB}


def test_it_counts_who_moved_the_running_confidence_figure_each_month(world):
    kpis_compute(programme=world["programme"], now=NOW)
    k1, k2 = (skill.pk for skill in world["skills"])
    moved = {
        (row.month, row.part): (row.people, row.people_changed)
        for row in KpiSnapshot.objects.filter(
            cohort=world["a"], kpi=K.CONFIDENCE_CHANGE, month__in=[JAN, FEB]
        )
    }

    # January: m1 and r1 rated skill 1 (r2's rating came before the baseline, m2 has none).
    assert moved[JAN, ""] == (2, 2)
    assert moved[JAN, f"skill:{k1}"] == (2, 2)
    assert moved[JAN, f"skill:{k2}"] == (0, 0)
    # February: m1 and r2 rated skill 1, r1 skill 2: three people moved the running total,
    # although r1 was counted already.
    assert moved[FEB, ""] == (3, 3)
    assert moved[FEB, f"skill:{k1}"] == (3, 2)
    assert moved[FEB, f"skill:{k2}"] == (1, 1)
    # A month's figure counts the month only: everyone behind it moved it.
    monthly = KpiSnapshot.objects.filter(cohort=world["a"]).exclude(kpi=K.CONFIDENCE_CHANGE)
    assert all(row.people_changed == row.people for row in monthly)


def test_it_gives_an_empty_cohort_no_data_not_zeros(world):
    kpis_compute(programme=world["programme"], now=NOW)
    empty = figures(world["programme"], world["b"])

    # B starts on 1 Feb and nobody is in it: every February figure is "no data".
    assert {month for month, _, _ in empty} == {FEB}
    assert empty
    assert all(value is None for value, *_ in empty.values())
    assert all(people == 0 for *_, people in empty.values())
    # Every figure and breakdown has its row, so pages can say "no data".
    assert set(empty) == {(FEB, kpi, part) for (month, kpi, part) in figures(
        world["programme"], world["a"]) if month == FEB}  # fmt: skip
    # C has not started: no rows at all.
    assert figures(world["programme"], world["c"]) == {}


def test_it_makes_programme_rows_the_sums_of_the_cohort_rows(world):
    # B gets a pair with two held sessions in February, one on a topic A also covered.
    _, t2, t3, _ = world["topics"]
    pb = pair_in(world["b"], started_on=date(2026, 2, 2))
    session(pb, utc(2026, 2, 9, 10), HELD, topic=t3)
    session(pb, utc(2026, 2, 16, 10), HELD, topic=t2)
    pulse(Meeting.objects.get(pair=pb, topic=t2), pb.mentee, action="Try the new tool")
    kpis_compute(programme=world["programme"], now=NOW)

    whole = figures(world["programme"])
    cohorts = [figures(world["programme"], world[name]) for name in "ab"]
    for key, (_, numerator, denominator, people) in whole.items():
        parts = [scope[key] for scope in cohorts if key in scope]
        if key[1:] == (K.TOPIC_COVERAGE, ""):
            continue  # distinct topics: checked below
        assert numerator == sum(part[1] for part in parts), key
        assert denominator == sum(part[2] for part in parts), key
        assert people == sum(part[3] for part in parts), key
    # February: A held S8 (topic 3), B topics 3 and 2 → 3 held sessions over 2 + 1 active
    # pairs = 1.0; topics covered are 2 and 3, counted once → 2 of 4, from the four people
    # of P1 and B's pair (those who held them).
    assert whole[FEB, K.SESSION_FREQUENCY, ""] == (1.0, 3, 3, 6)
    assert whole[FEB, K.TOPIC_COVERAGE, ""] == (0.5, 2, 4, 4)
    assert whole[FEB, K.TOPIC_COVERAGE, f"topic:{t3.pk}"] == (2, 2, 3, 4)
    assert whole[FEB, K.ACTION_COMMITMENT, ""] == (1.0, 1, 1, 1)
    # January has only A: its rows are A's.
    assert {key: row for key, row in whole.items() if key[0] == JAN} == {
        key: row for key, row in cohorts[0].items() if key[0] == JAN
    }


def test_it_writes_equal_rows_when_recomputing(world):
    written = kpis_compute(programme=world["programme"], now=NOW)
    first = snapshot_rows(world["programme"])
    again = kpis_compute(programme=world["programme"], now=NOW)

    assert again == written == len(first) == KpiSnapshot.objects.count()
    assert snapshot_rows(world["programme"]) == first
    assert len(set(first)) == len(first)


def test_it_replaces_rows_that_no_longer_apply(world):
    kpis_compute(programme=world["programme"], now=NOW)
    assert figures(world["programme"], world["b"])
    # B's start moves to after NOW: its rows go at the next computation.
    world["b"].starts_on = date(2026, 3, 2)
    world["b"].save()
    kpis_compute(programme=world["programme"], now=NOW)

    assert figures(world["programme"], world["b"]) == {}
    assert figures(world["programme"], world["a"])


def test_it_puts_a_session_in_the_month_it_was_in_where_the_programme_reports():
    # 20:00 UTC on 31 Jan is 09:00 on 1 Feb in Auckland (UTC+13) but 12:00 on 31 Jan in Los
    # Angeles (UTC−8). The same moment for a rating and an NPS answer.
    moment = utc(2026, 1, 31, 20)
    got = {}
    for zone in ("Pacific/Auckland", "America/Los_Angeles"):
        programme = ProgrammeFactory(time_zone=zone)
        skill = KeySkillFactory(programme=programme)
        cohort = cohort_in(programme, date(2026, 1, 1), date(2026, 3, 31))
        pair = pair_in(cohort, started_on=date(2026, 1, 1))
        session(pair, moment, HELD)
        nps(pair.mentee, 9, moment)
        baseline(pair.mentee, skill, 2, utc(2026, 1, 2))
        rating(pair.mentee, skill, 4, moment)
        kpis_compute(programme=programme, now=utc(2026, 2, 15))
        got[zone] = figures(programme)

    held = {zone: {m: got[zone][m, K.SESSION_FREQUENCY, ""][1] for m in (JAN, FEB)} for zone in got}
    assert held == {"Pacific/Auckland": {JAN: 0, FEB: 1}, "America/Los_Angeles": {JAN: 1, FEB: 0}}
    assert got["Pacific/Auckland"][JAN, K.NPS, ""][0] is None
    assert got["Pacific/Auckland"][FEB, K.NPS, ""][0] == 100.0
    assert got["America/Los_Angeles"][JAN, K.NPS, ""][0] == 100.0
    assert got["Pacific/Auckland"][JAN, K.CONFIDENCE_CHANGE, ""][0] is None
    assert got["Pacific/Auckland"][FEB, K.CONFIDENCE_CHANGE, ""][0] == 2.0
    assert got["America/Los_Angeles"][JAN, K.CONFIDENCE_CHANGE, ""][0] == 2.0


def test_it_counts_late_end_of_cohort_answers_in_the_cohorts_last_month():
    # The cohort ends on 31 Jan; the end-of-cohort NPS answer and rating come on 3 Feb.
    programme = ProgrammeFactory(time_zone="Europe/London")
    skill = KeySkillFactory(programme=programme)
    cohort = cohort_in(programme, date(2025, 11, 1), date(2026, 1, 31))
    pair = pair_in(cohort, started_on=date(2025, 11, 1))
    nps(pair.mentee, 3, utc(2026, 2, 3, 9), moment=NpsResponse.Moment.END)
    baseline(pair.mentee, skill, 1, utc(2025, 11, 1))
    rating(pair.mentee, skill, 4, utc(2026, 2, 3, 9), context="end")
    kpis_compute(programme=programme, now=utc(2026, 3, 10))

    got = figures(programme, cohort)
    assert {month for month, _, _ in got} == {date(2025, 11, 1), date(2025, 12, 1), JAN}
    # One detractor of one answer → −100, in January.
    assert got[JAN, K.NPS, ""] == (-100.0, -1, 1, 1)
    assert got[JAN, K.CONFIDENCE_CHANGE, ""] == (3.0, 3, 1, 1)
    assert got[date(2025, 12, 1), K.CONFIDENCE_CHANGE, ""] == (None, 0, 0, 0)


def test_it_counts_a_session_once_when_both_pulses_say_the_same():
    # One held session whose two pulses both have a learning and both say the executive
    # taught most: 1 noted of 1, 1 reverted of 1 (not 2 of 1).
    programme = ProgrammeFactory()
    cohort = cohort_in(programme, date(2026, 1, 1), date(2026, 3, 31))
    pair = pair_in(cohort, started_on=date(2026, 1, 1))
    meeting = session(pair, utc(2026, 1, 10, 10), HELD)
    pulse(meeting, pair.mentee, learning="One", teaching=5)
    pulse(meeting, pair.reverse_mentor, learning="Two", teaching=4)
    kpis_compute(programme=programme, now=utc(2026, 1, 20))

    got = figures(programme, cohort)
    assert got[JAN, K.NOTES_LOGGED, ""] == (1.0, 1, 1, 2)
    assert got[JAN, K.REVERSION_RATE, ""] == (1.0, 1, 1, 2)


def test_it_counts_pairs_without_a_start_date_from_the_day_they_were_created():
    programme = ProgrammeFactory()
    cohort = cohort_in(programme, date(2026, 1, 1), date(2026, 3, 31))
    pair = pair_in(cohort, started_on=None)
    Pair.objects.filter(pk=pair.pk).update(created_at=utc(2026, 2, 3))
    kpis_compute(programme=programme, now=utc(2026, 2, 20))

    got = figures(programme, cohort)
    assert got[JAN, K.SESSION_FREQUENCY, ""] == (None, 0, 0, 0)
    assert got[FEB, K.SESSION_FREQUENCY, ""] == (0.0, 0, 1, 2)


def test_it_has_no_topic_coverage_without_a_road_map():
    programme = ProgrammeFactory()
    cohort = cohort_in(programme, date(2026, 1, 1), date(2026, 3, 31))
    pair = pair_in(cohort, started_on=date(2026, 1, 1))
    session(pair, utc(2026, 1, 10, 10), HELD)
    kpis_compute(programme=programme, now=utc(2026, 1, 20))

    got = figures(programme, cohort)
    assert got[JAN, K.TOPIC_COVERAGE, ""] == (None, 0, 0, 2)
    assert got[JAN, K.SESSION_FREQUENCY, ""] == (1.0, 1, 1, 2)


def test_it_writes_nothing_for_a_programme_whose_cohorts_have_not_started():
    programme = ProgrammeFactory()
    assert kpis_compute(programme=programme, now=utc(2026, 1, 20)) == 0
    cohort_in(programme, date(2026, 3, 1), date(2026, 5, 31))
    assert kpis_compute(programme=programme, now=utc(2026, 1, 20)) == 0
    assert not KpiSnapshot.objects.exists()


def test_it_stops_at_the_last_cohorts_end(world):
    kpis_compute(programme=world["programme"], now=utc(2026, 9, 1))

    def months(cohort=None) -> set[date]:
        return {month for month, _, _ in figures(world["programme"], cohort)}

    # A runs January to March, B February to April, C March to May.
    assert months() == {JAN, FEB, MAR, date(2026, 4, 1), date(2026, 5, 1)}
    assert months(world["a"]) == {JAN, FEB, MAR}
    assert months(world["c"]) == {MAR, date(2026, 4, 1), date(2026, 5, 1)}


def test_the_task_computes_one_programme(world):
    assert tasks.compute_kpis(world["programme"].pk) > 0
    assert tasks.compute_kpis(0) == 0


def test_it_never_reads_the_private_reasons(world):
    # Learning and action are only tested for blankness; the reasons and notes people wrote
    # are not touched at all.
    with CaptureQueriesContext(connection) as captured:
        kpis_compute(programme=world["programme"], now=NOW)
    sql = " ".join(query["sql"] for query in captured.captured_queries)
    for column in ("why", "cancel_reason", "resolution_note", "end_reason", "text"):
        assert f'"{column}"' not in sql, column


def _more_history(world: dict, pairs: int) -> None:
    """``pairs`` more pairs in cohort A, each with a held session on every topic, a missed
    one, both sides' pulses, NPS answers, ratings and a flag."""
    programme, a = world["programme"], world["a"]
    skill = world["skills"][0]
    for n in range(pairs):
        pair = pair_in(a, started_on=date(2026, 1, 6))
        for day, topic in enumerate(world["topics"], start=7):
            held = session(pair, utc(2026, 1, day, 10), HELD, topic=topic)
            pulse(held, pair.mentee, learning="Something", action="Something", teaching=4)
            pulse(held, pair.reverse_mentor, teaching=2)
        session(pair, utc(2026, 2, 2, 10), Meeting.Status.MISSED)
        nps(pair.mentee, n % 11, utc(2026, 1, 30, 12))
        baseline(pair.mentee, skill, 2, utc(2026, 1, 1))
        rating(pair.mentee, skill, 4, utc(2026, 2, 1, 12))
        flag(pair, utc(2026, 1, 20, 9))
    assert programme.cohorts.count() == 3


@pytest.mark.parametrize("pairs", [0, 6])
def test_its_queries_are_the_same_however_many_pairs_and_sessions(world, pairs):
    _more_history(world, pairs)
    # The programme's row locked; its cohorts, topics and key skills; two aggregates over
    # sessions (by month, and held ones by topic), one over pulse requests with their answers,
    # one each over pairs, flags, NPS answers and confidence ratings; the old rows deleted and
    # the new ones written in one INSERT (on PostgreSQL; SQLite takes as many as its limit of
    # parameters a statement needs); the savepoint around it (a transaction outside tests).
    with CaptureQueriesContext(connection) as captured:
        written = kpis_compute(programme=world["programme"], now=NOW)
    assert written == KpiSnapshot.objects.filter(programme=world["programme"]).count()
    fields = [field for field in KpiSnapshot._meta.concrete_fields if not field.primary_key]
    batch = min(1000, connection.ops.bulk_batch_size(fields, [None] * written))
    inserts = -(-written // batch)
    assert inserts == 1 or connection.vendor != "postgresql"
    assert len(captured.captured_queries) == 14 + inserts
