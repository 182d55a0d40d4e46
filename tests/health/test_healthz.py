from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from health.models import Heartbeat
from mentoring.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_it_answers_200_when_the_database_and_the_broker_answer(client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}
    assert response.json()["worker"] == "no heartbeat yet"
    assert response["Cache-Control"].startswith("max-age=0")


def test_it_answers_503_naming_the_broker_when_it_is_unreachable(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on port 1: a real connection attempt that is refused.
    monkeypatch.setitem(celery_app.conf, "broker_write_url", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(celery_app.conf, "broker_transport_options", {})

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["checks"] == {"database": "ok", "broker": "unreachable"}
    assert body["message"] == "broker unreachable"


def test_it_answers_503_naming_the_database_when_it_is_unreachable(client: Client) -> None:
    with mock.patch(
        "health.checks.connection.cursor", side_effect=OperationalError("connection refused")
    ):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unreachable"
    assert response.json()["message"] == "database unreachable"


def test_it_reports_a_stale_worker_heartbeat_without_failing(client: Client) -> None:
    Heartbeat.objects.create(name="celery", last_seen=timezone.now() - timedelta(minutes=10))

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["worker"].startswith("last heartbeat 600 s ago (stale")


def test_it_refuses_other_methods(client: Client) -> None:
    assert client.post("/healthz").status_code == 405
