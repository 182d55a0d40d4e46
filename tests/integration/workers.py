"""Real Celery workers for the integration tests: ``celery worker`` processes on a private
queue, with the test settings, the test database and broker, and whatever environment a test
adds (an SMTP server's EMAIL_URL, a short lease)."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from django.conf import settings
from django.db import connection

from notifications.sending import notifications_due
from notifications.tasks import send_notification

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


class Workers:
    """Starts workers that consume one queue only this test uses, so nothing left in a shared
    broker by an earlier run can interfere; stops them all (and prints their logs, which
    pytest shows for a failed test) on leaving the ``with`` block."""

    def __init__(self, logs: Path, **env: str) -> None:
        self.queue = f"test-{uuid.uuid4().hex[:12]}"
        self._logs = logs
        self._env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "mentoring.settings.test",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            **env,
        }
        self._started: list[tuple[subprocess.Popen, Path]] = []

    def start(self) -> subprocess.Popen:
        number = len(self._started) + 1
        log = self._logs / f"worker-{number}.log"
        with log.open("w") as output:  # the child keeps its own copy of the descriptor
            worker = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "mentoring", "worker", "--pool=solo",
                 "--loglevel=INFO", "--without-gossip", "--without-mingle",
                 "--without-heartbeat", "-Q", self.queue, "-n", f"{self.queue}-{number}@%h"],
                cwd=ROOT,
                env=self._env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        self._started.append((worker, log))
        return worker

    @staticmethod
    def kill(worker: subprocess.Popen) -> None:
        """SIGKILL, as the kernel's OOM killer or a lost machine would: no clean-up at all."""
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)

    def sweep(self) -> list[int]:
        """What beat's sweep does, routed to this queue: hand every due row to a send."""
        due = notifications_due()
        for notification_id in due:
            send_notification.apply_async(args=[notification_id], queue=self.queue)
        return due

    def __enter__(self) -> "Workers":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for worker, _ in self._started:
            if worker.poll() is None:
                worker.terminate()
        for worker, log in self._started:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            print(f"--- {log.name} (exit code {worker.returncode}) ---")
            print(log.read_text())


def wait_until(
    condition: Callable[[], bool], *, timeout: float, failure: str, every: float = 0.2
) -> None:
    """Poll ``condition`` every ``every`` seconds; fail with ``failure`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{failure} within {timeout} s"
        time.sleep(every)
