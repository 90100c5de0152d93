"""The schema is built by Alembic migrations, on SQLite and on PostgreSQL (``.ci/run``)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from portal.extensions import db
from procedures.search import outside_search_index
from tests.conftest import ROOT, make_test_app

pytestmark = pytest.mark.database


def test_flask_db_upgrade_runs_from_the_command_line(database_url, tmp_path) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "cli-test"}
    env.pop("FLASK_APP", None)
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_migrations_build_exactly_the_models(database_url, tmp_path) -> None:
    app = make_test_app(database_url, tmp_path)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": outside_search_index}
            )
            differences = compare_metadata(context, db.metadata)
    assert differences == [], "the models changed: add a migration (flask db migrate)"


def test_the_embedded_database_lets_readers_in_while_one_writes(database_url, tmp_path) -> None:
    """SQLite in write-ahead-log mode: a reader is not held up by a writer's open transaction
    (on the threaded dev server, one visitor's submission no longer stalls another's page)."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL readers never wait for writers")
    from sqlalchemy import text

    # A database of its own: the session's holds whatever earlier tests left in it.
    app = make_test_app(f"sqlite:///{tmp_path / 'wal.sqlite3'}", tmp_path)
    with app.app_context():
        upgrade()
        with db.engine.connect() as writer, db.engine.connect() as reader:
            assert writer.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            writer.execute(text("BEGIN EXCLUSIVE"))  # blocks every reader without WAL
            writer.execute(text("UPDATE accounts SET language = 'es' WHERE 1 = 0"))
            assert reader.execute(text("SELECT count(*) FROM accounts")).scalar() == 0
            writer.execute(text("ROLLBACK"))
