"""Prometheus metrics: requests by endpoint, sign-ins, submissions and the email outbox.

Counters live in the process that counts; under gunicorn each worker is a process, so
``PROMETHEUS_MULTIPROC_DIR`` (set by gunicorn.conf.py) makes every worker write its
values to files there, and a scrape adds them up: whichever worker answers
``/metrics`` reports the whole server. Prometheus scrapes each application server on
its own address, not through the load balancer (which would show a random server).

Labels stay few and bounded (endpoint names, not paths; methods and statuses from
short lists) so a crawler asking for a million URLs cannot make a million series,
and they never name a person.

Sign-ins and submissions are counted from the rows that record them (a
``SecurityEvent``, a ``RegistryEntry``) once their transaction commits, so a
rolled-back submission is not counted and no view of ``identity`` or ``procedures``
needs to know that metrics exist (their imports point down, DESIGN.md).
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask, Response, request
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# A ``_created`` series beside every counter doubles what Prometheus stores, for a
# timestamp it ignores unless asked to.
disable_created_metrics()

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: Pages render in milliseconds; sign-ins spend ~50 ms hashing; PDFs take longer.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "portal_http_requests",
    "HTTP requests answered, by endpoint, method and status.",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "portal_http_request_duration_seconds",
    "Time from the request reaching the app to its response, by endpoint and method.",
    ["endpoint", "method"],
    buckets=BUCKETS,
)
SIGN_INS = Counter(
    "portal_sign_ins",
    "Sign-ins completed (a session started), by the methods used (amr).",
    ["methods"],
)
SIGN_IN_FAILURES = Counter(
    "portal_sign_in_failures",
    "Failed sign-in steps of existing accounts: a wrong password or a wrong code.",
    ["step"],
)
SUBMISSIONS = Counter(
    "portal_submissions",
    "Applications submitted (each with its registry entry), by procedure.",
    ["procedure"],
)
OUTBOX_SENT = Counter(
    "portal_outbox_sent",
    "Emails the mail server accepted, by kind (counted by the process that sent them).",
    ["kind"],
)
OUTBOX_FAILED = Counter(
    "portal_outbox_failed",
    "Attempts to send an email that failed (tried again later, or given up), by kind.",
    ["kind"],
)
OUTBOX_DEAD = Counter(
    "portal_outbox_dead",
    "Emails given up on (refused for good, or out of attempts), by kind.",
    ["kind"],
)

#: The steps a failure can be at, as identity.events records them.
FAILURE_STEPS = frozenset({"password", "totp", "recovery_code", "webauthn"})
#: The amr values identity records (RFC 8176 names).
AMR = frozenset({"pwd", "otp", "hwk", "swk", "user", "pin", "mfa", "fpt", "face", "kba"})


def observe_request(response: Response, seconds: float) -> None:
    endpoint = request.endpoint or "none"
    method = request.method if request.method in METHODS else "other"
    REQUESTS.labels(endpoint, method, str(response.status_code)).inc()
    LATENCY.labels(endpoint, method).observe(seconds)


# Counting rows when their transaction commits -------------------------------------

PENDING = "metrics_pending"


def _pending(session: Session) -> list[Callable[[], None]]:
    return session.info.setdefault(PENDING, [])


def _security_event_written(_mapper: Any, _connection: Any, target: Any) -> None:
    session = inspect(target).session
    if session is None:
        return
    details = target.details or {}
    if target.kind == "signed_in":
        methods = "+".join(sorted(m for m in details.get("amr") or () if m in AMR)) or "other"
        _pending(session).append(SIGN_INS.labels(methods).inc)
    elif target.kind in {"sign_in_failed", "code_failed"}:
        step = details.get("reason") or details.get("method")
        step = step if step in FAILURE_STEPS else "other"
        _pending(session).append(SIGN_IN_FAILURES.labels(step).inc)


def _registry_entry_written(_mapper: Any, _connection: Any, target: Any) -> None:
    """A registry entry is written exactly once per submission, in its transaction."""
    from procedures.models import Application

    session = inspect(target).session
    if session is None:
        return
    # The submitting code holds the application; read it from the session, not the database.
    application = session.identity_map.get(
        inspect(Application).identity_key_from_primary_key((target.application_id,))
    )
    procedure = application.procedure_slug if application is not None else "other"
    _pending(session).append(SUBMISSIONS.labels(procedure).inc)


def _count_committed(session: Session) -> None:
    for count in session.info.pop(PENDING, []):
        count()


def _forget_rolled_back(session: Session) -> None:
    session.info.pop(PENDING, None)


def listen_for_rows() -> None:
    """Once per process (SQLAlchemy's listeners are global, like the models)."""
    from identity.models import SecurityEvent
    from procedures.models import RegistryEntry

    for target, name, listener in (
        (SecurityEvent, "after_insert", _security_event_written),
        (RegistryEntry, "after_insert", _registry_entry_written),
        (Session, "after_commit", _count_committed),
        (Session, "after_rollback", _forget_rolled_back),
    ):
        if not event.contains(target, name, listener):
            event.listen(target, name, listener)


# Gauges read from the database when Prometheus scrapes ------------------------------

#: name -> (help, function): the state of the service, not of one process, so they are
#: read at scrape time rather than kept per worker.
SCRAPE_GAUGES: dict[str, tuple[str, Callable[[], float]]] = {}


def gauge_at_scrape(name: str, documentation: str) -> Callable[[Callable[[], float]], Any]:
    def register(function: Callable[[], float]) -> Callable[[], float]:
        SCRAPE_GAUGES[name] = (documentation, function)
        return function

    return register


@gauge_at_scrape("portal_outbox_depth", "Emails waiting to be sent (due or waiting to retry).")
def outbox_depth() -> float:
    from portal import outbox

    return float(outbox.pending_count())


@gauge_at_scrape(
    "portal_outbox_dead_depth",
    "Emails given up on and kept for an operator (flask --app wsgi outbox status).",
)
def outbox_dead_depth() -> float:
    from portal import outbox

    return float(outbox.dead_count())


@gauge_at_scrape(
    "portal_outbox_oldest_pending_seconds",
    "How long the oldest email not yet sent has waited: alert when it grows.",
)
def outbox_oldest_pending() -> float:
    from portal import outbox

    return outbox.oldest_pending().total_seconds()


class ScrapeGauges:
    """A collector that reads :data:`SCRAPE_GAUGES`; one that fails is left out, and logged."""

    def collect(self) -> Iterator[Metric]:
        for name, (documentation, function) in SCRAPE_GAUGES.items():
            try:
                value = function()
            except Exception:
                log.exception("Metric %s could not be read", name)
                continue
            yield GaugeMetricFamily(name, documentation, value=value)


class ThisProcess:
    """The default registry's metrics, when one process serves (no multiprocess directory)."""

    def collect(self) -> Iterator[Metric]:
        return REGISTRY.collect()


def exposition(accept: str | None) -> tuple[bytes, str]:
    """The metrics in the format Prometheus asked for, and its content type."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(ThisProcess())  # type: ignore[arg-type]
    registry.register(ScrapeGauges())  # type: ignore[arg-type]
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type


def authorised(configured: str | None, authorization: str | None) -> bool:
    """Whether the request's ``Authorization: Bearer`` token is ``METRICS_TOKEN``."""
    if not configured or not authorization:
        return False
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(token.strip().encode(), configured.encode())


def init_app(app: Flask) -> None:
    listen_for_rows()
