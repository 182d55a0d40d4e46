"""Migration 0009 withdraws what pairs ended before it left booked after their end, and
nothing else."""

import uuid
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("programmes", "0008_sponsor_targets_and_asks")]
AFTER = [("programmes", "0009_meeting_withdrawn")]


def _migrate(targets=None):
    """To ``targets``, or on to every app's latest migration for the tests that follow."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _history(apps) -> dict:
    """Sessions of an ended and an active pair, written with the models as they were."""
    Meeting = apps.get_model("programmes", "Meeting")
    Pair = apps.get_model("programmes", "Pair")
    Participant = apps.get_model("programmes", "Participant")
    Person = apps.get_model("programmes", "Person")
    programme = apps.get_model("programmes", "Programme").objects.create(
        name="P", slug="p", purpose="Why"
    )
    cohort = apps.get_model("programmes", "Cohort").objects.create(
        programme=programme, name="C", starts_on=date(2026, 9, 1), ends_on=date(2026, 12, 1)
    )

    def pair(n: int, **fields):
        mentee, mentor = (
            Participant.objects.create(
                cohort=cohort,
                role=role,
                person=Person.objects.create(full_name=f"{role} {n}", email=f"{role}{n}@x.org"),
            )
            for role in ("mentee", "reverse_mentor")
        )
        return Pair.objects.create(cohort=cohort, mentee=mentee, reverse_mentor=mentor, **fields)

    def session(pair, day: int, status: str = "scheduled"):
        return Meeting.objects.create(
            pair=pair,
            starts_at=datetime(2026, 11, day, 10, tzinfo=UTC),
            status=status,
            cancelled_by="mentee" if status == "cancelled" else "",
            uid=uuid.uuid4(),
        )

    ended = pair(1, status="ended", ended_on=date(2026, 11, 10))
    active = pair(2, status="active")
    return {
        "before the end": session(ended, 9).pk,
        "on the day": session(ended, 10).pk,
        "after": session(ended, 12).pk,
        "cancelled after": session(ended, 13, "cancelled").pk,
        "active pair": session(active, 12).pk,
    }


@pytest.mark.django_db(transaction=True)
def test_it_withdraws_only_the_sessions_booked_after_an_ended_pairs_end():
    try:
        rows = _history(_migrate(BEFORE))
        Meeting = _migrate(AFTER).get_model("programmes", "Meeting")
        statuses = dict(Meeting.objects.values_list("pk", "status"))
    finally:
        _migrate()

    assert {name: statuses[pk] for name, pk in rows.items()} == {
        "before the end": "scheduled",
        "on the day": "scheduled",
        "after": "withdrawn",
        "cancelled after": "cancelled",
        "active pair": "scheduled",
    }
