"""The portal under a realistic mix of requests, at several concurrency levels.

gunicorn (gunicorn.conf.py) in production mode on PostgreSQL and Redis, with mail going
to an SMTP server, loaded by locust headless (``bench/support/locustfile.py``):

- anonymous visitors read the catalogue and procedure pages, in every language;
- signed-in citizens (made beforehand, each with a record, an application and a draft)
  open their folder, their applications, one application and a question of their draft;
- now and then one fills in a whole application and submits it: procedure page, start,
  each question (read, then answered with its CSRF token), check your answers, submit,
  confirmation.

Each level holds that many simulated people at once, each sending its next request as
soon as the last is answered: the concurrency is the number of requests in flight.
Printed per level: requests per second, the 50th, 95th and 99th percentiles of latency
and the errors (anything but the page a browser would have gone on with), then each kind
of request at the highest level; and afterwards, that every receipt given is one
application in the database, and the emails the outbox's worker sent (it runs beside
gunicorn, as ``make worker`` does in production).

Run with ``make bench`` or ``.venv/bin/python bench/load_mix.py``; ``BENCH_SECONDS`` sets
the length of each level, ``BENCH_LEVELS`` the levels (default ``8,32,64``),
``BENCH_CITIZENS`` how many citizens are signed in (default 300).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bench.support import load, seed, stack  # noqa: E402
from bench.support.machine import print_header  # noqa: E402
from bench.support.tables import ms, per_second, table  # noqa: E402

WARM_UP_SECONDS = 3


def main() -> int:
    settings = stack.Settings.from_environment()
    levels = [int(n) for n in (os.environ.get("BENCH_LEVELS") or "8,32,64").split(",")]
    citizens = int(os.environ.get("BENCH_CITIZENS") or 300)
    print_header(
        "A realistic mix against gunicorn + PostgreSQL + Redis, at several concurrency levels",
        f"locust headless (FastHttpUser), {settings.seconds:.0f} s per level after"
        f" {WARM_UP_SECONDS} s of warm-up, no pause between requests, a new connection per"
        f" request; {citizens} citizens signed in beforehand (second factor done).",
        "Mix, per hundred tasks: 30 catalogue, 30 procedure pages (signed out, six"
        " languages); 15 folder overview, 5 applications, 5 one application, 13 a question"
        " of a draft; 2 whole submissions (about a dozen requests each).",
        "Rate limits on (Redis): each person from an address of their own; the per-address"
        f" default raised to {stack.RAISED_DEFAULT_RATE_LIMIT}.",
        database_url=settings.database_url,
        redis_url=settings.redis_url,
        tools=("locust",),
    )
    with stack.portal(settings) as portal:
        app = stack.create_app()
        people = seed.citizens(app, citizens)
        fixture = load.write_fixture(
            portal,
            {
                "cookie": app.config["SESSION_COOKIE_NAME"],
                "citizens": [vars(person) for person in people],
                "languages": ["es", "en", "ca", "gl", "eu", "ar"],
                "procedures": seed.procedure_slugs(app),
                "form": {
                    "procedure": seed.FORM_PROCEDURE,
                    "pages": seed.answers(app, seed.FORM_PROCEDURE),
                    "first_page": seed.first_page(app, seed.DRAFT_PROCEDURE),
                },
            },
        )
        portal.start_gunicorn()
        portal.start_worker()
        portal.wait_for_outbox(app)  # the seeded applications' emails, sent before the load
        seeded_emails = portal.smtp.received
        warm_up = load.run(portal, fixture, "PortalVisitor", levels[0], WARM_UP_SECONDS)
        runs = [
            load.run(portal, fixture, "PortalVisitor", users, settings.seconds) for users in levels
        ]
        receipts = [reference for run in [warm_up, *runs] for reference in run.receipts]
        stored = submitted(app)
        outbox = portal.wait_for_outbox(app)
        emails = portal.smtp.received - seeded_emails
    print(
        table(
            [
                "concurrency",
                "requests",
                "p50",
                "p95",
                "p99",
                "errors",
                "submissions",
                "CPU/request",
            ],
            [
                [
                    run.users,
                    per_second(run.total.rate),
                    ms(run.total.p50_ms),
                    ms(run.total.p95_ms),
                    ms(run.total.p99_ms),
                    f"{run.total.failures} ({run.total.failures / max(run.total.requests, 1):.1%})",
                    per_second(run.rows["submission: confirmation"].successes_per_second)
                    if "submission: confirmation" in run.rows
                    else "0",
                    f"{run.server_cpu_ms:.2f} ms",
                ]
                for run in runs
            ],
        )
    )
    print(
        "\nCPU/request: gunicorn's CPU time (all its processes) per request, steadier than"
        " the rate on a busy machine. Where the cores went:"
    )
    for run in runs:
        print(f"  at {run.users}: {run.usage.describe()}")
    last = runs[-1]
    print(f"\nEach kind of request at concurrency {last.users}:\n")
    print(
        table(
            ["request", "count", "per second", "p50", "p95", "p99", "errors"],
            [
                [
                    row.name,
                    row.requests,
                    per_second(row.rate),
                    ms(row.p50_ms),
                    ms(row.p95_ms),
                    ms(row.p99_ms),
                    row.failures,
                ]
                for name, row in sorted(last.rows.items())
                if name != "Aggregated"
            ],
        )
    )
    failures = [failure for run in runs for failure in run.failures]
    if failures:
        print("\nErrors:")
        for name, error, count in failures:
            print(f"  {count} x {name}: {error}")
    missing = set(receipts) - set(stored)
    print(
        f"\nSubmissions (warm-up included): {len(receipts)} confirmation pages shown,"
        f" {len(stored)} applications submitted in the database"
        f" ({len(set(receipts))} distinct receipts, {len(missing)} of them not in the"
        f" database). Emails the worker sent meanwhile: {emails}"
        f" ({outbox['pending']} still waiting, {outbox['dead']} given up on)."
    )
    return 1 if missing else 0


def submitted(app: object) -> list[str]:
    """References of the applications submitted through the load generator's form."""
    from portal.extensions import db
    from procedures.models import Application

    with app.app_context():  # type: ignore[attr-defined]
        return list(
            db.session.scalars(
                select(Application.reference).where(
                    Application.procedure_slug == seed.FORM_PROCEDURE,
                    Application.submitted_at.is_not(None),
                )
            )
        )


if __name__ == "__main__":
    raise SystemExit(main())
