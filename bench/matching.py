"""How long a whole matching run takes against the bare solver on the same final matrix.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_matching \
        .venv/bin/python bench/matching.py [--sizes 500 2000 5000] [--smoke]

For each size it builds a synthetic cohort with that many mentees and reverse-mentors
(realistic intakes: three ranked objectives out of eight topics, two to four topics to share,
a few three-hour windows on three or four weekdays, mostly European time zones, a 2n-person
organisation tree), then times in the same process:

- the whole run: scoring, hard rules, feasibility, the optimum and an explanation for every
  pair (``matching.engine`` and ``matching.services.reasons``), the database left out;
- the bare solver: ``linear_sum_assignment`` on the final matrix the run gave it.

Then, from the database (PostgreSQL from DATABASE_URL): it builds a cohort of that size with
``bulk_create`` (people in a 2n-person tree, intakes with ranked objectives, topics to share
and off-limits, availability in local hours) and times ``matching_run_execute``: loading the
cohort, the engine, the explanations and saving the proposals. Its database must be named
*bench* (its tables are emptied): a DATABASE_URL naming another database gets ``_bench_matching``
added to the name, and the database is created and migrated when missing.

It prints the figures, the process's peak memory, and last ``ratio=<whole run / bare solver
at 2,000>``. The goal: within 1.5x at 2,000 and 5,000 a side, and 5,000 a side under 10 s
from the database, on two cores.

``--smoke`` runs the same code once at 60 a side, so that the test suite keeps the benchmark
working (tests/test_bench.py); its ratio is that size's and means nothing.
"""

import argparse
import os
import resource
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mentoring.settings.dev")

import environ
from support.databases import create_database


