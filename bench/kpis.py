"""How long the KPI task takes against one raw SQL aggregate over the same sessions and pulses.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_kpis .venv/bin/python bench/kpis.py
        [--repeat 5] [--rebuild] [--pulse-ratings] [--smoke]

PostgreSQL only (DATABASE_URL defaults to the URL above). The database is created if missing
and migrated; its programme tables are emptied (TRUNCATE … CASCADE) before the data is built,
so the database's name must contain "bench". The data is built with INSERT … SELECT
generate_series (about 20 seconds) and kept for the next run (``--rebuild`` builds it again):
one programme in Europe/London with 10 cohorts starting a month apart and running six months,
10,000 pairs, 200,000 sessions (20 a pair: mostly held, some cancelled by either side, missed,
or past and never logged), 400,000 pulses (both sides of every session) with their 400,000
pulse requests, an intake baseline and most end-of-cohort ratings per participant and key
skill, two NPS answers per participant and 1,500 at-risk flags. ``--pulse-ratings`` adds two
confidence ratings to every held pulse, as the pulse asks them (about 620,000 rows).

It then runs each of the following ``--repeat`` times, alternating (task, raw, lean, task,
raw, lean, …), in the same process and on the same data, and takes each one's median (not the
best: the issue's goals are ratios of medians of alternating runs):

- the KPI task: ``reporting.kpis.kpis_compute`` for the programme, writing its snapshots;
- the raw aggregate: one SQL query, per cohort, month (in the programme's zone) and status,
  of the sessions joined with their pulses: sessions, pulses and pulses answering "held". It
  is the scan of both big tables any implementation has to make, with none of the figures'
  logic (and none of the requests, pairs, flags, answers and ratings the task also reads);
- for reference, the same counts written as cheaply as SQL allows (pulses counted per
  session before the join, so no distinct count is needed).

It prints their medians and fastest runs, the task's median against the lean reference's, and
last ``ratio=<median KPI task / median raw aggregate>``. The goal: a ratio under 3.

``--smoke`` runs the same code on 100 pairs in 2 cohorts, once, so that the test suite keeps
the benchmark working (tests/test_bench.py); its figures mean nothing.
"""

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mentoring.settings.dev")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_kpis")

import environ
from support.databases import create_database


@dataclass(frozen=True)
class Size:
    pairs: int
    cohorts: int
    flags: int


FULL = Size(pairs=10_000, cohorts=10, flags=1_500)
SMOKE = Size(pairs=100, cohorts=2, flags=15)
SESSIONS_PER_PAIR = 20
SKILLS = 4
TOPICS = 8
SLUG = "bench-kpis"
ZONE = "Europe/London"
# After every cohort has ended: all sessions have come due, all months are computed.
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=ZoneInfo("UTC"))


def ensure_database(url: str) -> None:
    config = environ.Env.db_url_config(url)
    if "postgresql" not in config["ENGINE"]:
        sys.exit("bench/kpis.py needs PostgreSQL: set DATABASE_URL to a postgres:// URL.")
    if "bench" not in config["NAME"]:
        sys.exit(f"Refusing to empty tables of {config['NAME']!r}: use a database named *bench*.")
    create_database(url)


ensure_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import DatabaseError, connection, transaction  # noqa: E402

from programmes.models import Programme  # noqa: E402
from reporting.kpis import kpis_compute  # noqa: E402

# Every table the data goes in; TRUNCATE … CASCADE also empties what refers to them.
TABLES = [
    "programmes_programme",
    "programmes_person",
    "programmes_cohort",
    "programmes_topic",
    "programmes_keyskill",
    "programmes_participant",
    "programmes_pair",
    "programmes_meeting",
    "programmes_riskflag",
    "programmes_kpisnapshot",
    "surveys_pulse",
    "surveys_pulserequest",
    "surveys_confidencerating",
    "surveys_npsresponse",
]

