"""A real Celery worker process, started here, takes a task from the real broker (Redis in CI,
the embedded filesystem broker elsewhere) and writes to the real test database."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from health.models import Heartbeat
from health.tasks import record_heartbeat
from mentoring.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker_queue() -> str:
    """A queue only this test's worker consumes, so nothing left in a shared broker by an
    earlier run can interfere."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mentoring.settings.test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "mentoring", "worker", "--pool=solo",
         "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-Q", queue, "-n", f"{queue}@%h"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    yield queue
    worker.terminate()
    try:
        output, _ = worker.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        output, _ = worker.communicate()
    print(output)  # shown by pytest when the test fails


def test_it_runs_a_task_on_a_real_worker_and_the_effect_reaches_the_database(
    worker_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not Heartbeat.objects.exists()
    # In-process tests run tasks eagerly; this one must go through the broker.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)

    record_heartbeat.apply_async(queue=worker_queue)

    deadline = time.monotonic() + 60
    while not Heartbeat.objects.filter(name="celery").exists():
        assert time.monotonic() < deadline, "the worker did not run the task within 60 s"
        time.sleep(0.25)
    beat = Heartbeat.objects.get(name="celery")
    assert beat.hostname
    assert Heartbeat.objects.count() == 1
