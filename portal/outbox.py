"""The email outbox: every email is a row written in the transaction of what caused it,
and sent later by the worker (``flask --app wsgi worker``), never inside a web request.

Why a table, not a send after the commit: a sign-up, a submission or a decision and its
email now commit or roll back together. A rolled-back change sends nothing; a committed
one cannot lose its email to a mail server that is down or a process that dies, since
the row waits until the server answers. The row holds the message as it will go on the
wire (subject, text and HTML parts, attachments such as an appointment's ``.ics``,
rendered in the citizen's language when the change happened), so sending needs nothing
but the row.

Delivery. :func:`deliver_due` takes the rows that are due, oldest first, and claims each
just before sending it with one conditional UPDATE (``claimed_until`` in the past or
empty): of two workers, or a worker and a web request, only one wins a row, on SQLite
as on PostgreSQL (whose row lock makes the loser re-read the claim and find it taken).
The claim is a lease: a worker that dies mid-send leaves a row that another takes once
the lease has run out. Each claim counts as an attempt, so an email that kills whoever
sends it still ends up given up on rather than looping for ever.

A refusal that will not change (5xx: no such mailbox) gives up on the email at once. A
failure that may pass (server down, 4xx) is tried again after an exponential backoff
with jitter (:func:`backoff`: 30 s, 1 min, 2 min... capped at an hour, each drawn
between half and all of that, so a crowd of emails does not return at once). After
:data:`MAX_ATTEMPTS` (half a day to a day) the email is *dead*: kept, counted by the
metrics, listed and sent again by an operator (``flask --app wsgi outbox``). Errors are
recorded by class and server code, with any address blanked; logs name rows by id.

Exactly once is impossible across SMTP: if the connection drops after the message was
sent but before the server's "250 OK" arrives (or the worker dies between that answer
and recording it), we cannot know whether it was accepted. We send it again; each row
has a fixed ``Message-ID`` and the retry sends the very same bytes, so a receiving
server or mail client that de-duplicates by ``Message-ID`` shows it once. The outbox is
thus at least once, with duplicates limited to that window and marked as such.

Sent rows are deleted after :data:`SENT_KEPT`, dead ones after :data:`DEAD_KEPT`: the
email is the citizen's own in their mailbox; the copy here only travels.
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import Index, LargeBinary, String, delete, event, func, or_, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal import mail
from portal.extensions import UTCDateTime, db, utcnow

log = logging.getLogger(__name__)

PENDING = "pending"
SENT = "sent"
DEAD = "dead"

#: The first retry waits this long, each next one twice as long...
RETRY_BASE = timedelta(seconds=30)
#: ...up to this.
RETRY_CAP = timedelta(hours=1)
#: Attempts before an email is given up on: 7 growing waits then 22 of up to an hour,
#: between half a day and a day in all (a mail relay down overnight loses nothing); an
#: operator can send a dead email again (``outbox retry``).
MAX_ATTEMPTS = 30
#: How long a claim holds: far longer than one send (smtplib gives up on each step after
#: ``mail.SMTP_TIMEOUT``), so a row is only taken again from a worker that has died.
LEASE = timedelta(minutes=5)
#: How long a worker keeps trying to record what happened to an email while the database
#: does not answer (a restart, a failover): the email has left, and a row still claimed when
#: its lease runs out is sent again. Within the lease even after the slowest send (each
#: SMTP step is bounded by ``mail.SMTP_TIMEOUT``).
SETTLE_PATIENCE = timedelta(minutes=2)
#: The waits between those tries: from this, doubling, up to ``SETTLE_RETRY_CAP``.
SETTLE_RETRY_FIRST = 0.25
SETTLE_RETRY_CAP = 5.0
#: The worker's batch: rows claimed one by one, so a big batch holds nothing up.
BATCH = 50
SENT_KEPT = timedelta(days=7)
DEAD_KEPT = timedelta(days=30)

#: Session.info keys: message ids enqueued in the open transaction, and (in ``g``) those
#: committed during this request, which the request may send itself afterwards.
_ENQUEUED = "outbox_enqueued"
_COMMITTED = "outbox_committed"


class OutboxEmail(db.Model):  # type: ignore[name-defined]
    """One email on its way. No key to an account: it goes to an address (a changed
    address's notice goes to the old one; a closed account's farewell outlives the
    account), and it is transport, not the citizen's record (``portal.folder.export``)."""

    __tablename__ = "outbox_emails"
    __table_args__ = (Index("ix_outbox_emails_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The Message-ID header, fixed when the row is written: every attempt sends it.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    #: What it is ("identity.verify_email", "appointment.reminder"...): metrics and the
    #: operator's list name emails by it, never by their content.
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(10))
    #: The whole message as it goes on the wire (headers, both parts, attachments).
    content: Mapped[bytes] = mapped_column(LargeBinary)
    #: pending, sent or dead.
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The lease: whoever holds ``claimed_by`` is sending it until then.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The last failure: error class, server code and words, addresses blanked.
    last_error: Mapped[str | None] = mapped_column(String(mail.ERROR_LENGTH))


# Writing -------------------------------------------------------------------------------


def enqueue(email: mail.Email, kind: str) -> OutboxEmail:
    """Add ``email`` to the caller's transaction; it leaves once that commits. The caller
    commits (a view that forgets is caught after the request: see :func:`init_app`)."""
    sender = current_app.config["MAIL_FROM"]
    message_id = mail.new_message_id(sender)
    now = utcnow()
    row = OutboxEmail(
        message_id=message_id,
        kind=kind,
        recipient=email.to,
        language=email.language,
        content=mail.build_message(email, sender, message_id, now).as_bytes(),
        status=PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    db.session.add(row)
    db.session.info.setdefault(_ENQUEUED, []).append(message_id)
    return row


def enqueued() -> list[str]:
    """The Message-IDs enqueued in the open transaction, in order."""
    return list(db.session.info.get(_ENQUEUED, []))


def withdraw(message_ids: Iterable[str]) -> None:
    """Take back emails enqueued in the open transaction: demo data that backdates a history
    by weeks has its old emails sent, and pruned, long ago."""
    ids = set(message_ids)
    if not ids:
        return
    db.session.execute(delete(OutboxEmail).where(OutboxEmail.message_id.in_(ids)))
    db.session.info[_ENQUEUED] = [m for m in enqueued() if m not in ids]


# Sending -------------------------------------------------------------------------------


def backoff(attempts: int, draw: Callable[[], float] = random.random) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: doubling from
    ``RETRY_BASE`` up to ``RETRY_CAP``, then a random point in its upper half ("equal
    jitter": never much sooner than planned, and never all at once)."""
    ceiling = min(RETRY_CAP, RETRY_BASE * 2 ** max(attempts - 1, 0))
    return ceiling / 2 + ceiling / 2 * draw()


@dataclass(frozen=True)
class Claimed:
    """A row taken for sending: what the send needs, read by the claim itself."""

    id: int
    kind: str
    recipient: str
    content: bytes
    #: Including this one.
    attempts: int


def claim(row_id: int, now: datetime, token: str) -> Claimed | None:
    """Take the row for ``LEASE`` if it is due and nobody holds it, counting an attempt;
    committed at once, so others see it. None when someone else got it. One statement
    (UPDATE ... RETURNING, on SQLite as on PostgreSQL) both claims and reads it."""
    table = OutboxEmail.__table__
    taken = db.session.execute(
        update(table)
        .where(
            table.c.id == row_id,
            table.c.status == PENDING,
            table.c.next_attempt_at <= now,
            or_(table.c.claimed_until.is_(None), table.c.claimed_until < now),
        )
        .values(
            claimed_until=now + LEASE,
            claimed_by=token,
            attempts=table.c.attempts + 1,
            last_attempt_at=now,
        )
        .returning(table.c.id, table.c.kind, table.c.recipient, table.c.content, table.c.attempts)
    ).one_or_none()
    db.session.commit()
    return Claimed(*taken) if taken is not None else None


def _settle(row: Claimed, token: str, **values: Any) -> bool:
    """Record the outcome, if the lease is still ours (else another worker has the row).

    If the database is down just then (restarting between the claim and now), the outcome
    is held here and tried again, on a fresh connection each time, for up to
    ``SETTLE_PATIENCE``: giving up at once would leave a sent email claimed until its lease
    ran out, and then send it a second time (bench/faults.py found it so)."""
    table = OutboxEmail.__table__
    give_up = time.monotonic() + SETTLE_PATIENCE.total_seconds()
    wait = SETTLE_RETRY_FIRST
    while True:
        try:
            done = db.session.execute(
                update(table)
                .where(table.c.id == row.id, table.c.claimed_by == token)
                .values(claimed_until=None, claimed_by=None, **values)
            ).rowcount
            db.session.commit()
            break
        except (OperationalError, InterfaceError) as error:
            db.session.rollback()
            if time.monotonic() + wait > give_up:
                raise
            log.warning(
                "outbox email %s: its outcome could not be recorded (%s); again in %.2f s",
                row.id,
                type(error.orig).__name__,
                wait,
            )
            time.sleep(wait)
            wait = min(wait * 2, SETTLE_RETRY_CAP)
    if not done:
        log.warning("outbox email %s: lease lost before its outcome was recorded", row.id)
    return bool(done)


def _failed(row: Claimed, token: str, error: mail.DeliveryError, now: datetime) -> str:
    from portal.observability import metrics

    metrics.OUTBOX_FAILED.labels(row.kind).inc()
    if error.permanent or row.attempts >= MAX_ATTEMPTS:
        _settle(row, token, status=DEAD, last_error=error.reason)
        metrics.OUTBOX_DEAD.labels(row.kind).inc()
        log.error(
            "outbox email %s (%s) given up after %d attempts: %s",
            row.id,
            row.kind,
            row.attempts,
            error.reason,
        )
        return DEAD
    wait = backoff(row.attempts)
    _settle(row, token, next_attempt_at=now + wait, last_error=error.reason)
    log.warning(
        "outbox email %s (%s) attempt %d failed, next in %d s: %s",
        row.id,
        row.kind,
        row.attempts,
        wait.total_seconds(),
        error.reason,
    )
    return PENDING


@dataclass
class Report:
    """What one pass did."""

    sent: int = 0
    failed: int = 0
    dead: int = 0
    #: The mail server could not be reached: the rest of the batch was left for later.
    interrupted: bool = False


def deliver_due(
    now: datetime | None = None,
    batch: int = BATCH,
    message_ids: Iterable[str] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Report:
    """Send up to ``batch`` due emails (only ``message_ids``, if given), oldest first.

    ``now`` fixes the clock (tests); otherwise each claim reads the time afresh, so a
    slow batch never claims with a lease that has already partly run out."""
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    report = Report()
    start = clock()
    query = (
        select(OutboxEmail.id)
        .where(
            OutboxEmail.status == PENDING,
            OutboxEmail.next_attempt_at <= start,
            or_(OutboxEmail.claimed_until.is_(None), OutboxEmail.claimed_until < start),
        )
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(batch)
    )
    if message_ids is not None:
        query = query.where(OutboxEmail.message_id.in_(list(message_ids)))
    ids = list(db.session.scalars(query))
    db.session.commit()  # end the read: each claim is a transaction of its own
    if not ids:
        return report
    from portal.observability import metrics

    with mail.transport() as way:
        for row_id in ids:
            if should_stop():
                break
            token = secrets.token_hex(16)
            row = claim(row_id, clock(), token)
            if row is None:
                continue
            try:
                way.send(row.content, row.recipient)
            except mail.DeliveryError as error:
                report.failed += 1
                if _failed(row, token, error, clock()) == DEAD:
                    report.dead += 1
                if error.unreachable:
                    report.interrupted = True
                    break
                continue
            _settle(row, token, status=SENT, sent_at=clock(), last_error=None)
            metrics.OUTBOX_SENT.labels(row.kind).inc()
            report.sent += 1
    return report


# What operators and metrics read --------------------------------------------------------


def counts() -> dict[str, int]:
    """Rows by status (pending, sent, dead)."""
    found = dict(
        db.session.execute(
            select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)
        ).all()
    )
    return {status: int(found.get(status, 0)) for status in (PENDING, SENT, DEAD)}


def pending_count() -> int:
    return int(db.session.scalar(select(func.count()).where(OutboxEmail.status == PENDING)) or 0)


def dead_count() -> int:
    return int(db.session.scalar(select(func.count()).where(OutboxEmail.status == DEAD)) or 0)


def oldest_pending(now: datetime | None = None) -> timedelta:
    """How long the oldest unsent email has waited (zero when none waits)."""
    oldest = db.session.scalar(
        select(func.min(OutboxEmail.created_at)).where(OutboxEmail.status == PENDING)
    )
    if oldest is None:
        return timedelta(0)
    return max(timedelta(0), (now or utcnow()) - oldest)


def dead(limit: int = 100) -> list[OutboxEmail]:
    return list(
        db.session.scalars(
            select(OutboxEmail)
            .where(OutboxEmail.status == DEAD)
            .order_by(OutboxEmail.id)
            .limit(limit)
        )
    )


def retry(ids: Iterable[int] | None = None, now: datetime | None = None) -> int:
    """Give dead emails (these ``ids``, or all) a fresh set of attempts, due now."""
    now = now or utcnow()
    condition = [OutboxEmail.status == DEAD]
    if ids is not None:
        condition.append(OutboxEmail.id.in_(list(ids)))
    changed = db.session.execute(
        update(OutboxEmail)
        .where(*condition)
        .values(status=PENDING, attempts=0, next_attempt_at=now, claimed_until=None)
    ).rowcount
    db.session.commit()
    return int(changed)


def prune(now: datetime | None = None) -> int:
    """Delete sent rows after ``SENT_KEPT`` and dead ones after ``DEAD_KEPT``."""
    now = now or utcnow()
    gone = db.session.execute(
        delete(OutboxEmail).where(
            or_(
                (OutboxEmail.status == SENT) & (OutboxEmail.sent_at < now - SENT_KEPT),
                (OutboxEmail.status == DEAD) & (OutboxEmail.created_at < now - DEAD_KEPT),
            )
        )
    ).rowcount
    db.session.commit()
    return int(gone)


def masked(address: str) -> str:
    """``a…@example.es``: enough for an operator to match a complaint, not to read a list."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}…@{domain}"


# Within a web request --------------------------------------------------------------------


def _committed(session: Session) -> None:
    enqueued = session.info.pop(_ENQUEUED, None)
    if enqueued and has_request_context():
        g.setdefault(_COMMITTED, []).extend(enqueued)


def _rolled_back(session: Session, previous: Any) -> None:
    if previous.parent is None:  # the whole transaction, not a savepoint within it
        session.info.pop(_ENQUEUED, None)


def _after_request(response: Any) -> Any:
    """Send what this request committed, when the configuration asks for it (the embedded
    mode, whose "mail server" is a folder: ``make run`` shows emails at once); and refuse
    a view that enqueued an email and never committed it, which would lose it."""
    forgotten = db.session.info.get(_ENQUEUED)
    if forgotten:
        db.session.info.pop(_ENQUEUED, None)
        message = f"{len(forgotten)} email(s) enqueued in a transaction that never committed"
        if current_app.testing:
            raise AssertionError(message)
        log.error(message)
    committed = g.pop(_COMMITTED, None)
    if committed and current_app.config["OUTBOX_SEND_AFTER_REQUEST"]:
        try:
            deliver_due(message_ids=committed)
        except Exception:  # the worker will send them; the citizen's page must not fail
            db.session.rollback()
            log.exception("sending this request's emails failed; the worker will")
    return response


def init_app(app: Flask) -> None:
    if not event.contains(Session, "after_commit", _committed):
        event.listen(Session, "after_commit", _committed)
        event.listen(Session, "after_soft_rollback", _rolled_back)
    app.after_request(_after_request)