# Pair p (1…pairs) is in cohort (p − 1) / (pairs / cohorts) + 1; its mentee is participant
# 2p − 1 and its reverse-mentor participant 2p (person ids the same). Session s of pair p has
# id (p − 1) × SESSIONS_PER_PAIR + s + 1. The status comes from a hash of (p, s): about 78%
# held, 8% cancelled (by either side), 6% missed and 8% past but never logged.
BUILD = """
INSERT INTO programmes_cohort (id, programme_id, name, starts_on, ends_on, status, intake_round)
SELECT c, 1, 'Cohort ' || c, DATE '2025-01-06' + (c - 1) * 30,
       DATE '2025-01-06' + (c - 1) * 30 + 180, 'finished', 0
FROM generate_series(1, %(cohorts)s) AS c;

INSERT INTO programmes_topic (id, programme_id, title, description, position)
SELECT t, 1, 'Topic ' || t, '', t FROM generate_series(1, %(topics)s) AS t;

INSERT INTO programmes_keyskill (id, programme_id, name, position)
SELECT k, 1, 'Skill ' || k, k FROM generate_series(1, %(skills)s) AS k;

INSERT INTO programmes_person (id, full_name, email, job_title, department, time_zone, language,
    created_at)
SELECT n, 'Person ' || n, 'person' || n || '@bench.example', '', '', 'Europe/London', 'en', now()
FROM generate_series(1, 2 * %(pairs)s) AS n;

INSERT INTO programmes_participant (id, cohort_id, person_id, role, capacity, status,
    created_at)
SELECT n, (((n + 1) / 2) - 1) / (%(pairs)s / %(cohorts)s) + 1, n,
       CASE WHEN n %% 2 = 1 THEN 'mentee' ELSE 'reverse_mentor' END, 1, 'matched', now()
FROM generate_series(1, 2 * %(pairs)s) AS n;

INSERT INTO programmes_pair (id, cohort_id, mentee_id, reverse_mentor_id, status, started_on,
    ended_on, end_reason, created_at)
SELECT p, c.id, 2 * p - 1, 2 * p, CASE WHEN p %% 50 = 0 THEN 'ended' ELSE 'active' END,
       c.starts_on + 1, CASE WHEN p %% 50 = 0 THEN c.starts_on + 60 END, '', now()
FROM generate_series(1, %(pairs)s) AS p
JOIN programmes_cohort c ON c.id = (p - 1) / (%(pairs)s / %(cohorts)s) + 1;

INSERT INTO programmes_meeting (id, pair_id, starts_at, duration_minutes, status, topic_id,
    led_by, cancelled_by, cancel_reason, scheduled_by, uid, sequence, created_at, updated_at)
SELECT (p.id - 1) * %(sessions)s + s + 1, p.id,
       (p.started_on + 1 + s * 8)::timestamp AT TIME ZONE 'UTC'
           + make_interval(hours => (7 + p.id %% 11)::int),
       45, st.status,
       CASE WHEN st.status = 'held' AND (p.id + s) %% 9 <> 0 THEN (p.id + s) %% %(topics)s + 1 END,
       CASE WHEN st.status = 'held' THEN 'reverse_mentor' ELSE '' END,
       CASE WHEN st.status = 'cancelled' THEN
           CASE WHEN (p.id + s) %% 2 = 0 THEN 'mentee' ELSE 'reverse_mentor' END
       ELSE '' END,
       '', 'reverse_mentor', md5(p.id || '-' || s)::uuid, 0, now(), now()
FROM programmes_pair p
CROSS JOIN generate_series(0, %(sessions)s - 1) AS s
CROSS JOIN LATERAL (SELECT CASE
    WHEN (p.id * 7 + s * 13) %% 100 < 78 THEN 'held'
    WHEN (p.id * 7 + s * 13) %% 100 < 86 THEN 'cancelled'
    WHEN (p.id * 7 + s * 13) %% 100 < 92 THEN 'missed'
    ELSE 'scheduled' END AS status) AS st;

INSERT INTO surveys_pulse (id, meeting_id, participant_id, held, not_held, learning, action,
    shared, previous_id, previous_action_done, good_fit, safety, teaching, submitted_at,
    updated_at, session_starts_at)
SELECT 2 * m.id - 1 + side, m.id, 2 * m.pair_id - 1 + side, m.status = 'held',
       CASE WHEN m.status = 'held' THEN '' ELSE 'missed' END,
       CASE WHEN m.status = 'held' AND (m.id + side) %% 5 <> 0 THEN 'Something learned' ELSE '' END,
       CASE WHEN m.status = 'held' AND (m.id + side) %% 3 <> 0 THEN 'An action' ELSE '' END,
       false, NULL,
       CASE WHEN (m.id - 1) %% %(sessions)s = 0 THEN ''
            ELSE (ARRAY['', 'yes', 'partly', 'no', 'yes'])[(m.id + side) %% 5 + 1] END,
       NULL,
       CASE WHEN m.status = 'held' THEN 3 + (m.id + side) %% 3 END,
       CASE WHEN m.status = 'held' THEN 1 + (m.id * 3 + side) %% 5 END,
       m.starts_at + interval '2 hours', m.starts_at + interval '2 hours', m.starts_at
FROM programmes_meeting m CROSS JOIN generate_series(0, 1) AS side;

INSERT INTO surveys_pulserequest (id, meeting_id, participant_id, requested_at, sent_at)
SELECT id, meeting_id, participant_id, submitted_at, submitted_at FROM surveys_pulse;

INSERT INTO surveys_confidencerating (participant_id, key_skill_id, value, context,
    recorded_at, pulse_id)
SELECT pa.id, k, 1 + (pa.id + k) %% 3, 'intake', c.starts_on::timestamp AT TIME ZONE 'UTC', NULL
FROM programmes_participant pa JOIN programmes_cohort c ON c.id = pa.cohort_id
CROSS JOIN generate_series(1, %(skills)s) AS k;

INSERT INTO surveys_confidencerating (participant_id, key_skill_id, value, context,
    recorded_at, pulse_id)
SELECT pa.id, k, 2 + (pa.id * k) %% 4, 'end',
       (c.ends_on + 3)::timestamp AT TIME ZONE 'UTC', NULL
FROM programmes_participant pa JOIN programmes_cohort c ON c.id = pa.cohort_id
CROSS JOIN generate_series(1, %(skills)s) AS k
WHERE pa.id %% 4 <> 0;

INSERT INTO surveys_npsresponse (participant_id, moment, score, why, submitted_at)
SELECT pa.id, mo.moment, (pa.id * 7 + mo.shift) %% 11, '',
       (c.starts_on + mo.days)::timestamp AT TIME ZONE 'UTC' + interval '10 hours'
FROM programmes_participant pa JOIN programmes_cohort c ON c.id = pa.cohort_id
CROSS JOIN (VALUES ('midpoint', 90, 0), ('end', 183, 3)) AS mo(moment, days, shift);

INSERT INTO programmes_riskflag (pair_id, rule, severity, condition, evidence, opened_at,
    updated_at, resolved_at, resolution_note)
SELECT p.id, 'missed', 2, 'bench-' || f, '{}'::jsonb, o.opened, o.opened,
       CASE WHEN f %% 3 <> 0 THEN o.opened + interval '12 days' END, ''
FROM generate_series(1, %(flags)s) AS f
JOIN programmes_pair p ON p.id = (f * 37) %% %(pairs)s + 1
CROSS JOIN LATERAL (SELECT (p.started_on + 20 + f %% 100)::timestamp AT TIME ZONE 'UTC'
    AS opened) AS o;
"""

