"""How early the at-risk rules warn of a lapsing pair: the old timing rules against the risk
score, on simulated cohorts (issue 19).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_early .venv/bin/python
        bench/early_warning.py [--tuning 1,2,3,4,5,6] [--held-out 101,102,103,104]
        [--pairs 60] [--days 120] [--dump FILE] [--smoke]

For each seed, bench/support/cohort_sim.py simulates one cohort day by day through the
product's own services (its docstring lists the assumptions), and at the end of each day
the benchmark asks, from what the database holds then (``--dump`` writes it all, with each
pair's truth and its signals and features day by day, as JSON, to try other features and
weights on without simulating again: the simulation does not depend on them):

- the OLD rules (bench/support/old_rules.py: "missed or cancelled sessions" and "no session
  held lately", as before issue 19): does either hold for the pair?
- the NEW score (``risks.score``: the pair's signals as known that day, scored with its
  programme's model, as ``pair_score(pair, on=day)`` does): is its level "act"? And "watch"
  or "act"?
- the product's detection itself (``risks_detect(now=…)``), so that the flags kept from
  before (low safety, reversion, not a good fit) can be checked on the pairs that have them.

A lapse (DESIGN.md) is permanent on the 30th day without a held session. A lapsing pair is
*flagged 14+ days early* when a method flags it on a day after its last held session and at
least 14 days before its lapse day; its *lead time* is the lapse day minus the first such
day (flagged on the lapse day itself: 0). A *healthy* pair (no lapse, no safety, reversion
or fit problem) is *ever flagged* when a method flags it on any day. Goals (issue 19): at
least 90% of lapsing pairs flagged 14+ days early, at most 10% of healthy pairs ever flagged.

The seeds are in two groups: TUNING seeds (whose figures may be used to choose weights) and
HELD-OUT seeds (never used for that), reported apart. It also prints, on the tuning seeds
only, how each of the score's features separates lapsing pairs (16 days before their lapse,
the last chance of a warning 14 days ahead… and two days of slack) from healthy ones (every
week), and last ``ratio=<new / old share of lapsing pairs flagged 14+ days early>`` on the
held-out seeds (the old share floored at one pair).

The database: PostgreSQL when DATABASE_URL names one (a database named *bench*: a URL naming
another gets ``_bench_early`` added, created and migrated when missing), otherwise a fresh
SQLite file in a temporary folder. Each cohort is its own programme, deleted at the end.
``--smoke`` runs one seed of 6 pairs over 40 days (tests/test_bench.py): its figures mean
nothing.
"""

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import statistics
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mentoring.settings.dev")
# The tasks the services queue (mail, detection of one pair) stay in memory: the benchmark
# runs the detection itself, once a day.
os.environ["CELERY_BROKER_URL"] = "memory://localhost/"

from support.databases import use_bench_database

use_bench_database("early")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db.models import ProtectedError  # noqa: E402
from django.utils import timezone  # noqa: E402
from support.cohort_sim import PROBLEMS, CohortSimulation, PairTruth, SimResult  # noqa: E402
from support.old_rules import timing_rules  # noqa: E402

from notifications.models import Notification  # noqa: E402
from pairs.models import Pair  # noqa: E402
from programmes.models import Person, Programme  # noqa: E402
from risks.detection import risks_detect  # noqa: E402
from risks.models import RiskFlag  # noqa: E402
from risks.score import ACT, WATCH, features, model_for, score_of  # noqa: E402
from risks.signals import signals_for  # noqa: E402

EARLY = 14
# Lapsing pairs' features are read this many days before the lapse (EARLY and two of slack).
SAMPLE_BEFORE = 16
HEALTHY_EVERY = 7
OLD, NEW_ACT, NEW_WATCH = "old rules", "score: act", "score: watch+act"
METHODS = (OLD, NEW_ACT, NEW_WATCH)
# The rule each problem keeps raising, as before issue 19.
KEPT = {
    "safety problem": RiskFlag.Rule.LOW_SAFETY,
    "reversion": RiskFlag.Rule.REVERSION,
    "poor fit": RiskFlag.Rule.NOT_A_GOOD_FIT,
}


