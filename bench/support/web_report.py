"""bench/web.py's printed lines: one per goal, then every ratio, then ``ratio=<worst>``."""

import os
import statistics
from typing import Any

PULSE_SHARE_GOAL = 0.60
PULSE_QUERIES_GOAL = 8
PAGE_GOAL = 3.0


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def _sizes(figures: list[dict[str, Any]]) -> str:
    return " / ".join(f"{f['pairs']:,} pairs, {f['pulses']:,} pulses" for f in figures)


def report(
    figures: list[dict[str, Any]], kpis: list[str], *, admin_goal_ms: float
) -> tuple[list[str], bool]:
    large = figures[-1]
    load = large["load"]
    runs = load["runs"]
    ok = True
    lines = [
        f"sizes: {_sizes(figures)} (built this run: "
        f"{', '.join(f['size'] for f in figures if f['rebuilt']) or 'none'}); "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    ]

    # Pulse POST: throughput, the database checks, queries, exactly once.
    pulse_rps, bare_rps = _median(runs["pulse"], "rps"), _median(runs["bare insert"], "rps")
    share = pulse_rps / bare_rps
    written = ["warm pulse", "pulse", "warm bare insert", "bare insert"]
    checks = [run["check"] for name in written for run in runs[name]]
    checked = all(check["ok"] for check in checks)
    ok &= checked
    exhausted = sum(run["exhausted"] for run in runs["pulse"])
    lines.append(
        f"pulse POST: {pulse_rps:.1f} req/s vs bare insert {bare_rps:.1f} req/s = {share:.0%} "
        f"(goal >= {PULSE_SHARE_GOAL:.0%}: {'met' if share >= PULSE_SHARE_GOAL else 'NOT met'}); "
        f"medians of {len(runs['pulse'])} alternating runs of {load['seconds']:g} s, "
        f"{load['users']} users, {load['links']:,} distinct links"
        + (f"; LINKS RAN OUT ({exhausted} users stopped)" if exhausted else "")
    )
    lines.append(
        "pulse POST database check after each run: "
        + "; ".join(
            f"{c['what']} {c['rows']} rows for {c['distinct']} saved, "
            f"{c['server_errors']} 5xx, {c['not_redirect']} not redirected"
            for c in checks
        )
        + (": ok" if checked else ": FAILED")
    )
    queries = large["pulse_queries"]
    lines.append(
        f"pulse POST queries per submission: {queries}, BEGIN and COMMIT included "
        f"(goal <= {PULSE_QUERIES_GOAL}: {'met' if queries <= PULSE_QUERIES_GOAL else 'NOT met'}); "
        "a first answer, held, ratings, request already written, in-process test client"
    )
    concurrent = large["concurrent"]
    ok &= concurrent["ok"]
    lines.append(
        f"pulse POST exactly once: {concurrent['submissions']} simultaneous submissions of one "
        f"pulse: {concurrent['rows']} row(s), statuses {concurrent['statuses']}: "
        + ("ok" if concurrent["ok"] else "FAILED")
    )

    # Pages against the bare lookup.
    bare_ms = _median(runs["bare lookup"], "avg_ms")
    page_ratios = {}
    for name in ("pair page", "sponsor page"):
        page_ms = _median(runs[name], "avg_ms")
        page_ratios[name] = page_ms / bare_ms
        lines.append(
            f"{name}: {page_ms:.1f} ms vs bare lookup {bare_ms:.1f} ms per request = "
            f"{page_ratios[name]:.2f}x (goal within {PAGE_GOAL:g}x: "
            f"{'met' if page_ratios[name] <= PAGE_GOAL else 'NOT met'}); medians of "
            f"{len(runs[name])} runs' averages, one user"
        )

    # Admin pages at both sizes.
    worst_admin = 0.0
    for label in large["admin_ms"]:
        ms = [f["admin_ms"][label]["ms"] for f in figures]
        timed = [f["admin_ms"][label]["n"] for f in figures]
        counts = [f["admin_queries"][label] for f in figures]
        worst_admin = max(worst_admin, ms[-1])
        lines.append(
            f"admin {label}: {' / '.join(f'{m:.0f}' for m in ms)} ms, "
            f"{' / '.join(map(str, counts))} queries at {_sizes(figures)} "
            f"(median of {' / '.join(map(str, timed))} requests) "
            f"(goal < {admin_goal_ms:g} ms: {'met' if ms[-1] < admin_goal_ms else 'NOT met'}; "
            f"queries {'equal' if len(set(counts)) == 1 else 'NOT equal'})"
        )

    # Beat scans with nothing new due.
    for name in large["beat"]:
        parts = [
            f"{f['beat'][name]['queries']} queries {f['beat'][name]['ms']:.0f} ms"
            + (" (count varies)" if f["beat"][name]["varies"] else "")
            for f in figures
        ]
        lines.append(f"beat {name}, nothing new due: {' / '.join(parts)} at {_sizes(figures)}")

    lines.extend(f"KPI task (bench/kpis.py): {line}" for line in kpis)
    kpi_ratio = next((line.split("=", 1)[1] for line in kpis if line.startswith("ratio=")), "n/a")
    worst = max(bare_rps / pulse_rps, *page_ratios.values())
    lines.append(
        f"ratios: pulse/bare_insert req/s={share:.2f} "
        f"pair/bare_lookup={page_ratios['pair page']:.2f} "
        f"sponsor/bare_lookup={page_ratios['sponsor page']:.2f} "
        f"worst_admin_ms/{admin_goal_ms:g}={worst_admin / admin_goal_ms:.2f} kpis={kpi_ratio}"
    )
    lines.append(f"ratio={worst:.2f}")
    return lines, ok
