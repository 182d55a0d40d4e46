"""Every benchmark in bench/ runs at its --smoke size, so that a change never breaks one
unnoticed; the figures are the full size's business (bench/README.md), not the tests'."""

import os
import re
import subprocess
import sys
from pathlib import Path

import environ
import pytest

ROOT = Path(__file__).resolve().parents[1]
# Each script at the top of bench/ is a benchmark; what they share is in bench/support/.
SCRIPTS = sorted(path.name for path in (ROOT / "bench").glob("*.py"))
# Those that need PostgreSQL, and the suffix of their own database's name.
POSTGRES_ONLY = {"kpis.py": "bench_smoke", "web.py": "bench_web_smoke"}


def _environment(script: str) -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mentoring.settings.dev"}
    if script not in POSTGRES_ONLY:
        return env
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip(f"bench/{script} measures PostgreSQL: no DATABASE_URL points at one")
    name = environ.Env.db_url_config(url)["NAME"]
    # Its own databases (the script empties their tables), named apart from a parallel run's.
    env["DATABASE_URL"] = url.rsplit("/", 1)[0] + f"/{name}_{POSTGRES_ONLY[script]}"
    return env


def test_it_knows_every_benchmark() -> None:
    assert SCRIPTS == ["early_warning.py", "kpis.py", "matching.py", "outbox.py", "web.py"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_each_benchmark_runs_at_its_smoke_size(script: str) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--smoke"],
        cwd=ROOT,
        env=_environment(script),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    # Its last line is the figure it exists for.
    assert re.fullmatch(r"ratio=\d+\.\d\d", result.stdout.strip().splitlines()[-1])
