"""An existing database moves to the re-layout (pairs, risks, reporting out of programmes)
without losing or copying a row.

The database is made by the code as it was before the move (its commit, read from this
repository's history): ``manage.py migrate`` and ``manage.py demo``. Today's code then
migrates it forward, reads it through the moved models, and migrates it back. Both run as
separate processes on a database of their own, as a deployment would.
"""

import json
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

ROOT = Path(__file__).resolve().parents[2]
# The last commit on main before the re-layout (issue #17).
BEFORE = "86a0417d392e96aa7cd8c824aa062ef6ba7bdb32"
MOVED = {
    "pair": "pairs",
    "agreement": "pairs",
    "meeting": "pairs",
    "note": "pairs",
    "guide": "pairs",
    "checkin": "risks",
    "riskflag": "risks",
    "pairaction": "risks",
    "kpisnapshot": "reporting",
    "successstory": "reporting",
    "sponsorask": "reporting",
}
# What today's code reads back, in one process: each moved model's rows, and whether every
# outbox row and permission still names an object and a model that exist.
READ_BACK = """
import json
from django.apps import apps
from django.contrib.auth.models import Group
from notifications.models import Notification
labels = %r
counts = {m: apps.get_model(a, m).objects.count() for m, a in labels.items()}
lost = [n.pk for n in Notification.objects.exclude(content_type=None) if n.about is None]
group = Group.objects.get(name="Programme managers")
perms = sorted(f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all())
print(json.dumps({"counts": counts, "lost": lost, "perms": perms}))
"""


def _checkout(commit: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit],
        capture_output=True,
        check=False,
    )
    assert archive.returncode == 0, (
        f"the commit before the re-layout ({commit[:7]}) is not in this clone's history: "
        f"{archive.stderr.decode()}"
    )
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


@pytest.fixture
def scratch_database(tmp_path: Path) -> Iterator[str]:
    """A database of its own, outside the test database, as a URL."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'layout.sqlite3'}"
        return
    db = connection.settings_dict
    name = f"layout_{uuid.uuid4().hex[:10]}"
    server = psycopg2.connect(
        dbname="postgres", user=db["USER"], password=db["PASSWORD"], host=db["HOST"],
        port=db["PORT"] or 5432,
    )  # fmt: skip
    server.autocommit = True
    with server.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    try:
        yield f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{name}"
    finally:
        with server.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.close()


def _manage(code: Path, url: str, *args: str) -> str:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mentoring.settings.dev",
        "DATABASE_URL": url,
        "PYTHONPATH": str(code),
    }
    env.pop("CELERY_BROKER_URL", None)  # the embedded broker under the code's own var/
    (code / "var").mkdir(exist_ok=True)
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=code,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}"
    return done.stdout


def _sql(url: str, query: str) -> list[tuple]:
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            return db.execute(query).fetchall()
    with psycopg2.connect(url) as db, db.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetchall()


def _tables(url: str) -> set[str]:
    if url.startswith("sqlite"):
        rows = _sql(url, "SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        rows = _sql(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {name for (name,) in rows}


def _content_types(url: str) -> dict[str, tuple[int, str]]:
    """Each moved model's content type: its id and the app it is labelled with."""
    rows = _sql(url, "SELECT id, app_label, model FROM django_content_type")
    return {model: (pk, app) for pk, app, model in rows if model in MOVED}


def test_a_demo_database_of_the_old_layout_migrates_forward_and_back(
    tmp_path: Path, scratch_database: str
) -> None:
    old = _checkout(BEFORE, tmp_path / "before")
    _manage(old, scratch_database, "migrate", "--no-input")
    _manage(old, scratch_database, "demo")
    tables_before = _tables(scratch_database)
    # The table names are this module's own constants, never input.
    count = "SELECT count(*) FROM programmes_{}"
    rows_before = {m: _sql(scratch_database, count.format(m))[0][0] for m in MOVED}
    types_before = _content_types(scratch_database)
    assert {app for _, app in types_before.values()} == {"programmes"}
    assert min(rows_before[m] for m in ("pair", "meeting", "riskflag", "kpisnapshot")) > 0

    _manage(ROOT, scratch_database, "migrate", "--no-input")

    # No table dropped, and none made for a moved model (later migrations add tables of
    # their own, such as the audit trail's): the moved models read the same rows.
    tables_after = _tables(scratch_database)
    assert tables_before <= tables_after
    assert not [t for t in tables_after - tables_before if t.split("_", 1)[1] in MOVED]
    types_after = _content_types(scratch_database)
    assert types_after == {m: (types_before[m][0], app) for m, app in MOVED.items()}
    output = _manage(ROOT, scratch_database, "shell", "-c", READ_BACK % MOVED)
    read = json.loads(output.strip().splitlines()[-1])
    assert read["counts"] == rows_before
    assert read["lost"] == []  # every outbox row still finds what it is about
    assert {"pairs.view_pair", "risks.change_riskflag", "reporting.add_successstory"} <= set(
        read["perms"]
    )
    assert not any(p.startswith("programmes.") and p.split("_", 1)[1] in MOVED
                   for p in read["perms"])  # fmt: skip

    # And back (one command: every migration of the move depends on pairs' first): the
    # state moves back to programmes, the content types with it.
    _manage(ROOT, scratch_database, "migrate", "pairs", "zero")
    tables_back = _tables(scratch_database)
    assert tables_before <= tables_back  # (and django-auditlog's own table, which stays)
    assert not [t for t in tables_back - tables_before if t.split("_", 1)[1] in MOVED]
    assert _content_types(scratch_database) == types_before
