"""CI must test against the real services; a silent fallback to SQLite there would hide the
very bugs PostgreSQL exists to catch."""

import os

import pytest
from django.conf import settings
from django.db import connection

in_ci = pytest.mark.skipif(not os.environ.get("CI"), reason="only CI insists on the services")


@in_ci
def test_it_runs_on_postgresql_in_ci(db: None) -> None:
    assert connection.vendor == "postgresql"


@in_ci
def test_it_uses_redis_as_the_broker_in_ci() -> None:
    assert settings.CELERY_BROKER_URL.startswith("redis://")