@dataclass
class Run:
    """One seed: the truth and, per pair, the days each method flagged it."""

    seed: int
    result: SimResult
    flagged: dict[str, dict[int, set[int]]]  # method: pair id: days
    samples: list[tuple[bool, dict[str, float]]] = field(default_factory=list)
    # pair id: day: the score's features and the signals that day (for --dump)
    features: dict[int, dict[int, dict[str, float]]] = field(default_factory=dict)
    signals: dict[int, dict[int, dict[str, float | None]]] = field(default_factory=dict)
    kept: Counter[str] = field(default_factory=Counter)  # archetype: pairs with its flag


class Recorder:
    """Called at the end of each simulated day: what each method says of each open pair."""

    def __init__(self, simulation: CohortSimulation) -> None:
        self.simulation = simulation
        self.flagged: dict[str, dict[int, set[int]]] = {m: defaultdict(set) for m in METHODS}
        self.features: dict[int, dict[int, dict[str, float]]] = defaultdict(dict)
        self.signals: dict[int, dict[int, dict[str, float | None]]] = defaultdict(dict)

    def __call__(self, day: int, on: date) -> None:
        programme = self.simulation.programme
        if programme is None:
            return
        pairs = list(
            Pair.objects.open().filter(cohort__programme=programme).select_related("cohort")
        )
        for pair in pairs:
            pair.cohort.programme = programme
        now = timezone.now()
        for pair_id, rules in timing_rules(programme, pairs, now).items():
            if rules:
                self.flagged[OLD][pair_id].add(day)
        active = [pair for pair in pairs if pair.status == Pair.Status.ACTIVE]
        model = model_for(programme.pk)
        for pair_id, signals in signals_for(active, on=on).items():
            level = score_of(signals, model).level
            if level == ACT:
                self.flagged[NEW_ACT][pair_id].add(day)
            if level in (WATCH, ACT):
                self.flagged[NEW_WATCH][pair_id].add(day)
            self.features[pair_id][day] = features(signals)
            self.signals[pair_id][day] = {
                name: value
                for name, value in dataclasses.asdict(signals).items()
                if isinstance(value, int | float) or value is None
            }
        # Only this cohort's pairs: another run may share the database.
        risks_detect(now=now, pair_ids=[pair.pk for pair in pairs])


def simulate(seed: int, pairs: int, days: int) -> Run:
    simulation = CohortSimulation(seed=seed, pairs=pairs, days=days)
    recorder = Recorder(simulation)
    result = simulation.run(on_day=recorder)
    run = Run(
        seed=seed,
        result=result,
        flagged=recorder.flagged,
        features=recorder.features,
        signals=recorder.signals,
    )
    for pair_id, truth in result.truths.items():
        run.samples.extend(_samples(truth, recorder.features[pair_id]))
    kept = RiskFlag.objects.filter(pair__cohort__programme=result.programme_id)
    for pair_id, rule in kept.values_list("pair_id", "rule").distinct():
        archetype = result.truths[pair_id].archetype
        if KEPT.get(archetype) == rule:
            run.kept[archetype] += 1
    _clean_up(result)
    return run


def _samples(
    truth: PairTruth, by_day: dict[int, dict[str, float]]
) -> list[tuple[bool, dict[str, float]]]:
    if truth.lapse_day is not None:
        day = truth.lapse_day - SAMPLE_BEFORE
        window = _window(truth)
        return [(True, by_day[day])] if day in by_day and day in window else []
    if truth.healthy:
        return [(False, by_day[day]) for day in sorted(by_day) if day % HEALTHY_EVERY == 0]
    return []


def _clean_up(result: SimResult) -> None:
    programme = Programme.objects.get(pk=result.programme_id)
    people = list(
        Person.objects.filter(participations__cohort__programme=programme).values_list(
            "pk", flat=True
        )
    )
    programme.delete()
    # A person taking part elsewhere (never, in a bench database) is left.
    with contextlib.suppress(ProtectedError):
        Person.objects.filter(pk__in=people).delete()
    Notification.objects.filter(to_email__endswith=f"-{result.tag}@sim.example").delete()


