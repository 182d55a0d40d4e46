from io import StringIO

from django.core.management import call_command


def test_it_has_a_migration_for_every_model_change(db: None) -> None:
    out = StringIO()
    # Exits with status 1 (SystemExit, failing the test) when a change has no migration.
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
