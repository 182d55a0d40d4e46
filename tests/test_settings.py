"""Settings are read from the environment; production refuses to boot without its secrets."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mentoring.settings.base import REQUIRED_IN_PRODUCTION

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "mentoring.settings.production",
    "SECRET_KEY": "kX3v!9qLz@2mR#8wT$5yB^7nC&1pF*4hJ(6dG)0sA-Ue_Vi+Wo=Qr",
    "ALLOWED_HOSTS": "mentoring.example.org",
    "DATABASE_URL": "postgres://app:secret@db.internal:5432/mentoring",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "SITE_URL": "https://mentoring.example.org",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.org:587",
}


def _run(code_or_args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # The test run's own switches (DJANGO_ALLOW_ASYNC_UNSAFE for Playwright) are not a
    # deployment's.
    ignore = {*PRODUCTION_ENV, "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in ignore}
    return subprocess.run(
        [sys.executable, *code_or_args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_it_passes_the_deployment_checklist_with_production_settings() -> None:
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("name", REQUIRED_IN_PRODUCTION)
def test_it_refuses_to_boot_in_production_without(name: str) -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != name}
    result = _run(["-c", "import django; django.setup()"], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr


def test_it_refuses_a_plain_http_site_url_in_production() -> None:
    result = _run(
        ["-c", "import django; django.setup()"],
        {**PRODUCTION_ENV, "SITE_URL": "http://mentoring.example.org"},
    )
    assert result.returncode != 0
    assert "SITE_URL must start with https://" in result.stderr


@pytest.mark.parametrize(
    "key",
    [
        "x" * 49 + "y",  # long enough, but two different characters
        "kX3v!9qLz@2mR#8wT$5yB^7nC&1pF*4hJ(6dG)0sA-Ue_Vi+W",  # 49 characters
        "Zx7" * 17,  # 51 characters, three different ones
        "change-me-to-a-long-random-string",  # the example in .env.example
        "django-insecure-" + "kX3v!9qLz@2mR#8wT$5yB^7nC&1pF*4hJ(6dG)0sA",
    ],
)
def test_it_refuses_a_weak_secret_key_in_production(key: str) -> None:
    result = _run(["-c", "import django; django.setup()"], {**PRODUCTION_ENV, "SECRET_KEY": key})
    assert result.returncode != 0
    assert "SECRET_KEY must be at least 50 characters" in result.stderr


def test_it_accepts_a_generated_secret_key_in_production() -> None:
    result = _run(["-c", "import django; django.setup()"], PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr


def test_it_rejects_a_boolean_it_cannot_read() -> None:
    result = _run(
        ["-c", "import django; django.setup()"],
        {"DJANGO_SETTINGS_MODULE": "mentoring.settings.dev", "DEBUG": "flase"},
    )
    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr


def test_it_runs_on_the_embedded_defaults_with_no_environment_at_all() -> None:
    result = _run(
        [
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL)",
        ],
        {"DJANGO_SETTINGS_MODULE": "mentoring.settings.dev"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "filesystem://localhost/"]


def test_every_beat_entry_names_a_registered_task_that_expires_before_the_next_tick() -> None:
    from django.conf import settings

    from mentoring.celery import app

    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name
        # A tick that waited in a queue past the next one is dropped, not run twice in a row.
        assert entry["options"]["expires"] < entry["schedule"], name


@pytest.mark.parametrize(("jit", "options"), [(None, "-c jit=off"), ("true", None)])
def test_it_turns_postgres_jit_off_in_production_unless_asked(
    jit: str | None, options: str | None
) -> None:
    env = PRODUCTION_ENV | ({"POSTGRES_JIT": jit} if jit else {})
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default'].get('OPTIONS', {}).get('options'))"
    )
    result = _run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(options)
