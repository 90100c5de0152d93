"""The benchmark's own PostgreSQL databases, on the server the tests use (127.0.0.1:5432,
user postgres, trust authentication unless ``BENCH_POSTGRES_URL`` says otherwise).

The schema is built once through the real migrations (``flask --app wsgi db upgrade``,
exactly as an operator would), into a template; each size then starts from a copy of it,
so every size is measured on a fresh database. Every database made here is named after
this process and dropped at the end, so two runs on one machine never meet.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")


def url(name: str) -> str:
    return f"{SERVER}/{name}"


def sqlalchemy_url(name: str) -> str:
    return f"{SERVER.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"


def _admin(statement: sql.Composable) -> None:
    with psycopg.connect(url("postgres"), autocommit=True) as connection:
        connection.execute(statement)


def drop(name: str) -> None:
    _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def create(name: str, template: str | None = None) -> None:
    drop(name)
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    _admin(statement)


def migrate(name: str, environment: dict[str, str]) -> None:
    """``flask --app wsgi db upgrade`` against database ``name``, as an operator runs it."""
    flask = Path(sys.executable).with_name("flask")
    subprocess.run(  # noqa: S603 - our own virtualenv's flask, fixed arguments
        [str(flask), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env={**os.environ, **environment, "DATABASE_URL": url(name)},
        check=True,
        capture_output=True,
    )


@contextmanager
def template(prefix: str, environment: dict[str, str]) -> Iterator[str]:
    """A migrated, empty database to copy each size from; dropped afterwards."""
    name = f"{prefix}_template"
    create(name)
    try:
        migrate(name, environment)
        yield name
    finally:
        drop(name)


def drop_abandoned(prefix: str) -> list[str]:
    """Drop the databases of earlier runs that could not drop their own (the server went
    away meanwhile): named ``<prefix>_<pid>_…`` after a process that no longer runs."""
    with psycopg.connect(url("postgres")) as connection:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{prefix}\\_%",)
            )
        ]
    dropped = []
    for name in names:
        pid = name.removeprefix(f"{prefix}_").split("_")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            drop(name)
            dropped.append(name)
    return dropped


def server_version() -> str:
    with psycopg.connect(url("postgres")) as connection:
        return str(connection.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