# --- Figures ------------------------------------------------------------------------------


def _window(truth: PairTruth) -> range:
    """The days a warning of this lapse can come: after the last held session before it,
    up to the lapse day."""
    lapse = truth.lapse_day if truth.lapse_day is not None else 0
    last = max((day for day in truth.held_days if day < lapse), default=0)
    return range(last + 1, lapse + 1)


@dataclass
class Figures:
    lapsing: int = 0
    early: int = 0
    before: int = 0  # flagged at all by the lapse day
    leads: list[int] = field(default_factory=list)
    healthy: int = 0
    healthy_flagged: int = 0

    def share(self, count: int, of: int) -> str:
        return f"{count / of:6.1%} ({count}/{of})" if of else "     — (0/0)"

    def median_lead(self) -> str:
        return f"{statistics.median(self.leads):5.1f} d" if self.leads else "    —"


def figures(runs: list[Run], method: str, archetype: str | None = None) -> Figures:
    totals = Figures()
    for run in runs:
        for pair_id, truth in run.result.truths.items():
            if archetype is not None and truth.archetype != archetype:
                continue
            days = run.flagged[method].get(pair_id, set())
            if truth.lapse_day is not None:
                totals.lapsing += 1
                flagged = sorted(day for day in days if day in _window(truth))
                if flagged:
                    totals.before += 1
                    lead = truth.lapse_day - flagged[0]
                    totals.leads.append(lead)
                    totals.early += lead >= EARLY
            elif truth.healthy:
                totals.healthy += 1
                totals.healthy_flagged += bool(days)
    return totals


def report(title: str, runs: list[Run]) -> None:
    seeds = ", ".join(str(run.seed) for run in runs) or "none"
    print(f"\n{title} (seeds {seeds})")
    if not runs:
        return
    pairs = sum(len(run.result.truths) for run in runs)
    archetypes = Counter(t.archetype for run in runs for t in run.result.truths.values())
    lapsed = Counter(
        t.archetype for run in runs for t in run.result.truths.values() if t.lapse_day is not None
    )
    print(f"  {pairs} pairs; lapsed by archetype: " + ", ".join(
        f"{name} {lapsed[name]}/{count}" for name, count in archetypes.most_common()
    ))  # fmt: skip
    healthy = [t for run in runs for t in run.result.truths.values() if t.healthy]
    missing = sum(bool(t.not_happened_days) for t in healthy)
    print(
        f"  healthy pairs with a session that did not happen: {missing}/{len(healthy)} "
        "(what one missed session alone would flag)"
    )
    print(
        f"  {'method':<18} {'lapsing flagged 14+ d early':>28} {'by the lapse day':>20} "
        f"{'median lead':>12} {'healthy ever flagged':>22}"
    )
    for method in METHODS:
        f = figures(runs, method)
        print(
            f"  {method:<18} {f.share(f.early, f.lapsing):>28} {f.share(f.before, f.lapsing):>20} "
            f"{f.median_lead():>12} {f.share(f.healthy_flagged, f.healthy):>22}"
        )
    print("  lapsing pairs flagged 14+ d early, by archetype (old / act / watch+act):")
    for name in sorted(lapsed):
        cells = []
        for method in METHODS:
            f = figures(runs, method, name)
            cells.append(f"{f.early}/{f.lapsing}")
        print(f"    {name:<16} " + " / ".join(cells))
    kept = Counter[str]()
    for run in runs:
        kept.update(run.kept)
    print("  kept rules (pairs of the archetype with its flag): " + ", ".join(
        f"{name} {kept[name]}/{archetypes[name]}" for name in sorted(PROBLEMS)
    ))  # fmt: skip


