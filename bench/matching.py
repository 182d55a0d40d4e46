"""How long a whole matching run takes against the bare solver on the same final matrix.

    .venv/bin/python bench/matching.py [--sizes 500 2000 5000] [--smoke]

For each size it builds a synthetic cohort with that many mentees and reverse-mentors
(realistic intakes: three ranked objectives out of eight topics, two to four topics to share,
a few three-hour windows on three or four weekdays, mostly European time zones, a 2n-person
organisation tree), then times in the same process:

- the whole run: scoring, hard rules, feasibility, the optimum and an explanation for every
  pair (``matching.engine`` and ``matching.services.reasons``), the database left out;
- the bare solver: ``linear_sum_assignment`` on the final matrix the run gave it.

It prints both, the process's peak memory, and last ``ratio=<whole run / bare solver at 2,000>``.
The goal: a ratio under 2, and 5,000 a side well under a minute on two cores.

``--smoke`` runs the same code once at 60 a side, so that the test suite keeps the benchmark
working (tests/test_bench.py); its ratio is that size's and means nothing.
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mentoring.settings.dev")
import django

django.setup()

from scipy.optimize import linear_sum_assignment  # noqa: E402

from matching import engine  # noqa: E402
from matching.services import CohortData, reasons  # noqa: E402
from programmes.models import Cohort, Participant, Person  # noqa: E402
from programmes.reporting_lines import tree_intervals  # noqa: E402

TOPICS = [f"Topic {t}" for t in range(8)]
OFFSETS = [0, 0, 0, 0, 1, 1, 1, 2, -5, 8]  # mostly Europe, some US East, some Singapore
DEPARTMENTS = ["Finance", "Technology", "Operations", "People", "Marketing", "Sales"]


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


def one_size(n: int, seed: int = 7, repeat: int = 1) -> tuple[float, float, int, engine.Solution]:
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

    # Best of ``repeat`` for both timings: the machine's other work only ever adds time.
    whole = bare = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        problem = engine.build_problem(
            mentee_side, mentor_side, weights=engine.DEFAULT_WEIGHTS, constraints=data.constraints
        )
        solution = engine.solve(problem, constraints=data.constraints)
        for i, j in solution.pairs:
            reasons(data, problem, i, j, weights=engine.DEFAULT_WEIGHTS)
        whole = min(whole, time.perf_counter() - started)
    # The process's peak resident memory so far (KiB on Linux): tracemalloc would slow the
    # very allocations being timed.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    for _ in range(repeat):
        matrix = solution.solver_matrix.copy()
        started = time.perf_counter()
        linear_sum_assignment(matrix, maximize=True)
        bare = min(bare, time.perf_counter() - started)
    return whole, bare, peak, solution


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000, 5000])
    parser.add_argument("--smoke", action="store_true", help="60 a side, once: does it run?")
    options = parser.parse_args()
    sizes = [60] if options.smoke else options.sizes
    ratio = None
    print(f"{'a side':>7} {'whole run':>10} {'bare solver':>12} {'ratio':>6} {'peak MB':>8} "
          f"{'pairs':>6} {'lowest':>7} {'total':>9}")  # fmt: skip
    for n in sizes:
        repeat = 1 if options.smoke or n > 2000 else 3
        whole, bare, peak, solution = one_size(n, repeat=repeat)
        print(
            f"{n:>7} {whole:>9.2f}s {bare:>11.2f}s {whole / bare:>6.2f} {peak / 2**20:>8.0f} "
            f"{len(solution.pairs):>6} {solution.lowest:>7.3f} {solution.total:>9.1f}"
        )
        if n == 2000 or options.smoke:
            ratio = whole / bare
    if ratio is None:
        whole, bare, *_ = one_size(2000, repeat=3)
        ratio = whole / bare
    print(f"ratio={ratio:.2f}")


if __name__ == "__main__":
    main()
