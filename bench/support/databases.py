"""The benchmarks' own PostgreSQL databases: created when missing, never one whose tables a
benchmark could empty by mistake (its name must contain "bench")."""

import os
import tempfile

import environ
import psycopg2
from psycopg2 import sql as pgsql


def create_database(url: str) -> None:
    """Create the database ``url`` names, connecting to the server's "postgres" database."""
    config = environ.Env.db_url_config(url)
    connection = psycopg2.connect(
        dbname="postgres",
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        host=config["HOST"] or None,
        port=config["PORT"] or None,
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
        if cursor.fetchone() is None:
            cursor.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(config["NAME"])))
    connection.close()


def use_bench_database(name: str) -> None:
    """Point DATABASE_URL at the benchmark ``name``'s own database before Django starts: a
    throw-away SQLite file without PostgreSQL, else the configured database's name with
    "_bench_<name>" added (created when missing)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        folder = tempfile.mkdtemp(prefix=f"bench-{name}-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/{name}.sqlite3"
        return
    config = environ.Env.db_url_config(url)
    if "bench" not in config["NAME"]:
        config["NAME"] += f"_bench_{name}"
        os.environ["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + config["NAME"]
    create_database(os.environ["DATABASE_URL"])
