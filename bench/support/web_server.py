"""Gunicorn and Locust for bench/web.py: the server in its own process group, always stopped,
and one headless Locust run read back from its CSV and the locustfile's own output."""

import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LOCUSTFILE = Path(__file__).with_name("web_locustfile.py")
WORKERS = 3


@contextmanager
def gunicorn(env: dict[str, str], port: int) -> Iterator[str]:
    """Serve the project with ``env`` (production settings, 3 sync workers) on ``port``;
    yields the base URL. The whole process group is stopped on the way out, whatever
    happened."""
    log = tempfile.NamedTemporaryFile(prefix="bench-web-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603
        [
            str(BIN / "gunicorn"),
            "mentoring.wsgi:application",
            "--workers",
            str(WORKERS),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--chdir",
            str(ROOT),
            "--pythonpath",
            f"{ROOT},{ROOT / 'bench'}",
            "--backlog",
            "2048",
            "--timeout",
            "120",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process, Path(log.name))
        yield base
    finally:
        _stop(process)
        log.close()


def _wait_until_up(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped at start:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer /healthz in 60 s:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def locust_run(
    spec: dict[str, Any], *, base: str, users: int, seconds: float, env: dict[str, str]
) -> dict[str, Any]:
    """One headless run of ``users`` users for ``seconds``: requests/s, average and median
    response time (ms), failures, the status codes, and what the locustfile reported."""
    with tempfile.TemporaryDirectory(prefix="bench-web-locust-") as folder:
        spec_file = Path(folder, "spec.json")
        spec_file.write_text(json.dumps(spec))
        output = Path(folder, "output.json")
        prefix = Path(folder, "run")
        result = subprocess.run(  # noqa: S603
            [
                str(BIN / "locust"),
                "-f",
                str(LOCUSTFILE),
                "--headless",
                "--users",
                str(users),
                "--spawn-rate",
                str(users),
                "--run-time",
                f"{seconds}s",
                "--host",
                base,
                "--csv",
                str(prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
                "--stop-timeout",
                "10",
            ],
            env={**env, "BENCH_WEB_INPUT": str(spec_file), "BENCH_WEB_OUTPUT": str(output)},
            capture_output=True,
            text=True,
            timeout=seconds + 120,
            check=False,
        )
        if not output.exists():
            raise RuntimeError(f"locust failed ({result.returncode}):\n{result.stderr[-3000:]}")
        reported = json.loads(output.read_text())
        with open(f"{prefix}_stats.csv") as file:
            row = next(r for r in csv.DictReader(file) if r["Name"] == "Aggregated")
    return {
        "rps": float(row["Requests/s"]),
        "avg_ms": float(row["Average Response Time"]),
        "median_ms": float(row["Median Response Time"]),
        "requests": int(row["Request Count"]),
        "failures": int(row["Failure Count"]),
        **reported,
    }
