"""A city's worth of data for the scale benchmark, written with SQL and COPY, not the ORM.

``generate(app, url, Shape(n))`` fills a migrated, empty database: accounts (citizens and
each agency's supervisor and caseworkers), their authenticator apps, the citizens'
records and blind index (``records``), then ``n`` applications and all that hangs from
them (``cases``). What only the portal knows is taken from it: each procedure's
definition snapshot (through the ORM: thirteen rows), titles and state names in every
language, a valid answer to every question, encrypted once per procedure. Accounts share
one argon2 password hash and one TOTP secret, with which the benchmark signs in.

Rows at 1,000,000 applications: about 100,000 accounts, 600,000 attributes, 960,000
registry entries, 5 million timeline events, 3.3 million notifications and 2.1 million
issued documents.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from flask import Flask

from bench.scaling import cases, records
from bench.scaling.shape import CASEWORKERS, LANGUAGES, UNITS, WEIGHTS, YEARS, Shape
from bench.scaling.sql import Writer
from identity import encryption, passwords, totp
from portal.extensions import db
from procedures import applications, catalogue, samples
from procedures.definitions import Procedure

PASSWORD = "benchmark de escala con cien mil personas"  # noqa: S105 - benchmark accounts only
#: Tables whose rows are counted in the report.
COUNTED = (
    "accounts",
    "citizen_attributes",
    "applications",
    "registry_entries",
    "timeline_events",
    "notifications",
    "issued_documents",
    "data_accesses",
)
#: A citizen with an ordinary number of cases, one of them waiting for their answer.
TYPICAL = """
SELECT account_id FROM applications
WHERE account_id > 1 AND status <> 'draft'
GROUP BY account_id
HAVING count(*) BETWEEN 5 AND 9 AND bool_or(status = 'needs_information')
ORDER BY account_id LIMIT 1
"""


@dataclass(frozen=True)
class Generated:
    """Who the benchmark signs in as, and what it looks for."""

    heavy_email: str
    typical_email: str
    supervisor_email: str
    totp_secret: str
    #: Staff searches: a DNI, a full name, a common surname and the namesakes' surname.
    search_dni: str
    search_name: str
    search_surname: str
    search_namesakes: str
    rows: dict[str, int]
    seconds: float


def generate(
    app: Flask, database_url: str, shape: Shape, log: Callable[[str], None] = print
) -> Generated:
    started = time.perf_counter()
    with app.app_context():
        procedures = [catalogue.get(slug) for slug in WEIGHTS]
        secret = totp.new_secret()
        shared = {
            "password_hash": passwords.hash_password(PASSWORD),
            "totp": encryption.encrypt(secret),
            "pdf": _pdf(),
        }
        procedure_rows = _procedure_rows(procedures)
        db.session.commit()
        state_rows = _state_rows(procedures)
        staff = _staff(shape)
        record_rows, term_rows, searches = records.records(shape.citizens)
    with psycopg.connect(database_url) as connection:
        write = Writer(connection, log)
        _lookups(write, procedure_rows, state_rows, staff, shared["pdf"])
        _accounts(write, shape, shared)
        write.copy(
            "citizen records",
            "citizen_attributes",
            ("account_id", "name", "value_encrypted", "source", "verified", "updated_at"),
            record_rows,
        )
        write.copy("blind index", "citizen_lookup_terms", ("account_id", "term"), term_rows)
        cases.applications(write, shape)
        cases.history(write, shape)
        typical = connection.execute(TYPICAL).fetchone()
        connection.commit()
        rows = {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]  # noqa: S608
            for table in COUNTED
        }
    _vacuum(database_url, log)
    return Generated(
        heavy_email="heavy@bench.example",
        typical_email=f"citizen{typical[0]}@bench.example",  # type: ignore[index]
        supervisor_email="supervisor@city-council.bench.example",
        totp_secret=secret,
        rows=rows,
        seconds=time.perf_counter() - started,
        **searches,
    )


def _pdf() -> bytes:
    """An issued document's bytes: a small valid PDF, padded to a typical resolution's size."""
    return samples.PDF + b"%" + b"x" * 24_000 + b"\n"


def _in_languages(text: Callable[[str], str], procedure: Procedure) -> str:
    return json.dumps({lang: text(lang) for lang in procedure.texts}, ensure_ascii=False)


def _answers(procedure: Procedure) -> str:
    """A valid answer to every question but files, encrypted once for all of its cases."""
    answers = {
        one.id: samples.sample(one)
        for page in applications.all_pages(procedure)
        for one in page.fields
        if one.type != "file"
    }
    return encryption.encrypt(json.dumps(answers, ensure_ascii=False))


def _procedure_rows(procedures: list[Procedure]) -> list[tuple[Any, ...]]:
    """Each procedure with its snapshot and its share of the cases, as a range of [0, 1)."""
    total = sum(WEIGHTS.values())
    rows, low = [], 0.0
    for n, procedure in enumerate(procedures):
        high = 1.0 if n == len(procedures) - 1 else low + WEIGHTS[procedure.slug] / total
        rows.append(
            (
                procedure.slug,
                procedure.agency.key,
                applications.snapshot_for(procedure).id,
                procedure.workflow.name,
                procedure.max_resolution_months,
                low,
                high,
                _answers(procedure),
                _in_languages(lambda lang, p=procedure: p.text(lang).title, procedure),
            )
        )
        low = high
    return rows


def _state_rows(procedures: list[Procedure]) -> list[tuple[str, str, str]]:
    seen: dict[tuple[str, str], str] = {}
    for procedure in procedures:
        for key, state in procedure.workflow.states.items():
            seen.setdefault((procedure.workflow.name, key), _in_languages(state.citizen, procedure))
    return [(flow, key, texts) for (flow, key), texts in seen.items()]


def _staff(shape: Shape) -> list[tuple[int, str, str, str, str, int]]:
    """(account id, email, agency, unit, role, n): a supervisor and caseworkers per agency;
    ``n`` numbers the caseworkers (cases go to caseworker ``id % CASEWORKERS``)."""
    found = []
    next_id = shape.citizens + 1
    for agency in catalogue.current().agencies:
        units = UNITS.get(agency, ("Registro",))
        email = f"supervisor@{agency}.bench.example"
        found.append((next_id, email, agency, units[0], "supervisor", -1))
        next_id += 1
        for n in range(CASEWORKERS):
            email = f"caseworker{n}@{agency}.bench.example"
            found.append((next_id, email, agency, units[n % len(units)], "caseworker", n))
            next_id += 1
    return found


LOOKUPS = """
CREATE TEMP TABLE bench_procedures (
    slug text, agency text, snapshot_id int, workflow text, months int,
    low float8, high float8, answers text, titles json
);
CREATE TEMP TABLE bench_states (workflow text, state text, citizen json);
CREATE TEMP TABLE bench_staff (
    account_id int, email text, agency text, unit text, role text, n int
);
CREATE TEMP TABLE bench_pdf (content bytea, sha256 text);
"""


def _lookups(
    write: Writer, procedures: list[tuple], states: list[tuple], staff: list[tuple], pdf: bytes
) -> None:
    """What the statements read besides each other: procedures, states, staff, a PDF."""
    write.connection.execute(LOOKUPS)
    write.copy(
        "procedures",
        "bench_procedures",
        ("slug", "agency", "snapshot_id", "workflow", "months", "low", "high", "answers", "titles"),
        procedures,
    )
    write.copy("workflow states", "bench_states", ("workflow", "state", "citizen"), states)
    write.copy(
        "staff", "bench_staff", ("account_id", "email", "agency", "unit", "role", "n"), staff
    )
    write.connection.execute(
        "INSERT INTO bench_pdf VALUES (%(pdf)s, encode(sha256(%(pdf)s), 'hex'))", {"pdf": pdf}
    )


def _accounts(write: Writer, shape: Shape, shared: dict[str, Any]) -> None:
    languages = "ARRAY[" + ", ".join(f"'{lang}'" for lang in LANGUAGES) + "]"
    write.run(
        "accounts",
        f"""
        INSERT INTO accounts (id, email, email_verified_at, password_hash, password_changed_at,
            language, time_zone, created_at, webauthn_user_handle)
        SELECT i, CASE WHEN i = 1 THEN 'heavy@bench.example'
                       ELSE 'citizen' || i || '@bench.example' END,
            t, %(password_hash)s, t, ({languages})[1 + mod(i, {len(LANGUAGES)})],
            'Europe/Madrid', t, sha256(('bench account ' || i)::bytea)
        FROM generate_series(1, %(citizens)s) AS i,
            (SELECT now() - interval '{YEARS + 1} years' AS t) AS since
        UNION ALL
        SELECT account_id, email, now() - interval '2 years', %(password_hash)s,
            now() - interval '2 years', 'es', 'Europe/Madrid', now() - interval '2 years',
            sha256(('bench account ' || account_id)::bytea)
        FROM bench_staff
        """,  # noqa: S608 - our own constants
        {"password_hash": shared["password_hash"], "citizens": shape.citizens},
    )
    write.run(
        "accounts sequence",
        "SELECT setval(pg_get_serial_sequence('accounts', 'id'), (SELECT max(id) FROM accounts))",
    )
    write.run(
        "staff members",
        """
        INSERT INTO staff_members (account_id, agency, unit, role, created_at)
        SELECT account_id, agency, unit, role, now() - interval '2 years' FROM bench_staff
        """,
    )
    write.run(
        "authenticator apps",
        """
        INSERT INTO factors (account_id, kind, name, created_at, totp_secret_encrypted)
        SELECT id, 'totp', 'Phone', created_at, %(totp)s FROM accounts
        """,
        {"totp": shared["totp"]},
    )


def _vacuum(database_url: str, log: Callable[[str], None]) -> None:
    """Statistics and visibility maps, as autovacuum would have them on a live database."""
    started = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    log(f"  vacuum analyze: {time.perf_counter() - started:.1f} s")