# With --pulse-ratings: two confidence ratings in every held pulse, as the pulse asks them.
PULSE_RATINGS = """
INSERT INTO surveys_confidencerating (participant_id, key_skill_id, value, context,
    recorded_at, pulse_id)
SELECT pu.participant_id, (pu.meeting_id * 2 + k) %% %(skills)s + 1,
       1 + (pu.id + k) %% 5, 'pulse', pu.submitted_at, pu.id
FROM surveys_pulse pu CROSS JOIN generate_series(0, 1) AS k
WHERE pu.held;
"""

# Each table's identity goes on from the ids written above.
RESET_IDS = """
SELECT setval(pg_get_serial_sequence(%(table)s, 'id'), coalesce(max(id), 0) + 1, false)
FROM {table}
"""

# The raw aggregate the ratio is taken against: per cohort, month and status, the sessions
# joined with their pulses, counting sessions (distinct: the join repeats them), pulses and
# pulses answering "held". Sessions and pulses are what every KPI implementation has to read
# and group by cohort and month; none of the figures' logic is here.
RAW_AGGREGATE = """
SELECT pa.cohort_id, date_trunc('month', m.starts_at AT TIME ZONE %s) AS month, m.status,
       count(DISTINCT m.id) AS sessions, count(pu.id) AS pulses,
       count(pu.id) FILTER (WHERE pu.held) AS held
FROM programmes_meeting m
JOIN programmes_pair pa ON pa.id = m.pair_id
LEFT JOIN surveys_pulse pu ON pu.meeting_id = m.id
WHERE pa.cohort_id IN (SELECT id FROM programmes_cohort WHERE programme_id = %s)
GROUP BY 1, 2, 3
"""

# For reference, the same counts written to be as cheap as SQL allows: pulses counted per
# session first, so no distinct count is needed. Printed beside the ratio, not used for it.
LEAN_AGGREGATE = """
SELECT pa.cohort_id, date_trunc('month', m.starts_at AT TIME ZONE %s) AS month, m.status,
       count(*) AS sessions, coalesce(sum(pu.pulses), 0), coalesce(sum(pu.held), 0)
FROM programmes_meeting m
JOIN programmes_pair pa ON pa.id = m.pair_id
LEFT JOIN (
    SELECT meeting_id, count(*) AS pulses, count(*) FILTER (WHERE held) AS held
    FROM surveys_pulse GROUP BY meeting_id
) AS pu ON pu.meeting_id = m.id
WHERE pa.cohort_id IN (SELECT id FROM programmes_cohort WHERE programme_id = %s)
GROUP BY 1, 2, 3
"""


