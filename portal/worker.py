"""The worker: ``flask --app wsgi worker`` sends the outbox's emails and runs the jobs
that keep time (reminders, clean-ups); ``flask --app wsgi outbox`` shows and retries.

Run one or more, anywhere that reaches the database and the mail server: they share the
work through leases on rows (``portal.outbox``, ``portal.schedule``), so none sends an
email or runs a job another already has. Each pass runs the jobs that are due, then
sends up to a batch of emails, and goes straight on while there are more; otherwise it
waits ``--interval`` seconds. SIGTERM or Ctrl+C lets the email being sent finish and
stops before the next; ``--once`` does one full pass (jobs, then every due email) and
exits, for tests and for cron.

A failing database or mail server never stops the loop: the pass is logged and tried
again after the interval.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FrameType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from portal import outbox, schedule
from portal.extensions import db, utcnow

log = logging.getLogger(__name__)


def jobs() -> list[schedule.Job]:
    """Every scheduled job, how often it runs, and what it calls."""
    from portal import notifications
    from portal.backoffice import overdue
    from procedures import applications, emails

    return [
        # starts within a day, checked every quarter of an hour: about a day ahead
        schedule.Job("appointment-reminders", timedelta(minutes=15), emails.remind_appointments),
        # expires within a week: told once, about a week ahead
        schedule.Job("draft-reminders", timedelta(hours=1), emails.remind_drafts),
        schedule.Job("expired-drafts", timedelta(hours=1), applications.delete_expired_drafts),
        schedule.Job("overdue-cases", timedelta(days=1), overdue.remind_holders),
        # notifications written before the outbox existed and never emailed
        schedule.Job("notification-emails", timedelta(hours=1), notifications.enqueue_unsent),
        schedule.Job("outbox-prune", timedelta(days=1), outbox.prune),
    ]


def run_pass(
    batch: int = outbox.BATCH,
    now: datetime | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    drain: bool = False,
) -> tuple[list[str], outbox.Report]:
    """The jobs that are due, then the due emails: one batch, or (``drain``) batches until
    none is left or the mail server cannot be reached. The names of the jobs that ran and
    what the sending did."""
    ran = schedule.run_due(jobs(), now, should_stop)
    total = outbox.Report()
    while not should_stop():
        report = outbox.deliver_due(now, batch, should_stop=should_stop)
        total.sent += report.sent
        total.failed += report.failed
        total.dead += report.dead
        total.interrupted = report.interrupted
        done = report.sent + report.failed
        if not drain or report.interrupted or done < batch:
            break
    return ran, total


class Stopping:
    """Set by SIGTERM or SIGINT; the loop checks it between emails and while it waits."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        log.info("worker stopping (signal %d): finishing the email in hand", signum)
        self.event.set()

    def is_set(self) -> bool:
        return self.event.is_set()

    def install(self) -> None:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self)
            signal.signal(signal.SIGINT, self)


def loop(interval: float, batch: int, once: bool, stopping: Stopping) -> None:
    while not stopping.is_set():
        busy = False
        try:
            ran, report = run_pass(batch, should_stop=stopping.is_set, drain=once)
        except Exception:  # the database is down, say: log it, wait, try again
            log.exception("worker pass failed; trying again in %s s", interval)
            db.session.rollback()
        else:
            if ran or report.sent or report.failed:
                log.info(
                    "worker pass: jobs %s, %d sent, %d failed, %d given up",
                    ",".join(ran) or "none",
                    report.sent,
                    report.failed,
                    report.dead,
                )
            busy = report.sent + report.failed >= batch and not report.interrupted
        finally:
            db.session.remove()  # a fresh session (and connection) for the next pass
        if once:
            return
        if not busy:
            stopping.event.wait(interval)


# Metrics of the worker's own process --------------------------------------------------


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_metrics(host: str, port: int, token: str | None) -> WSGIServer:
    """This process's counters (emails sent, failed, given up; by kind) for Prometheus, in a
    thread, behind ``METRICS_TOKEN`` when one is set. The outbox's depth is the database's,
    read by the application servers' ``/metrics``."""
    from prometheus_client import REGISTRY, make_wsgi_app

    from portal.observability.metrics import authorised

    exposition = make_wsgi_app(REGISTRY)

    def application(environ: dict[str, Any], start_response: Any) -> Any:
        if token and not authorised(token, environ.get("HTTP_AUTHORIZATION")):
            start_response("401 Unauthorized", [("WWW-Authenticate", 'Bearer realm="metrics"')])
            return [b"A bearer token is needed.\n"]
        return exposition(environ, start_response)

    server = make_server(host, port, application, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, name="worker-metrics", daemon=True).start()
    return server


# Commands ------------------------------------------------------------------------------


@click.command("worker")
@click.option("--once", is_flag=True, help="One full pass (jobs due, every email due), then exit.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between passes.")
@click.option("--batch", default=outbox.BATCH, show_default=True, help="Emails per pass.")
@click.option("--metrics-port", type=int, help="Serve this process's metrics on this port.")
@click.option("--metrics-host", default="127.0.0.1", show_default=True)
@with_appcontext
def worker(
    once: bool, interval: float, batch: int, metrics_port: int | None, metrics_host: str
) -> None:
    """Send the outbox's emails and run the scheduled jobs (reminders, clean-ups)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if metrics_port:
        serve_metrics(metrics_host, metrics_port, app.config.get("METRICS_TOKEN"))
    stopping = Stopping()
    stopping.install()
    log.info("worker started (every %s s, batches of %d)", interval, batch)
    loop(interval, batch, once, stopping)
    log.info("worker stopped")


@click.group("outbox")
def outbox_commands() -> None:
    """The email outbox: what waits, what was given up on, and sending it again."""


@outbox_commands.command("status")
@with_appcontext
def status() -> None:
    """Emails by state, the oldest waiting, each one given up on, and each scheduled job."""
    counts = outbox.counts()
    click.echo(
        f"pending {counts[outbox.PENDING]}, sent (kept {outbox.SENT_KEPT.days} days)"
        f" {counts[outbox.SENT]}, dead {counts[outbox.DEAD]}"
    )
    click.echo(f"oldest pending: {int(outbox.oldest_pending().total_seconds())} s")
    for row in outbox.dead():
        click.echo(
            f"dead #{row.id} {row.kind} to {outbox.masked(row.recipient)},"
            f" written {row.created_at:%Y-%m-%d %H:%M} UTC, {row.attempts} attempts:"
            f" {row.last_error}"
        )
    for job in schedule.state():
        last = f"{job.last_run_at:%Y-%m-%d %H:%M} UTC" if job.last_run_at else "never"
        failing = f", last error: {job.last_error}" if job.last_error else ""
        click.echo(f"job {job.name}: last run {last}{failing}")


@outbox_commands.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-dead", is_flag=True, help="Every email given up on.")
@with_appcontext
def retry(ids: tuple[int, ...], all_dead: bool) -> None:
    """Send dead emails again (by the ids `outbox status` lists), with fresh attempts."""
    if not ids and not all_dead:
        raise click.UsageError("Name the emails' ids, or --all-dead.")
    count = outbox.retry(None if all_dead else ids, utcnow())
    click.echo(f"{count} email(s) will be sent again.")


def init_app(app: Flask) -> None:
    app.cli.add_command(worker)
    app.cli.add_command(outbox_commands)
