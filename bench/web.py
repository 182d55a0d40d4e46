"""Issue 20's web goals, each against bare Django on the same server in the same run.

    .venv/bin/python bench/web.py [--smoke] [--rebuild] [--rounds 3] [--seconds 10]
        [--users 12] [--port N] [--no-kpis]

PostgreSQL and Redis only. DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_web)
names the base of three databases, created when missing, whose programme tables the script
empties, so the name must contain "bench" (else "_bench_web" is added): ``<name>_small``
(1,000 pairs), ``<name>_large`` (10,000 pairs, 200,000 sessions, 400,000 pulses) and
``<name>_kpis`` (bench/kpis.py's own). The data sets are kept for the next run (``--rebuild``
builds them again; support/web_data.py says what is in them and how they are built).
The broker is redis://127.0.0.1:6379/15 (BENCH_WEB_BROKER_URL to change it; any
CELERY_BROKER_URL is ignored), emptied before and after the run: the pulses' risk scans and
the beat tasks' messages are queued there and never run. The port is a free one unless
``--port`` names one.

For each size, in a process of its own (support/web_measure.py): the data set, then gunicorn
(3 sync workers) with the production settings (support/web_settings.py: plain HTTP, the bare
views of support/web_urls.py beside the product's), static files collected into a temporary
folder first. At both sizes:

- every admin list and custom admin page a programme manager uses (signed in as one, a staff
  user of the managers' group, not a superuser): the median of 5 requests one after another
  over HTTP, and the queries of one request in-process (the test client and
  CaptureQueriesContext), which must be equal at both sizes;
- each task of CELERY_BEAT_SCHEDULE run in-process once to do what is due, then three times
  with nothing new due: the median time and the queries.

At the large size (the goals' size), Locust (support/web_locustfile.py) drives, headless,
``--rounds`` rounds of ``--seconds`` each, alternating product and bare in every round:

- the pulse POST, each request a distinct unanswered signed link (a real form with the
  CSRF cookie and field), ``--users`` users, against a bare view that inserts one row, its
  requests per second; after each run the database is checked: exactly one pulse per link
  answered with a redirect (one bare row per redirect), no 5xx, nothing else;
- the pair page (a participant's signed link) and the sponsor's monthly status page (a
  sponsor signed in) against a bare one-lookup page, one user sending request after request
  (the time of a request, not of a queue: with three users on the two shared cores the bare
  lookup took 20 ms instead of 4), the average response time;
- 200 simultaneous submissions of one pulse (threads released together): one row, no 5xx;
- the queries of one pulse submission, in-process through the test client on a real link.

Then bench/kpis.py runs as a subprocess on ``<name>_kpis`` and its last two lines are
printed. One line per goal; the line before last holds every ratio, the last line
``ratio=<x>`` the worst product/bare cost: the largest of the bare insert's requests/s over
the pulse's, and the pair and sponsor pages' time over the bare lookup's. The script exits
with 1 (after printing) when a database check fails.

``--smoke``: 10 and 20 pairs, one round of 2 seconds, bench/kpis.py --smoke: every code path
in about a minute and a half; its figures mean nothing.
"""

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_web")
# Its own broker database, emptied before and after a run: the pulses' risk scans and the
# beat tasks' messages are queued there and never consumed, and must not pile up in (or be
# consumed from) the broker of a test run or a deployment sharing the Redis server.
os.environ["CELERY_BROKER_URL"] = os.environ.get(
    "BENCH_WEB_BROKER_URL", "redis://127.0.0.1:6379/15"
)

import environ
import redis
from support.databases import create_database
from support.web_report import report
from support.web_sizes import FULL, SMOKE

ROOT = Path(__file__).resolve().parents[1]
ADMIN_GOAL_MS = 100
BROKER_URL = os.environ["CELERY_BROKER_URL"]


def _database_base(url: str) -> str:
    config = environ.Env.db_url_config(url)
    if "postgresql" not in config["ENGINE"]:
        sys.exit("bench/web.py needs PostgreSQL: set DATABASE_URL to a postgres:// URL.")
    name = config["NAME"] if "bench" in config["NAME"] else f"{config['NAME']}_bench_web"
    return url.rsplit("/", 1)[0] + "/" + name


