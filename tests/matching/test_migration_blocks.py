"""Migration 0002 removes duplicate blocks (a block has no cohort, and PostgreSQL let two rows
with a NULL cohort through the old unique constraint), keeping the oldest, and leaves every
other rule alone; afterwards a duplicate block is refused."""

from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("matching", "0001_initial")]
AFTER = [("matching", "0002_run_lease_and_blocks_once")]


def _migrate(targets=None):
    """To ``targets`` (every other app at its latest), or on to every app's latest migration
    for the tests that follow."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    leaves = executor.loader.graph.leaf_nodes()
    others = [leaf for leaf in leaves if leaf[0] != "matching"]
    targets = targets + others if targets else leaves
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _rules(apps) -> dict:
    Person = apps.get_model("programmes", "Person")
    PairRule = apps.get_model("matching", "PairRule")
    programme = apps.get_model("programmes", "Programme").objects.create(
        name="P", slug="p", purpose="Why"
    )
    cohort = apps.get_model("programmes", "Cohort").objects.create(
        programme=programme, name="C", starts_on=date(2026, 9, 1), ends_on=date(2026, 12, 1)
    )
    ada, xia, yan = (
        Person.objects.create(full_name=name, email=f"{name}@example.org")
        for name in ("ada", "xia", "yan")
    )

    def rule(kind: str, mentor, cohort=None) -> int:
        return PairRule.objects.create(
            kind=kind, cohort=cohort, mentee=ada, reverse_mentor=mentor
        ).pk

    return {
        "first block": rule("blocked", xia),
        "second block": rule("blocked", xia),
        "third block": rule("blocked", xia),
        "another block": rule("blocked", yan),
        "exclusion": rule("excluded", xia, cohort),
    }


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_oldest_of_duplicate_blocks_and_then_refuses_a_duplicate():
    try:
        rows = _rules(_migrate(BEFORE))
        PairRule = _migrate(AFTER).get_model("matching", "PairRule")
        kept = set(PairRule.objects.values_list("pk", flat=True))
        first = PairRule.objects.get(pk=rows["first block"])
        with pytest.raises(IntegrityError), transaction.atomic():
            PairRule.objects.create(
                kind="blocked", mentee_id=first.mentee_id, reverse_mentor_id=first.reverse_mentor_id
            )
    finally:
        _migrate()

    assert {name for name, pk in rows.items() if pk in kept} == {
        "first block",
        "another block",
        "exclusion",
    }