def bench_database() -> bool:
    """Point DATABASE_URL at a database named *bench*, created if missing; False when there
    is no PostgreSQL to measure."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return False
    config = environ.Env.db_url_config(url)
    if "bench" not in config["NAME"]:
        config["NAME"] += "_bench_matching"
        os.environ["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + config["NAME"]
    create_database(os.environ["DATABASE_URL"])
    return True


HAS_DATABASE = bench_database()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from scipy.optimize import linear_sum_assignment  # noqa: E402

from matching import engine  # noqa: E402
from matching.explain import reasons_for_pairs  # noqa: E402
from matching.models import MatchingRun  # noqa: E402
from matching.services import CohortData, matching_run_execute  # noqa: E402
from programmes.models import (  # noqa: E402
    Cohort,
    Intake,
    IntakeObjective,
    Participant,
    Person,
    Programme,
    Role,
    Topic,
)
from programmes.reporting_lines import tree_intervals  # noqa: E402

TOPICS = [f"Topic {t}" for t in range(8)]
OFFSETS = [0, 0, 0, 0, 1, 1, 1, 2, -5, 8]  # mostly Europe, some US East, some Singapore
DEPARTMENTS = ["Finance", "Technology", "Operations", "People", "Marketing", "Sales"]
ZONES = {0: "Europe/London", 1: "Europe/Paris", 2: "Europe/Athens", -5: "America/New_York",
         8: "Asia/Singapore"}  # fmt: skip
STARTS_ON = date(2026, 1, 12)  # a Monday in winter: the offsets above hold
# Every table the database stage fills; TRUNCATE … CASCADE empties what refers to them.
TABLES = ["programmes_programme", "programmes_person"]


def synthetic_side(rng: np.random.Generator, n: int, rows: np.ndarray, intervals, capacity: bool):
    wants = np.zeros((n, len(TOPICS)), dtype=int)
    for r in range(n):
        wants[r, rng.choice(len(TOPICS), 3, replace=False)] = [1, 2, 3]
    shares = np.zeros((n, len(TOPICS)), dtype=bool)
    for r in range(n):
        shares[r, rng.choice(len(TOPICS), rng.integers(2, 5), replace=False)] = True
    offsets = rng.choice(OFFSETS, n).astype(float)
    hours = np.zeros((n, 168), dtype=bool)
    for r in range(n):
        start = rng.choice([9, 10, 12, 13, 14])
        for day in rng.choice(5, rng.integers(3, 5), replace=False):
            local = day * 24 + start + np.arange(3)
            hours[r, (local - int(offsets[r])) % 168] = True
    return engine.Side(
        ids=np.arange(n),
        wants=wants,
        shares=shares,
        off_limits=rng.random((n, len(TOPICS))) < 0.03,
        hours=hours,
        utc_offset=offsets,
        communication=rng.integers(0, 3, n),
        feedback=rng.integers(0, 3, n),
        mode=rng.integers(0, 3, n),
        department=rng.integers(0, len(DEPARTMENTS), n),
        line_entry=np.array([intervals[p][0] for p in rows]),
        line_exit=np.array([intervals[p][1] for p in rows]),
        capacity=np.where(rng.random(n) < 0.1, 2, 1) if capacity else None,
    )


def participants(n: int, role: str, departments: np.ndarray) -> list[Participant]:
    # Unsaved objects: explanations need names and departments, not the database.
    return [
        Participant(
            role=role,
            person=Person(full_name=f"{role.title()} {k}", department=DEPARTMENTS[departments[k]]),
        )
        for k in range(n)
    ]


def synthetic_cohort(n: int, seed: int) -> tuple[engine.Side, engine.Side, CohortData]:
    rng = np.random.default_rng(seed)
    managers = {0: None} | {p: int(rng.integers(0, p)) for p in range(1, 2 * n)}
    intervals = tree_intervals(managers)
    order = rng.permutation(2 * n)
    mentee_side = synthetic_side(rng, n, order[:n], intervals, capacity=False)
    mentor_side = synthetic_side(rng, n, order[n:], intervals, capacity=True)
    data = CohortData(
        cohort=Cohort(name="Bench"),
        mentees=participants(n, "mentee", mentee_side.department),
        mentors=participants(n, "reverse_mentor", mentor_side.department),
        mentee_side=mentee_side,
        mentor_side=mentor_side,
        constraints=engine.Constraints(),
        topics=TOPICS,
    )
    return mentee_side, mentor_side, data


def one_size(
    n: int, seed: int = 7, repeat: int = 1
) -> tuple[float, float, float, int, engine.Solution]:
    mentee_side, mentor_side, data = synthetic_cohort(n, seed)

    # Whole run and bare solver alternate, so that the machine's other work falls on both
    # alike; the medians of the times and of the ratios are reported.
    wholes, bares, ratios = [], [], []
    for _ in range(repeat):
        started = time.perf_counter()
        problem = engine.build_problem(
            mentee_side, mentor_side, weights=engine.DEFAULT_WEIGHTS, constraints=data.constraints
        )
        solution = engine.solve(problem, constraints=data.constraints)
        rows, cols = (np.array(side) for side in zip(*solution.pairs, strict=True))
        values = {c: problem.criteria[c].pairs(rows, cols) for c in engine.CRITERIA}
        reasons_for_pairs(data, problem, rows, cols, values, weights=engine.DEFAULT_WEIGHTS)
        wholes.append(time.perf_counter() - started)
        # The process's peak resident memory so far (KiB on Linux): tracemalloc would slow
        # the very allocations being timed.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

        # The bare solver gets a copy of the matrix the run gave it; nothing of one
        # repetition is kept into the next but the pairs.
        matrix, solution.solver_matrix = solution.solver_matrix.copy(), None
        del problem, values
        started = time.perf_counter()
        linear_sum_assignment(matrix)  # as the engine calls it: a cost to minimise
        bares.append(time.perf_counter() - started)
        ratios.append(wholes[-1] / bares[-1])
        del matrix
    medians = (float(np.median(times)) for times in (wholes, bares, ratios))
    return *medians, peak, solution


def protected(n: int, seed: int = 7) -> float:
    """The engine alone with "protect the worst-off" on: its extra search, for the record."""
    mentee_side, mentor_side, data = synthetic_cohort(n, seed)
    started = time.perf_counter()
    problem = engine.build_problem(
        mentee_side, mentor_side, weights=engine.DEFAULT_WEIGHTS, constraints=data.constraints
    )
    engine.solve(problem, constraints=data.constraints, protect_worst_off=True)
    return time.perf_counter() - started


def database_cohort(n: int, seed: int = 7) -> Cohort:
    """A cohort of n mentees and n reverse-mentors with submitted intakes, built with
    bulk_create in an emptied bench database, like ``synthetic_side`` but as rows."""
    rng = np.random.default_rng(seed)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    with transaction.atomic():
        programme = Programme.objects.create(name="Bench matching", slug="bench-matching")
        cohort = Cohort.objects.create(
            programme=programme,
            name="Bench",
            starts_on=STARTS_ON,
            ends_on=date(2026, 4, 12),
            status=Cohort.Status.INTAKE,
        )
        topics = Topic.objects.bulk_create(
            Topic(programme=programme, title=title, position=k) for k, title in enumerate(TOPICS)
        )
        offsets = rng.choice(OFFSETS, 2 * n)
        people = Person.objects.bulk_create(
            Person(
                full_name=f"Person {p}",
                email=f"person{p}@bench.example",
                department=DEPARTMENTS[rng.integers(len(DEPARTMENTS))],
                time_zone=ZONES[int(offsets[p])],
            )
            for p in range(2 * n)
        )
        for p in range(1, 2 * n):  # a random tree: everyone's manager came before them
            people[p].manager = people[int(rng.integers(0, p))]
        Person.objects.bulk_update(people, ["manager"], batch_size=2000)
        order = rng.permutation(2 * n)
        participants = Participant.objects.bulk_create(
            Participant(
                cohort=cohort,
                person=people[int(order[k])],
                role=Role.MENTEE if k < n else Role.REVERSE_MENTOR,
                capacity=2 if k >= n and rng.random() < 0.1 else 1,
            )
            for k in range(2 * n)
        )
        intakes = []
        for participant in participants:
            start = int(rng.choice([9, 10, 12, 13, 14]))
            days = rng.choice(5, rng.integers(3, 5), replace=False)
            intakes.append(
                Intake(
                    participant=participant,
                    communication_style=rng.choice(Intake.CommunicationStyle.values),
                    feedback_style=rng.choice(Intake.FeedbackStyle.values),
                    meeting_mode=rng.choice(Intake.MeetingMode.values),
                    availability=sorted(int(d) * 24 + start + h for d in days for h in range(3)),
                    consent_pledge=True,
                    consent_data=True,
                    submitted_at=timezone.now(),
                )
            )
        Intake.objects.bulk_create(intakes, batch_size=2000)
        objectives, shares, off = [], [], []
        for intake in intakes:
            for rank, t in enumerate(rng.choice(len(TOPICS), 3, replace=False), start=1):
                objectives.append(IntakeObjective(intake=intake, topic=topics[t], rank=rank))
            for t in rng.choice(len(TOPICS), rng.integers(2, 5), replace=False):
                shares.append(Intake.can_share.through(intake=intake, topic=topics[t]))
            for t in np.flatnonzero(rng.random(len(TOPICS)) < 0.03):
                off.append(Intake.off_limits.through(intake=intake, topic=topics[t]))
        IntakeObjective.objects.bulk_create(objectives, batch_size=5000)
        Intake.can_share.through.objects.bulk_create(shares, batch_size=5000)
        Intake.off_limits.through.objects.bulk_create(off, batch_size=5000)
    return cohort


def from_database(n: int) -> tuple[float, int, MatchingRun]:
    """The whole run from the database: load, solve, explain, save the proposals."""
    cohort = database_cohort(n)
    run = MatchingRun.objects.create(cohort=cohort, weights=engine.DEFAULT_WEIGHTS)
    started = time.perf_counter()
    matching_run_execute(run=run)
    took = time.perf_counter() - started
    run.refresh_from_db()
    return took, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000, 5000])
    parser.add_argument("--smoke", action="store_true", help="60 a side, once: does it run?")
    parser.add_argument("--repeat", type=int, default=5, help="whole/bare alternations a size")
    options = parser.parse_args()
    sizes = [60] if options.smoke else options.sizes
    ratio = None
    print("In memory: the engine and the explanations against the bare solver (medians)")
    print(f"{'a side':>7} {'whole run':>10} {'bare solver':>12} {'ratio':>6} {'peak MB':>8} "
          f"{'pairs':>6} {'lowest':>7} {'total':>9} {'protected':>10}")  # fmt: skip
    for n in sizes:
        repeat = 1 if options.smoke else options.repeat
        whole, bare, median_ratio, peak, solution = one_size(n, repeat=repeat)
        print(
            f"{n:>7} {whole:>9.2f}s {bare:>11.2f}s {median_ratio:>6.2f} {peak / 2**20:>8.0f} "
            f"{len(solution.pairs):>6} {solution.lowest:>7.3f} {solution.total:>9.1f} "
            f"{protected(n):>9.2f}s"
        )
        if n == 2000 or options.smoke:
            ratio = median_ratio
    if HAS_DATABASE:
        call_command("migrate", verbosity=0)
        print("From the database: matching_run_execute on a cohort built with bulk_create")
        print(f"{'a side':>7} {'whole run':>10} {'peak MB':>8} {'pairs':>6} {'waiting':>8}")
        for n in sizes:
            took, peak, run = from_database(n)
            print(
                f"{n:>7} {took:>9.2f}s {peak / 2**20:>8.0f} {run.matched_count:>6} "
                f"{run.waiting_count:>8}"
            )
    else:
        print("From the database: skipped (DATABASE_URL names no PostgreSQL)")
    if ratio is None:
        ratio = one_size(2000, repeat=options.repeat)[2]
    print(f"ratio={ratio:.2f}")


if __name__ == "__main__":
    main()