def build(size: Size, *, pulse_ratings: bool) -> None:
    started = time.perf_counter()
    params = {
        "slug": SLUG,
        "zone": ZONE,
        "cohorts": size.cohorts,
        "topics": TOPICS,
        "skills": SKILLS,
        "pairs": size.pairs,
        "sessions": SESSIONS_PER_PAIR,
        "flags": size.flags,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        # The rows are written consistent, so their foreign-key triggers need not check each
        # one (a superuser's setting; without it the build is only slower).
        try:
            with transaction.atomic():
                cursor.execute("SET LOCAL session_replication_role = replica")
        except DatabaseError:
            pass
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
        # The programme through the ORM, so that settings added later take their defaults.
        Programme.objects.create(
            pk=1,
            name="Bench KPIs",
            slug=SLUG,
            purpose="Benchmark",
            status=Programme.Status.CLOSED,
            sessions_per_month_target=2,
            time_zone=ZONE,
            min_group_size=5,
            risk_missed_in_a_row=2,
            risk_missed_in_window=2,
            risk_window_days=30,
            risk_days_without_session=30,
            risk_held_without_pulse=2,
            risk_safety_at_most=2,
            risk_reversion_count=2,
            risk_reversion_window=3,
        )
        cursor.execute(BUILD, params)
        if pulse_ratings:
            cursor.execute(PULSE_RATINGS, params)
        for table in TABLES:
            cursor.execute(RESET_IDS.format(table=table), {"table": table})
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {', '.join(TABLES)}")
    print(f"built the data in {time.perf_counter() - started:.1f}s")


def data_ready(size: Size, *, pulse_ratings: bool) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM programmes_pair), "
            "(SELECT count(*) FROM programmes_meeting), (SELECT count(*) FROM surveys_pulse), "
            "EXISTS (SELECT 1 FROM surveys_confidencerating WHERE context = 'pulse')"
        )
        counts = cursor.fetchone()
    pairs = size.pairs
    expected = (pairs, pairs * SESSIONS_PER_PAIR, 2 * pairs * SESSIONS_PER_PAIR, pulse_ratings)
    return Programme.objects.filter(slug=SLUG).exists() and counts == expected


def timed(run, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true", help="build the data again")
    parser.add_argument(
        "--pulse-ratings",
        action="store_true",
        help="also two confidence ratings in every held pulse (about 620,000 more rows)",
    )
    parser.add_argument("--smoke", action="store_true", help="100 pairs, once: does it run?")
    options = parser.parse_args()
    size = SMOKE if options.smoke else FULL
    repeat = 1 if options.smoke else options.repeat

    call_command("migrate", verbosity=0)
    if options.rebuild or not data_ready(size, pulse_ratings=options.pulse_ratings):
        build(size, pulse_ratings=options.pulse_ratings)
    programme = Programme.objects.get(slug=SLUG)

    written = 0

    def task() -> None:
        nonlocal written
        written = kpis_compute(programme=programme, now=NOW)

    def query(sql: str):
        def run() -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql, [ZONE, programme.pk])
                cursor.fetchall()

        return run

    # Alternating runs, so a warm-up or a busy moment falls on every side alike; the ratio is
    # of medians (the goals), the fastest runs are printed beside them.
    runs = {"task": task, "raw": query(RAW_AGGREGATE), "lean": query(LEAN_AGGREGATE)}
    times = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            times[name] += timed(run, 1)
    median = {name: statistics.median(values) for name, values in times.items()}
    ratings = ", confidence ratings in every held pulse" if options.pulse_ratings else ""
    sessions, pulses = size.pairs * SESSIONS_PER_PAIR, 2 * size.pairs * SESSIONS_PER_PAIR
    print(f"data: {size.pairs:,} pairs, {sessions:,} sessions, {pulses:,} pulses and requests, "
          f"{size.cohorts} cohorts{ratings}")  # fmt: skip
    print(f"snapshots written: {written:,}")
    for name, label in [
        ("task", "KPI task (kpis_compute)"),
        ("raw", "raw aggregate"),
        ("lean", "lean aggregate (reference)"),
    ]:
        print(f"{label:27} median {median[name]:.3f}s, fastest "
              f"{min(times[name]):.3f}s of {repeat}")  # fmt: skip
    print(f"task / lean aggregate: {median['task'] / median['lean']:.2f}")
    print(f"ratio={median['task'] / median['raw']:.2f}")


if __name__ == "__main__":
    main()
