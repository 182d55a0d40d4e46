"""The benchmarks' own PostgreSQL databases: created when missing, never one whose tables a
benchmark could empty by mistake (its name must contain "bench")."""

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
