"""Whether this server should get traffic: its database, its Redis and its schema.

Liveness (``/healthz``) only says the process answers: an orchestrator restarts a
process that does not, and restarting every server because the database is down
would help nobody. Readiness (``/readyz``) is what a load balancer routes by: a
server that cannot reach PostgreSQL or Redis, or whose code expects a newer schema
than the database has (a deploy that ran before ``flask db upgrade``), takes no
requests until that is put right.
"""

from __future__ import annotations

import functools

import redis
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from sqlalchemy import text

from portal.extensions import db

OK = "ok"
NOT_CONFIGURED = "not configured"
UNREACHABLE = "unreachable"
BEHIND = "not at head"
UNKNOWN = "unknown"

#: A check must answer before the load balancer's probe gives up.
TIMEOUT_SECONDS = 2


@functools.cache
def script_heads(directory: str) -> frozenset[str]:
    """The head revisions of the migration scripts this code ships (read once)."""
    return frozenset(ScriptDirectory(directory).get_heads())


def check_database_and_migrations(migrations: str) -> tuple[str, str]:
    """(database, migrations): whether PostgreSQL answers, and whether its schema is at head."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
    except Exception as error:
        current_app.logger.warning("Readiness: the database is unreachable: %s", _first_line(error))
        return UNREACHABLE, UNKNOWN
    return OK, OK if current == script_heads(migrations) else BEHIND


def check_redis(app: Flask) -> str:
    url = app.config.get("REDIS_URL")
    if not url:
        return NOT_CONFIGURED
    client = app.extensions.get("readiness_redis")
    if client is None:
        client = app.extensions["readiness_redis"] = redis.Redis.from_url(
            url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
        )
    try:
        client.ping()
    except redis.RedisError as error:
        app.logger.warning("Readiness: Redis is unreachable: %s", _first_line(error))
        return UNREACHABLE
    return OK


def _first_line(error: Exception) -> str:
    """Why it failed, without the traceback a probe every few seconds would repeat."""
    return f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error) else ''}"


def readiness(app: Flask, migrations: str) -> dict[str, str]:
    """Each check's answer; the server is ready when each is ``ok`` or ``not configured``."""
    database, schema = check_database_and_migrations(migrations)
    return {"database": database, "redis": check_redis(app), "migrations": schema}


def ready(checks: dict[str, str]) -> bool:
    return all(answer in {OK, NOT_CONFIGURED} for answer in checks.values())


def failed(checks: dict[str, str]) -> list[str]:
    """The checks that failed themselves (not those a failure left unknown)."""
    return [name for name, answer in checks.items() if answer in {UNREACHABLE, BEHIND}]
