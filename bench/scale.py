"""Page times as the data grows: 1,000 and 100,000 applications by default, and
1,000,000 (100,000 citizens) with ``BENCH_FULL=1``.

For each size, a PostgreSQL database of its own is built through the migrations and filled
with SQL (``bench/scaling/generate.py``: citizens with a few applications each, some with
many, one with hundreds; cases in every state with their registry entries, timelines,
notifications, documents and staff reads). Then gunicorn serves the portal on it and each
page is timed over HTTP, one request at a time, signed in through the real forms: the
citizen's folder (a typical citizen and the heavy one: overview, case list, its last
page, notifications, who used their data), the staff inbox (first page, nine tenths down,
the overdue, waiting and one-procedure filters, every case closed ones too), the
complaints queue, the staff's citizen search (by DNI, full name, six namesakes, and a
surname too common to show anyone), the catalogue search and the figures (90 days and a
year). The same pages are asked for once more in this process, to count the SQL
statements each sends.

Each page gets its median and 95th percentile time over HTTP, and the CPU time a request
costs the server and PostgreSQL together (read from /proc around the samples): on a
machine busy with other work, waiting for a CPU inflates the times but not the CPU. A page
is flat when it sends the same statements at every size and its CPU time at the largest
size is within 1.5 times (or 5 ms) of the smallest's. Exits 1 if any page's statement
count grows (an N+1); times are reported, not enforced.

``BENCH_SCALE_SIZES=1000,50000`` picks other sizes, ``BENCH_SCALE_REPEAT`` the requests per
page (default 30), and ``BENCH_VERBOSE=1`` prints the generator's steps and PostgreSQL's
plan of each page's slowest statements.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from flask import Flask  # noqa: E402

from bench.scaling import browse, database, generate, serving  # noqa: E402
from bench.scaling.generate import PASSWORD, Generated  # noqa: E402
from bench.scaling.records import NAMESAKES  # noqa: E402
from bench.scaling.shape import Shape  # noqa: E402

DEFAULT_SIZES = (1_000, 100_000)
FULL_SIZES = (1_000, 100_000, 1_000_000)
REPEAT = int(os.environ.get("BENCH_SCALE_REPEAT", "30"))
#: Seconds spent timing one page at most (it then has at least five samples).
BUDGET = 10.0
VERBOSE = os.environ.get("BENCH_VERBOSE") == "1"
#: A statement slower than this (ms) has its plan printed in verbose mode.
SLOW = 2.0


def sizes() -> tuple[int, ...]:
    chosen = os.environ.get("BENCH_SCALE_SIZES")
    if chosen:
        return tuple(int(one.replace("_", "")) for one in chosen.split(","))
    return FULL_SIZES if os.environ.get("BENCH_FULL") == "1" else DEFAULT_SIZES


@dataclass(frozen=True)
class Result:
    name: str
    p50: float
    p95: float
    samples: int
    queries: int
    cpu: float


def pages(app: Flask, found: Generated, database_url: str) -> list[browse.Page]:
    """What each user asks for, with the deep pages worked out from the data."""
    with app.app_context():
        from procedures import catalogue

        council = [p.slug for p in catalogue.current() if p.agency.key == "city-council"]
    with psycopg.connect(database_url) as connection:
        heavy_sent = connection.execute(
            "SELECT count(*) FROM applications WHERE account_id = 1 AND status <> 'draft'"
        ).fetchone()[0]  # type: ignore[index]
        open_cases = (
            "procedure_slug = ANY(%s) AND status IN ('submitted', 'in_review', 'needs_information')"
        )
        count = connection.execute(
            f"SELECT count(*) FROM applications WHERE {open_cases}",  # noqa: S608
            (council,),
        ).fetchone()[0]  # type: ignore[index]
        # Nine tenths down the inbox: the case a supervisor paging on would start after.
        deep = connection.execute(
            f"SELECT reference FROM applications WHERE {open_cases} "  # noqa: S608
            "ORDER BY due_at NULLS LAST, submitted_at, id OFFSET %s LIMIT 1",
            (council, count * 9 // 10),
        ).fetchone()[0]  # type: ignore[index]
    last_own = max(1, -(-heavy_sent // 20))
    search = "/es/staff/citizens"

    def finding(name: str, query: str) -> browse.Page:
        form = {"query": query, "purpose": "enquiry", "detail": ""}
        return browse.Page(name, "staff", search, form, search)

    return [
        browse.Page("folder overview, typical citizen", "typical", "/es/folder/"),
        browse.Page("case list, typical citizen", "typical", "/es/folder/cases"),
        browse.Page("folder overview, heavy citizen", "heavy", "/es/folder/"),
        browse.Page("case list, heavy citizen", "heavy", "/es/folder/cases"),
        browse.Page(
            f"case list page {last_own}, heavy citizen",
            "heavy",
            f"/es/folder/cases?page={last_own}",
        ),
        browse.Page("notifications, heavy citizen", "heavy", "/es/folder/notifications"),
        browse.Page("who used your data, heavy citizen", "heavy", "/es/folder/data-use"),
        browse.Page("staff inbox, first page", "staff", "/es/staff/"),
        browse.Page("staff inbox, nine tenths down", "staff", f"/es/staff/?after={deep}"),
        browse.Page("staff inbox, overdue", "staff", "/es/staff/?overdue=1"),
        browse.Page("staff inbox, waiting for applicant", "staff", "/es/staff/?waiting=1"),
        browse.Page(
            "staff inbox, one procedure", "staff", "/es/staff/?procedure=change-of-address"
        ),
        browse.Page("staff inbox, every case (closed too)", "staff", "/es/staff/?state=all"),
        browse.Page("complaints queue", "staff", "/es/staff/complaints"),
        finding("find a citizen by DNI", found.search_dni),
        finding("find a citizen by full name", found.search_name),
        finding(f"find a citizen: {NAMESAKES} namesakes", found.search_namesakes),
        finding("find a citizen by surname (too many)", found.search_surname),
        browse.Page("catalogue search", "anonymous", "/es/procedures/?q=certificado"),
        browse.Page("figures, 90 days", "staff", "/es/staff/figures?days=90"),
        browse.Page("figures, a year", "staff", "/es/staff/figures?days=365"),
    ]


def forget_codes(database_url: str) -> None:
    """Every account shares one TOTP secret; each sign-in spends the current code, so the
    next one may use it again (as the tests' ``forget_used_codes`` does)."""
    with psycopg.connect(database_url) as connection:
        connection.execute("UPDATE factors SET totp_last_step = NULL")


def browsers(
    make: type[browse.HttpBrowser] | type[browse.ClientBrowser],
    where: object,
    found: Generated,
    database_url: str,
) -> dict[str, browse.Browser]:
    emails = {
        "typical": found.typical_email,
        "heavy": found.heavy_email,
        "staff": found.supervisor_email,
    }
    signed_in: dict[str, browse.Browser] = {"anonymous": make(where)}  # type: ignore[arg-type]
    for who, email in emails.items():
        forget_codes(database_url)
        one = make(where)  # type: ignore[arg-type]
        browse.sign_in(one, email, PASSWORD, found.totp_secret)
        signed_in[who] = one
    return signed_in


def measure(
    app: Flask, found: Generated, name: str, environment: dict[str, str], log: Path
) -> list[Result]:
    database_url = database.url(name)
    chosen = pages(app, found, database_url)
    timings = {}
    with serving.gunicorn(environment, name, log) as server:
        over_http = browsers(browse.HttpBrowser, server.base, found, database_url)
        for page in chosen:
            browser = over_http[page.who]
            timings[page.name] = browse.time_page(page, browser, REPEAT, BUDGET, server.cpu_seconds)
    in_process = browsers(browse.ClientBrowser, app, found, database_url)
    results = []
    for page in chosen:
        statements = browse.statements_of(page, in_process[page.who], app)
        timing = timings[page.name]
        results.append(
            Result(
                page.name,
                timing.percentile(0.5),
                timing.percentile(0.95),
                len(timing.samples),
                len(statements),
                timing.cpu or 0.0,
            )
        )
        if VERBOSE:
            print_plans(app, page, statements)
    return results


def print_plans(app: Flask, page: browse.Page, statements: list[browse.Statement]) -> None:
    slow = sorted(
        (
            s
            for s in statements
            if s.milliseconds >= SLOW and s.sql.lstrip().upper().startswith("SELECT")
        ),
        key=lambda s: -s.milliseconds,
    )[:3]
    for statement in slow:
        print(f"\n-- {page.name}: {statement.milliseconds:.1f} ms")
        print(" ".join(statement.sql.split()))
        print(browse.explain(app, statement))


def print_size(size: int, found: Generated, results: list[Result]) -> None:
    rows = ", ".join(f"{table} {count:,}" for table, count in found.rows.items())
    print(f"\n{size:,} applications ({rows}; generated in {found.seconds:.0f} s)")
    width = max(len(r.name) for r in results)
    print(
        f"  {'page':<{width}}  {'p50 ms':>8}  {'p95 ms':>8}  {'CPU ms':>8}"
        f"  {'queries':>7}  {'n':>3}"
    )
    for r in results:
        print(
            f"  {r.name:<{width}}  {r.p50:>8.1f}  {r.p95:>8.1f}  {r.cpu:>8.1f}"
            f"  {r.queries:>7}  {r.samples:>3}"
        )


def flat(first: Result, last: Result) -> bool:
    """Same statements, and CPU time within 1.5 times (or 5 ms) of the smallest size's."""
    return first.queries == last.queries and last.cpu <= max(1.5 * first.cpu, first.cpu + 5)


def print_summary(measured: dict[int, list[Result]]) -> int:
    chosen = list(measured)
    first, last = chosen[0], chosen[-1]
    print(f"\nFrom {first:,} to {last:,} applications (p50 ms, CPU ms / queries at each size):")
    names = [r.name for r in measured[first]]
    width = max(len(n) for n in names)
    grew = []
    for index, name in enumerate(names):
        row = [measured[size][index] for size in chosen]
        cells = "  ".join(f"{r.p50:>8.1f} {r.cpu:>7.1f} /{r.queries:>3}" for r in row)
        verdict = "flat" if flat(row[0], row[-1]) else "GROWS"
        if row[0].queries != row[-1].queries:
            grew.append(name)
            verdict = "QUERIES GROW"
        print(f"  {name:<{width}}  {cells}  {verdict}")
    target = [r for r in measured[last] if r.name.startswith("folder overview")]
    for r in target:
        mark = "met" if r.p95 < 50 else "NOT met"
        print(f"Target: {r.name}, p95 under 50 ms at {last:,}: {r.p95:.1f} ms, {mark}.")
    if FULL_SIZES[-1] not in measured:
        print(
            "(BENCH_FULL=1 adds 1,000,000 applications and 100,000 citizens: about half an hour.)"
        )
    if grew:
        print("Statement counts grow with the data for: " + ", ".join(grew))
        return 1
    return 0


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{platform.node()}: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {load}; Python {platform.python_version()}, "
        f"PostgreSQL {database.server_version()}"
    )


