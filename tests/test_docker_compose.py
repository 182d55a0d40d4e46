"""docker-compose.yml is checked with `docker-compose config`, which parses, validates and
interpolates the file exactly as `docker-compose up` would, but needs no Docker engine. So a
typo, a schema error, a required variable that is not enforced, or the app services drifting
apart is caught here, on any machine with docker-compose installed (./dev test installs it).

Each run gets an empty --env-file, so a developer's own .env never leaks into the checks.
Without docker-compose the tests are skipped, except in CI (CI set), where they must run.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"

APP_SERVICES = ("web", "worker", "beat")
ALL_SERVICES = ("postgres", "redis", *APP_SERVICES)

COMPLETE_ENV = {
    "SECRET_KEY": "test-secret-key",
    "ALLOWED_HOSTS": "mentoring.example.org",
    "SITE_URL": "https://mentoring.example.org",
    "EMAIL_URL": "smtp+tls://user:password@smtp.example.org:587",
    "POSTGRES_PASSWORD": "test-password",
}


@pytest.fixture
def compose(tmp_path):
    """Run `docker-compose --env-file <empty> -f docker-compose.yml ARGS` with exactly the
    given variables (plus PATH) in its environment."""
    executable = shutil.which("docker-compose")
    if executable is None:
        reason = "docker-compose is not on PATH, so docker-compose.yml cannot be validated"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must run this check: install docker-compose)")
        pytest.skip(f"{reason} (install it, e.g. apt-get install docker-compose)")
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")

    def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [executable, "--env-file", str(empty_env_file), "-f", str(COMPOSE_FILE), *args],
            cwd=ROOT,
            env={"PATH": os.environ.get("PATH", os.defpath), **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


def _services_section(config_yaml: str) -> dict[str, list[str]]:
    """The lines of each service in `docker-compose config` output, by service name.

    The output is YAML in block style with two-space indentation; PyYAML is not a
    dependency, so this reads just the structure needed here.
    """
    services: dict[str, list[str]] = {}
    current: str | None = None
    in_services = False
    for line in config_yaml.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            in_services = line.rstrip() == "services:"
            current = None
            continue
        if not in_services:
            continue
        match = re.fullmatch(r"  ([A-Za-z0-9_.-]+):\s*", line)
        if match:
            current = match.group(1)
            services[current] = []
        elif current is not None:
            services[current].append(line)
    return services


def _key_block(lines: list[str], key: str) -> list[str]:
    """A service-level key (indented four spaces) with everything nested under it."""
    block: list[str] = []
    for line in lines:
        if block and (len(line) - len(line.lstrip())) <= 4:
            break
        if block or re.match(rf"    {re.escape(key)}:(\s|$)", line):
            block.append(line)
    return block


def test_it_validates_with_the_required_variables_set(compose):
    result = compose("config", "-q", env=COMPLETE_ENV)

    assert result.returncode == 0, result.stderr


def test_it_refuses_to_start_without_secret_key(compose):
    env = {k: v for k, v in COMPLETE_ENV.items() if k != "SECRET_KEY"}

    result = compose("config", "-q", env=env)

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr + result.stdout


@pytest.mark.parametrize("missing", sorted(COMPLETE_ENV))
def test_it_requires_each_required_variable(compose, missing):
    env = {k: v for k, v in COMPLETE_ENV.items() if k != missing}

    result = compose("config", "-q", env=env)

    assert result.returncode != 0, f"docker-compose.yml does not require {missing}"
    assert missing in result.stderr + result.stdout


def test_it_runs_the_five_services_with_one_app_image(compose):
    result = compose("config", env=COMPLETE_ENV)
    assert result.returncode == 0, result.stderr

    services = _services_section(result.stdout)
    assert set(ALL_SERVICES) <= set(services), sorted(services)

    builds = {name: _key_block(services[name], "build") for name in APP_SERVICES}
    images = {name: _key_block(services[name], "image") for name in APP_SERVICES}
    assert builds["web"], "web is not built from the Dockerfile"
    assert any("Dockerfile" in line for line in builds["web"])
    assert images["web"], "web has no image name, so each app service would build its own"
    for name in ("worker", "beat"):
        assert builds[name] == builds["web"], f"{name} is built differently from web"
        assert images[name] == images["web"], f"{name} runs a different image from web"


def test_it_documents_every_variable_in_env_example(compose):
    result = compose("config", env=COMPLETE_ENV)
    assert result.returncode == 0, result.stderr
    interpolated = set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", COMPOSE_FILE.read_text()))
    passed_through = set(re.findall(r"^\s+([A-Z_][A-Z0-9_]*): null$", result.stdout, re.M))
    documented = set(re.findall(r"^#?([A-Z_][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.M))

    assert interpolated, "found no ${VARIABLE} in docker-compose.yml"
    assert (interpolated | passed_through) - documented == set()