def _environment(args: argparse.Namespace, static_root: str) -> dict[str, str]:
    site = f"http://127.0.0.1:{args.port}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "support.web_settings",
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'bench'}",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SITE_URL": site,
        "ALLOW_HTTP_SITE_URL": "true",
        "SECURE_SSL_REDIRECT": "false",
        "EMAIL_URL": "dummymail://",
        "STATIC_ROOT": static_root,
        "LOG_LEVEL": "WARNING",
    }


def _run_size(size_name: str, url: str, env: dict[str, str], args: argparse.Namespace) -> dict:
    create_database(url)
    with tempfile.NamedTemporaryFile(prefix="bench-web-", suffix=".json") as output:
        command = [sys.executable, __file__, "--measure", size_name, "--output", output.name]
        command += ["--smoke"] if args.smoke else []
        command += ["--rebuild"] if args.rebuild else []
        command += ["--rounds", str(args.rounds), "--seconds", str(args.seconds)]
        command += ["--users", str(args.users), "--port", str(args.port)]
        subprocess.run(command, env={**env, "DATABASE_URL": url}, check=True)  # noqa: S603
        return json.loads(Path(output.name).read_text())


def _kpis(url: str, smoke: bool) -> list[str]:
    command = [sys.executable, str(ROOT / "bench" / "kpis.py")]
    command += ["--smoke"] if smoke else ["--repeat", "3"]
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "mentoring.settings.dev"}
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        return [f"bench/kpis.py failed ({result.returncode}): {result.stderr.strip()[-300:]}"]
    return result.stdout.strip().splitlines()[-2:]


def _exit(signum: int, frame: object) -> None:
    sys.exit(128 + signum)


def _measure(args: argparse.Namespace) -> None:
    """The child process: one size's figures into --output."""
    # Stopped (by the parent, or a user), it still runs its finally blocks: gunicorn stops.
    signal.signal(signal.SIGTERM, _exit)
    # Only the child sets Django up, each on its own size's database.
    import django

    django.setup()
    from support.web_measure import measure

    sizes = SMOKE if args.smoke else FULL
    size = next(s for s in sizes if s.name == args.measure)
    figures = measure(
        size,
        rebuild=args.rebuild,
        load=size is sizes[-1],
        rounds=args.rounds,
        seconds=args.seconds,
        users=args.users,
        port=args.port,
        env=dict(os.environ),
    )
    figures["size_spec"] = asdict(size)
    Path(args.output).write_text(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--seconds", type=int, default=None)
    parser.add_argument("--users", type=int, default=12)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--no-kpis", action="store_true")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.rounds = args.rounds or (1 if args.smoke else 3)
    args.seconds = args.seconds or (2 if args.smoke else 10)
    if args.measure:
        _measure(args)
        return
    args.port = args.port or _free_port()
    base = _database_base(os.environ["DATABASE_URL"])
    broker = redis.Redis.from_url(BROKER_URL)
    broker.flushdb()
    try:
        figures, kpis = _run(args, base)
    finally:
        broker.flushdb()
    lines, ok = report(figures, kpis, admin_goal_ms=ADMIN_GOAL_MS)
    print("\n".join(lines))
    if not ok:
        sys.exit(1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(args: argparse.Namespace, base: str) -> tuple[list[dict], list[str]]:
    with tempfile.TemporaryDirectory(prefix="bench-web-static-") as static_root:
        env = _environment(args, static_root)
        subprocess.run(  # noqa: S603
            [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--no-input", "-v0"],
            env={**env, "DATABASE_URL": f"{base}_small"},
            check=True,
        )
        sizes = SMOKE if args.smoke else FULL
        figures = [_run_size(size.name, f"{base}_{size.name}", env, args) for size in sizes]
    kpis = [] if args.no_kpis else _kpis(f"{base}_kpis", args.smoke)
    return figures, kpis


if __name__ == "__main__":
    main()