def environment_for(name: str, instance: Path) -> dict[str, str]:
    return {
        "PORTAL_ENV": "development",
        "SECRET_KEY": Fernet.generate_key().decode(),
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "OIDC_SUBJECT_SECRET": Fernet.generate_key().decode(),
        "BENCH_INSTANCE_PATH": str(instance),
    }


def main() -> int:
    chosen = sizes()
    print(f"Scale: {machine()}")
    print("Sizes: " + ", ".join(f"{n:,}" for n in chosen) + " applications")
    database.drop_abandoned("bench_scale")
    prefix = f"bench_scale_{os.getpid()}"
    measured: dict[int, list[Result]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as work:
        instance = Path(work) / "instance"
        secrets = environment_for(prefix, instance)
        os.environ.update(secrets)
        from portal import create_app

        with database.template(prefix, secrets) as template:
            for size in chosen:
                name = f"{prefix}_{size}"
                database.create(name, template)
                try:
                    app = create_app(
                        {
                            "SQLALCHEMY_DATABASE_URI": database.sqlalchemy_url(name),
                            "INSTANCE_PATH": str(instance),
                            "LOG_LEVEL": "WARNING",
                        }
                    )
                    log = (lambda line: print(line, flush=True)) if VERBOSE else (lambda _: None)
                    started = time.perf_counter()
                    found = generate.generate(app, database.url(name), Shape(size), log)
                    results = measure(app, found, name, secrets, Path(work) / "gunicorn.log")
                    with app.app_context():
                        from portal.extensions import db

                        db.engine.dispose()
                    print_size(size, found, results)
                    print(f"  (measured in {time.perf_counter() - started - found.seconds:.0f} s)")
                    measured[size] = results
                finally:
                    database.drop(name)
    print(f"Load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return print_summary(measured)


if __name__ == "__main__":
    raise SystemExit(main())
