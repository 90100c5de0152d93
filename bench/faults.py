"""Faults under load: a gunicorn worker killed, PostgreSQL restarted, the mail server down;
no submission or email lost, none twice, none half-written, and the site back by itself.

The stack ``make serve`` runs (gunicorn in production mode with its workers and threads, a
PostgreSQL database of its own, Redis for rate limits) plus the outbox's worker (``flask
--app wsgi worker``) sending to an SMTP server this script can switch off. Citizens fill
in and submit whole applications, several at once (``bench/support/journeys.py``), and
others sign up and ask password resets, each an email; meanwhile, one after another:

1. one gunicorn worker is killed with SIGKILL (one answering a request, if it can be
   caught doing so); the master replaces it;
2. PostgreSQL is stopped ("fast": every open transaction rolled back) for a few seconds
   and started again: every pooled connection dies;
3. the SMTP server is stopped for a while (15 s; 60 s with ``BENCH_FULL=1``) and started
   again; then the load stops and the worker is given time to send what waited.

Then it checks, and prints, each guarantee: every receipt a citizen saw is one sent
application in the database with all its parts, and nothing is half-written; registry
numbers are unique and without gaps; errors happened only during the worker's and the
database's outages and the site recovered by itself (``/readyz`` and submissions back);
every email in the outbox reached the SMTP server exactly once, with one receipt email per
receipt and one email per accepted sign-up or reset. It exits 1 if any fails.

Settings: ``BENCH_FULL=1`` (longer run, a minute without SMTP), ``BENCH_SMTP_DOWN_SECONDS``,
``BENCH_PG_DOWN_SECONDS`` (default 2: the cluster is this machine's, shared),
``BENCH_CLIENTS`` (citizens submitting at once, default 4), ``BENCH_FAULTS`` (default
``worker,postgres,smtp``), ``BENCH_FAULTS_DATABASE_URL`` (dropped and made again:
``postgresql://postgres@127.0.0.1:5432/bench_faults``), ``BENCH_REDIS_URL``, ``BENCH_LOGS``
(a folder to keep gunicorn's and the worker's logs in). Restarting
PostgreSQL needs root (or the cluster's owner) and a local Debian cluster; otherwise that
fault is skipped and said so.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.support import integrity, journeys, outages, seed, stack  # noqa: E402
from bench.support.fault_report import Observed, report  # noqa: E402
from bench.support.machine import print_header  # noqa: E402
from bench.support.mailbox import Mailbox  # noqa: E402

FAULTS = ("worker", "postgres", "smtp")
CITIZENS_PER_CLIENT = 10  # each submits at most every few seconds: under its rate limits
RESET_ACCOUNTS = 300  # each asked one reset: no address reaches its email limit
#: The form submitted: short, no uploads, like most of the catalogue's.
FORM = seed.FORM_PROCEDURE


@dataclass(frozen=True)
class Plan:
    faults: tuple[str, ...]
    clients: int
    gap: float
    pg_down: float
    smtp_down: float
    drain_seconds: float
    settings: stack.Settings

    @classmethod
    def from_environment(cls) -> Plan:
        full = os.environ.get("BENCH_FULL") == "1"
        faults = tuple(
            name.strip()
            for name in (os.environ.get("BENCH_FAULTS") or ",".join(FAULTS)).split(",")
            if name.strip()
        )
        unknown = set(faults) - set(FAULTS)
        if unknown:
            raise SystemExit(f"BENCH_FAULTS: unknown {sorted(unknown)}; choose from {FAULTS}")
        return cls(
            faults=faults,
            clients=int(os.environ.get("BENCH_CLIENTS") or 4),
            gap=20.0 if full else 6.0,
            pg_down=float(os.environ.get("BENCH_PG_DOWN_SECONDS") or 2),
            smtp_down=float(os.environ.get("BENCH_SMTP_DOWN_SECONDS") or (60 if full else 15)),
            drain_seconds=600.0 if full else 300.0,
            settings=stack.Settings(
                seconds=0,
                database_url=os.environ.get("BENCH_FAULTS_DATABASE_URL")
                or "postgresql://postgres@127.0.0.1:5432/bench_faults",
                redis_url=os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/11",
            ),
        )


@dataclass
class Run:
    """What happened, on the monotonic clock, with the wall clock it started at."""

    started: float
    started_wall: float
    journal: journeys.Journal
    windows: list[outages.Window] = field(default_factory=list)
    smtp_window: outages.Window | None = None
    load_stopped: float = 0.0
    drained: float | None = None
    skipped: list[str] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)


def main() -> int:
    plan = Plan.from_environment()
    cluster, why_not = outages.local_cluster(plan.settings.database_url)
    print_header(
        "Faults under load: no submission or email lost, none twice, the site back by itself",
        f"{plan.clients} citizens submitting whole applications at once ({CITIZENS_PER_CLIENT}"
        " citizens each, taken in turn), one signing people up and asking password resets"
        " (one email each), /readyz read four times a second.",
        f"Faults, {plan.gap:.0f} s apart: {', '.join(plan.faults)}; PostgreSQL down"
        f" {plan.pg_down:.0f} s, the SMTP server down {plan.smtp_down:.0f} s"
        " (BENCH_SMTP_DOWN_SECONDS; BENCH_FULL=1 for a minute).",
        database_url=plan.settings.database_url,
        redis_url=plan.settings.redis_url,
    )
    with stack.portal(plan.settings) as portal, Mailbox() as mailbox:
        # The stack's own sink counts; this one can be switched off and remembers each email.
        portal.env["SMTP_PORT"] = str(mailbox.port)
        app = stack.create_app()
        citizens = [
            journeys.Citizen(person.email, person.address, person.session)
            for person in seed.citizens(app, plan.clients * CITIZENS_PER_CLIENT)
        ]
        resets = [email for email, _ in seed.sign_in_accounts(app, RESET_ACCOUNTS, "reset")]
        portal.start_gunicorn()
        portal.start_worker()
        run = Run(time.monotonic(), time.time(), journeys.Journal())
        if "postgres" in plan.faults and cluster is None:
            run.skipped.append(f"PostgreSQL restart skipped: {why_not}")
        load = [
            journeys.Applicant(
                f"applicant-{n + 1}",
                portal.url,
                app.config["SESSION_COOKIE_NAME"],
                citizens[n * CITIZENS_PER_CLIENT : (n + 1) * CITIZENS_PER_CLIENT],
                {"procedure": seed.FORM_PROCEDURE, "pages": seed.answers(app, FORM)},
                run.journal,
                run.stopping,
            )
            for n in range(plan.clients)
        ]
        load.append(
            journeys.AccountEmails(
                portal.url, resets, seed.PASSWORD, run.journal, run.stopping, _addresses()
            )
        )
        load.append(journeys.Readiness(portal.url, run.journal, run.stopping))
        under_load(load, run, lambda: inject(plan, run, portal, mailbox, cluster))
        run.drained = drain(plan)
        stored = integrity.read(plan.settings.database_url)
        failed = report(Observed(run, stored, mailbox.arrivals(), FORM))
        _logs([portal.log, portal.workdir / "worker.log"], failed)
    return 1 if failed else 0


def under_load(load: list[threading.Thread], run: Run, faults: Callable[[], None]) -> None:
    """The faults while the load runs; then the load stops, each application in hand
    finished first."""
    try:
        for thread in load:
            thread.start()
        faults()
    finally:
        run.stopping.set()
        for thread in load:
            thread.join(journeys.PERSEVERANCE + 30)
        run.load_stopped = time.monotonic()


def _logs(logs: list[Path], failed: bool) -> None:
    """gunicorn's and the worker's logs: kept in ``BENCH_LOGS`` if set; their warnings and
    errors on standard error if a guarantee was broken (``make bench`` shows it then)."""
    if os.environ.get("BENCH_LOGS"):
        kept = Path(os.environ["BENCH_LOGS"])
        kept.mkdir(parents=True, exist_ok=True)
        for log in logs:
            shutil.copy(log, kept / log.name)
    if failed:
        for log in logs:
            print(f"--- {log.name}: its warnings and errors", file=sys.stderr)
            print(_worrying(log.read_text())[-8000:], file=sys.stderr)


def _worrying(log: str) -> str:
    """The lines of a JSON log above INFO (a traceback is within its line)."""
    return "\n".join(
        line for line in log.splitlines() if '"level": "INFO"' not in line and line.strip()
    )


def _addresses() -> Iterator[str]:
    """Addresses for sign-ups and resets, away from the seeded citizens' (198.18.x.x)."""
    n = 0
    while True:
        yield f"198.19.{n // 250 % 250}.{n % 250 + 1}"
        n += 1


