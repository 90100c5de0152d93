"""Running the generator's statements, and spelling codes in SQL.

References (``XXXX-XXXX-XXXX``), CSV codes and notification ids are spelt in the portal's
own alphabet from row numbers, through a multiplication that is a bijection modulo a power
of two: distinct rows get distinct codes, which do not look consecutive. Row numbers must
stay below 2**24 (16 million), which holds up to about 5 million applications.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import psycopg

from procedures.documents import ALPHABET

#: An odd number near 2**39: times a row number below 2**24 it stays within a bigint.
SCRAMBLE = 549_755_813_881


def code(value: str, width: int) -> str:
    """SQL for ``width`` symbols of the alphabet spelling ``value``, a bigint expression
    below 2**(5 * width)."""
    parts = [
        f"substr('{ALPHABET}', ((({value}) >> {5 * k}) & 31)::int + 1, 1)"
        for k in reversed(range(width))
    ]
    return " || ".join(parts)


def scrambled(value: str, bits: int, salt: int = 0) -> str:
    return f"mod(({value})::bigint * {SCRAMBLE} + {salt}, {2**bits})"


def reference(value: str) -> str:
    """An application's ``XXXX-XXXX-XXXX`` reference from its id."""
    spelt = code(scrambled(value, 60, 12_345), 12)
    grouped = "substr(c, 1, 4) || '-' || substr(c, 5, 4) || '-' || substr(c, 9, 4)"
    return f"(SELECT {grouped} FROM (SELECT {spelt} AS c) AS spelt)"  # noqa: S608 - our own


def csv(value: str) -> str:
    """A document's 20-symbol CSV code from its number (its first half is already unique)."""
    return f"{code(scrambled(value, 50, 777), 10)} || {code(scrambled(value, 50, 99), 10)}"


class Writer:
    """Runs statements on one connection, saying how long each took."""

    def __init__(self, connection: psycopg.Connection[Any], log: Callable[[str], None]) -> None:
        self.connection = connection
        self.log = log

    def run(self, what: str, statement: str, params: dict[str, Any] | None = None) -> None:
        started = time.perf_counter()
        cursor = self.connection.execute(statement, params)  # type: ignore[arg-type]
        rows = f"{cursor.rowcount:,} rows, " if cursor.rowcount and cursor.rowcount > 0 else ""
        self.log(f"  {what}: {rows}{time.perf_counter() - started:.1f} s")

    def copy(self, what: str, table: str, columns: Iterable[str], rows: Iterable[tuple]) -> None:
        started = time.perf_counter()
        count = 0
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with self.connection.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[arg-type]
            for row in rows:
                copy.write_row(row)
                count += 1
        self.log(f"  {what}: {count:,} rows, {time.perf_counter() - started:.1f} s")
