"""Fixtures shared by every test layer.

The database is SQLite in a temporary file unless ``DATABASE_URL`` names
another one (``.ci/run`` runs the database tests again on PostgreSQL). On
PostgreSQL each run gets a schema of its own, dropped at the end, so runs never
see each other's rows.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.pool import NullPool

from portal import create_app
from tests.support.testing_routes import blueprint as testing_blueprint

ROOT = Path(__file__).resolve().parent.parent

# Tests run on the embedded defaults (secrets generated into each test's instance/,
# SQLite unless DATABASE_URL says otherwise), which production mode refuses. Set here,
# not per app, so that what tests start as processes (the flask CLI) inherits it too;
# tests of production mode ask for it explicitly.
os.environ["PORTAL_ENV"] = "testing"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the catalogues the tests render with, so no test sees stale translations."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in (ROOT / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source)
        with mo.open("wb") as target:
            write_mo(target, catalog)  # fuzzy entries are left out, as pybabel does


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal.sqlite3'}"
        return
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    schema = f"test_{secrets.token_hex(6)}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    yield f"{url}{separator}options=-csearch_path%3D{schema}"
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def make_test_app(database_url: str, instance_path: Path, **overrides: object) -> Flask:
    """The portal as tests see it: real configuration, plus the test-only routes."""
    config = {
        "TESTING": True,
        "INSTANCE_PATH": str(instance_path),
        "SECRET_KEY": "test-" + secrets.token_hex(16),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # No pool: each connection closes when released, so none outlives its test.
        "SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": NullPool},
        "DEFAULT_RATE_LIMIT": "100000 per minute",
        **overrides,
    }
    app = create_app(config)
    app.register_blueprint(testing_blueprint)
    return app


@pytest.fixture
def app(_migrated: str, tmp_path: Path) -> Flask:
    return make_test_app(_migrated, tmp_path / "instance")


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def _migrated(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Build the schema once per run, through the real migrations."""
    from flask_migrate import upgrade

    app = make_test_app(database_url, tmp_path_factory.mktemp("migrate"))
    with app.app_context():
        upgrade()
    return database_url


def empty_tables() -> None:
    """Delete every row (children first), in the current app context, and commit."""
    from portal.extensions import db

    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def db_app(_migrated: str, tmp_path: Path) -> Iterator[Flask]:
    """An app on the migrated database, inside an app context, emptied after the test."""
    from portal.extensions import db

    app = make_test_app(_migrated, tmp_path / "instance")
    with app.test_request_context():
        yield app
        empty_tables()
        db.session.commit()