def _until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def inject(
    plan: Plan,
    run: Run,
    portal: stack.Portal,
    mailbox: Mailbox,
    cluster: outages.Cluster | None,
) -> None:
    """Each fault ``plan.gap`` seconds after the last one ended, then load for one more gap."""
    assert portal.gunicorn is not None  # noqa: S101
    port = int(portal.url.rsplit(":", 1)[1])
    last = run.started
    if "worker" in plan.faults:
        _until(last + plan.gap)
        run.windows.append(outages.kill_worker(portal.gunicorn.pid, port))
        last = run.windows[-1].end
    if "postgres" in plan.faults and cluster is not None:
        _until(last + plan.gap)
        run.windows.append(cluster.restart(plan.pg_down))
        last = run.windows[-1].end
    if "smtp" in plan.faults:
        _until(last + plan.gap)
        with smtp_down(mailbox) as window:
            time.sleep(plan.smtp_down)
        run.smtp_window = window
        last = window.end
    _until(last + plan.gap)


@contextlib.contextmanager
def smtp_down(mailbox: Mailbox) -> Iterator[outages.Window]:
    window = outages.Window("SMTP server down", time.monotonic(), 0.0)
    mailbox.stop()
    try:
        yield window
    finally:
        mailbox.start()
        window.end = time.monotonic()
        window.detail = f"the SMTP server refused connections for {window.end - window.start:.1f} s"


def drain(plan: Plan) -> float | None:
    """Wait until the outbox holds nothing unsent: when that was (None if it never did)."""
    deadline = time.monotonic() + plan.drain_seconds
    while time.monotonic() < deadline:
        if integrity.pending_emails(plan.settings.database_url) == 0:
            return time.monotonic()
        time.sleep(1)
    return None


if __name__ == "__main__":
    raise SystemExit(main())