def separation(runs: list[Run]) -> None:
    """Each feature's mean for lapsing pairs SAMPLE_BEFORE days before the lapse and for
    healthy pairs, and the difference in pooled standard deviations."""
    samples = [sample for run in runs for sample in run.samples]
    lapsing = [values for lapses, values in samples if lapses]
    healthy = [values for lapses, values in samples if not lapses]
    print(
        f"\nFeatures, tuning seeds: {len(lapsing)} lapsing pairs {SAMPLE_BEFORE} days before "
        f"the lapse, against {len(healthy)} weekly samples of healthy pairs"
    )
    if not lapsing or not healthy:
        return
    print(f"  {'feature':<20} {'lapsing':>8} {'healthy':>8} {'separation (sd)':>16}")
    for name in lapsing[0]:
        a = [values[name] for values in lapsing]
        b = [values[name] for values in healthy]
        spread = statistics.pstdev(a + b) or 1.0
        difference = (statistics.fmean(a) - statistics.fmean(b)) / spread
        print(
            f"  {name:<20} {statistics.fmean(a):8.2f} {statistics.fmean(b):8.2f} {difference:16.2f}"
        )


def dump(path: str, tuned: list[Run], held: list[Run]) -> None:
    """Each pair's truth and its signals (the numbers; not the dates) and features day by
    day, as JSON, to try other features and weights on without simulating again."""
    rows = [
        {
            "seed": run.seed,
            "group": group,
            "pair": pair_id,
            "archetype": truth.archetype,
            "cadence": truth.cadence,
            "lapse_day": truth.lapse_day,
            "healthy": truth.healthy,
            "held_days": truth.held_days,
            "pauses": truth.pauses,
            "old": sorted(run.flagged[OLD].get(pair_id, set())),
            "features": {str(day): values for day, values in run.features[pair_id].items()},
            "signals": {str(day): values for day, values in run.signals[pair_id].items()},
        }
        for group, runs in (("tuning", tuned), ("held-out", held))
        for run in runs
        for pair_id, truth in run.result.truths.items()
    ]
    Path(path).write_text(json.dumps(rows))


def _seeds(text: str) -> list[int]:
    return [int(seed) for seed in text.split(",") if seed.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tuning", default="1,2,3,4,5,6")
    parser.add_argument("--held-out", default="101,102,103,104")
    parser.add_argument("--pairs", type=int, default=60)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--smoke", action="store_true", help="1 seed, 6 pairs, 40 days")
    parser.add_argument("--dump", metavar="FILE", help="write each pair's truth and features")
    options = parser.parse_args()
    tuning, held_out = _seeds(options.tuning), _seeds(options.held_out)
    pairs, days = options.pairs, options.days
    if options.smoke:
        tuning, held_out, pairs, days = [1], [], 6, 40
    # The services log refused actions and the mail they queue: not the figures' business.
    logging.disable(logging.WARNING)
    call_command("migrate", verbosity=0)

    tuned = [simulate(seed, pairs, days) for seed in tuning]
    held = [simulate(seed, pairs, days) for seed in held_out]
    if options.dump:
        dump(options.dump, tuned, held)
    refused = sum(run.result.refused for run in tuned + held)
    print(f"pairs={pairs} days={days} refused service calls={refused}")
    report("TUNING seeds", tuned)
    report("HELD-OUT seeds", held)
    separation(tuned)
    judged = held or tuned
    old, new = figures(judged, OLD), figures(judged, NEW_ACT)
    goal_early = new.lapsing and new.early / new.lapsing >= 0.9
    goal_healthy = new.healthy and new.healthy_flagged / new.healthy <= 0.1
    print(
        f"\ngoals on the {'held-out' if held else 'tuning'} seeds, score at act: "
        f"90% of lapsing flagged 14+ d early {'met' if goal_early else 'NOT met'}; "
        f"at most 10% of healthy ever flagged {'met' if goal_healthy else 'NOT met'}"
    )
    old_share = max(old.early, 1) / old.lapsing if old.lapsing else 1.0
    new_share = new.early / new.lapsing if new.lapsing else 0.0
    print(f"ratio={new_share / old_share:.2f}")


if __name__ == "__main__":
    main()
