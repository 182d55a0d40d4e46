"""How long a batch of outbox messages takes to commit while the broker is down, against the
same batch with publishing turned off.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_outbox .venv/bin/python bench/outbox.py
        [--rows 200] [--repeat 3] [--smoke]

A batch is what a page asking for mail to many people does: ``notify`` once per recipient
inside one transaction, then commit, which runs one after-commit publish per ``notify``. The
broker is a closed port on 127.0.0.1 (a connection is refused at once, as when Redis is
stopped), through the real Celery app and its settings (publish retry policy and timeouts).
Before each batch the publish breaker (notifications.sending.PUBLISH_BREAKER) is closed, so
every batch pays for its first failed publish, as the first request of an outage does.

It prints, best of ``--repeat``:

- the batch with the broker down;
- the baseline: the same batch with ``send_notification.delay`` replaced by a no-op;
- for reference, what each publish costs when the breaker does not stop the next (5 rows
  published with the breaker's pause set to zero), with the project's retry policy and (not
  with ``--smoke``; in a fresh process) with Celery's default one, three retries 0.2 s apart:
  times the batch, the latter is what the batch took before issue 16;

and last ``ratio=<broker down / baseline>``. The goal: 200 rows within 2 s with the broker
down (printed as "goal ... met" or "NOT met").

The database: PostgreSQL when DATABASE_URL names one (a database named *bench*: a URL naming
another gets ``_bench_outbox`` added, created and migrated when missing; the outbox table is
emptied), otherwise a fresh SQLite file in a temporary folder. ``--smoke`` runs 5 rows once
(tests/test_bench.py); its figures mean nothing.
"""

import argparse
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mentoring.settings.dev")
# Nothing listens on port 1: the broker is down.
STOPPED_BROKER = "redis://127.0.0.1:1/0"
os.environ["CELERY_BROKER_URL"] = STOPPED_BROKER

from support.databases import use_bench_database  # noqa: E402

use_bench_database("outbox")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from mentoring.celery import app as celery_app  # noqa: E402
from notifications import tasks  # noqa: E402
from notifications.models import Notification  # noqa: E402
from notifications.sending import PUBLISH_BREAKER  # noqa: E402
from notifications.services import notify  # noqa: E402

GOAL_ROWS = 200
GOAL_SECONDS = 2.0


def batch(rows: int, tag: str) -> float:
    """``rows`` messages asked in one transaction and committed; the time to commit them."""
    PUBLISH_BREAKER.reset()
    Notification.objects.all().delete()
    started = time.perf_counter()
    with transaction.atomic():
        for i in range(rows):
            notify(kind="intake_invitation", key=f"bench-{tag}-{i}", to=f"p{i}@bench.example")
    took = time.perf_counter() - started
    pending = Notification.objects.filter(status=Notification.Status.PENDING).count()
    if pending != rows:
        sys.exit(f"{pending} of {rows} rows pending: the outbox lost some")
    return took


def broker_down(rows: int) -> float:
    return batch(rows, "down")


def publishing_off(rows: int) -> float:
    real = tasks.send_notification.delay
    tasks.send_notification.delay = lambda *args, **kwargs: None
    try:
        return batch(rows, "off")
    finally:
        tasks.send_notification.delay = real


CELERY_DEFAULT_RETRY_POLICY = {
    "max_retries": 3,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}


def each_publish_tried(rows: int) -> float:
    """What each publish costs when the breaker does not skip it (its pause set to zero)."""
    pause = PUBLISH_BREAKER.pause
    PUBLISH_BREAKER.pause = 0.0
    try:
        return (batch(rows, "each") - publishing_off(rows)) / rows
    finally:
        PUBLISH_BREAKER.pause = pause


def before(rows: int) -> float:
    """``each_publish_tried`` with Celery's default retry policy, in a fresh process: Celery
    reads the policy once, when it first publishes."""
    result = subprocess.run(  # noqa: S603 (this script, this interpreter)
        [sys.executable, __file__, "--before", "--rows", str(rows)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=GOAL_ROWS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="5 rows, once")
    parser.add_argument("--before", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    rows, repeat = (5, 1) if options.smoke else (options.rows, options.repeat)
    # Each failed publish logs a warning with its traceback: not the figures' business.
    logging.disable(logging.WARNING)

    call_command("migrate", verbosity=0)
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = STOPPED_BROKER
    if options.before:
        celery_app.conf.task_publish_retry_policy = CELERY_DEFAULT_RETRY_POLICY
        print(each_publish_tried(options.rows))
        return
    down, off = [], []
    for _ in range(repeat):  # interleaved, so load on the machine falls on both
        down.append(broker_down(rows))
        off.append(publishing_off(rows))
    each = each_publish_tried(min(rows, 5))
    Notification.objects.all().delete()

    print(f"rows={rows} repeat={repeat} broker={STOPPED_BROKER} (best of {repeat})")
    print(f"broker down, with the breaker:   {min(down):8.3f} s")
    print(f"publishing off (baseline):       {min(off):8.3f} s")
    print(f"each publish tried, no breaker:  {each:8.3f} s each, {each * rows:.1f} s the batch")
    if not options.smoke:
        old = before(5)
        print(
            f"before (Celery's default retries, no breaker): {old:.3f} s each, {old * rows:.1f} s"
        )
    if rows >= GOAL_ROWS:
        verdict = "met" if min(down) <= GOAL_SECONDS else "NOT met"
        print(f"goal {GOAL_ROWS} rows within {GOAL_SECONDS:.0f} s with the broker down: {verdict}")
    print(f"ratio={min(down) / min(off):.2f}")


if __name__ == "__main__":
    main()
