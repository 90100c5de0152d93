"""What a request left behind: rows, uploaded files, and every value it wrote.

The fuzz tests run on SQLite, which stores whatever it is given; PostgreSQL refuses a
NUL character in any text parameter and a string longer than its ``varchar(n)``, each as
a server error. So the watch here fails a request that *would* fail on PostgreSQL,
whatever database the test runs on, and names what was refused and where.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

#: Characters nothing stored may hold: C0 controls (tab, line feed and carriage return are
#: text), DEL and C1 controls (portal/inputs.py says why; NUL cannot be stored in
#: PostgreSQL at all).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass
class Watch:
    """Problems seen while watching: each names the table and column, or the statement."""

    problems: list[str] = field(default_factory=list)
    active: bool = False

    def note(self, problem: str) -> None:
        if self.active:
            self.problems.append(problem)


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a value that is written (JSON columns hold nested ones)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _strings(key)
            yield from _strings(inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from _strings(inner)


def _check_flush(watch: Watch, session: Session) -> None:
    for obj in (*session.new, *session.dirty):
        mapper = sa.inspect(obj).mapper
        for column in mapper.columns:
            key = mapper.get_property_by_column(column).key
            value = getattr(obj, key, None)
            where = f"{column.table.name}.{column.name}"
            length = getattr(column.type, "length", None)
            if isinstance(value, str) and length is not None and len(value) > length:
                watch.note(f"{where}: {len(value)} characters in a column of {length}")
            for text in _strings(value):
                if CONTROL.search(text):
                    watch.note(f"{where}: control character stored: {text[:60]!r}")


def _check_parameters(watch: Watch, statement: str, parameters: Any) -> None:
    rows = parameters if isinstance(parameters, list) else [parameters]
    for row in rows:
        values = row.values() if isinstance(row, dict) else (row or ())
        for value in values:
            if isinstance(value, str) and "\x00" in value:
                watch.note(f"NUL sent to the database (PostgreSQL refuses it): {statement[:120]}")


@contextmanager
def watching(engine: sa.Engine) -> Iterator[Watch]:
    """Watch every flush of every session, and every statement ``engine`` executes."""
    watch = Watch()

    def before_flush(session: Session, _context: object, _instances: object) -> None:
        _check_flush(watch, session)

    def before_cursor_execute(
        _conn: object, _cursor: object, statement: str, parameters: Any, *_: object
    ) -> None:
        _check_parameters(watch, statement, parameters)

    event.listen(Session, "before_flush", before_flush)
    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield watch
    finally:
        event.remove(Session, "before_flush", before_flush)
        event.remove(engine, "before_cursor_execute", before_cursor_execute)


def row_marks(connection: sa.Connection, tables: list[sa.Table]) -> dict[str, int]:
    """A mark per table that grows when a row is added, in one query: the highest integer
    primary key (an index lookup), or the row count for a table keyed otherwise (counting
    every table scanned them all, twice per request, and was most of the fuzz tests' time)."""

    def mark(table: sa.Table) -> sa.ColumnElement[int]:
        keys = list(table.primary_key.columns)
        if len(keys) == 1 and isinstance(keys[0].type, sa.Integer):
            return sa.func.coalesce(sa.func.max(keys[0]), 0)
        return sa.func.count()

    query = sa.union_all(
        *(
            sa.select(sa.literal(table.name).label("t"), mark(table).label("n")).select_from(table)
            for table in tables
        )
    )
    return {name: value for name, value in connection.execute(query)}


def upload_names(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()} if folder.exists() else set()
