"""Infrastructure shared by every package: database, translations, CSRF, sign-in, rate limits.

These objects are created unbound and wired to an app in ``create_app``, so that
``identity`` and ``procedures`` can import them without importing the rest of
``portal`` (the arrows in DESIGN.md only point down).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import DateTime, TypeDecorator

# Named constraints make Alembic migrations identical on SQLite and PostgreSQL
# and let batch mode (SQLite's ALTER TABLE) find constraints by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


@event.listens_for(Engine, "connect")
def _sqlite_write_ahead_log(dbapi_connection: Any, _record: Any) -> None:
    """The embedded SQLite file in write-ahead-log mode: readers no longer wait for a writer
    (a page load during another visitor's submission on the threaded server), and a writer
    waits its turn for up to five seconds instead of failing with "database is locked".
    PostgreSQL, production's database, is left alone."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout = 5000")
        cursor.execute("PRAGMA journal_mode = WAL")  # stays on the file; in memory it is "memory"
    finally:
        cursor.close()


class Base(DeclarativeBase):
    """Base of every typed model; one ``models.py`` per package subclasses it."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Always timezone-aware UTC in Python, on SQLite (which has no time zones) as on PostgreSQL.

    Here rather than in ``identity.models`` (which re-exports it) so that infrastructure
    tables, such as the email outbox, can use it without importing a package above them."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: use datetime.now(UTC)")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()


def _default_rate_limit() -> str:
    """Read per request, so each app (and each test) uses its own configured limit.

    Flask-Limiter keeps limits on the (module-level) Limiter, so a limit read
    from config at ``init_app`` would stick to whichever app was created first.
    """
    return current_app.config["DEFAULT_RATE_LIMIT"]


limiter = Limiter(key_func=get_remote_address, default_limits=[_default_rate_limit])
