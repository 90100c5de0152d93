"""Jobs the worker runs every so often (reminders, clean-ups), once per period however
many workers run.

Each job has a row holding when it last ran. A worker takes a job with one conditional
UPDATE, the outbox's lease again: only when the period has passed since the last run and
no one holds it (or the holder's lease ran out: it died). It runs the job, then records
the run in the same transaction as whatever the job left uncommitted, so a job that
writes in one go (the overdue-cases digest) is recorded as run exactly when its emails
are enqueued: a worker dying half-way leaves neither, and the next one starts over.
Jobs that commit as they go (one reminder at a time) claim each item themselves, so a
second run finds nothing left to do.

A job that fails is logged and left alone for :data:`RETRY_AFTER` (the lease is kept for
that long), rather than tried again on every pass of every worker.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from portal import mail
from portal.extensions import UTCDateTime, db, utcnow

log = logging.getLogger(__name__)

#: Longer than any job runs; a job held past it may be started by a second worker (each
#: job is safe to run twice: it claims its items).
LEASE = timedelta(minutes=15)
RETRY_AFTER = timedelta(minutes=5)


class ScheduledJob(db.Model):  # type: ignore[name-defined]
    __tablename__ = "scheduled_jobs"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    #: When the last successful run started: the next is due a period later.
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    #: The last failure's error class and words (addresses blanked); empty after a success.
    last_error: Mapped[str | None] = mapped_column(String(mail.ERROR_LENGTH))


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    #: Called with the time of the run; returns how many things it did (for the log).
    run: Callable[[datetime], int]


def _ensure_row(name: str) -> None:
    if db.session.get(ScheduledJob, name) is not None:
        return
    db.session.add(ScheduledJob(name=name))
    try:
        db.session.commit()
    except IntegrityError:  # another worker made it first
        db.session.rollback()


def claim(job: Job, now: datetime, token: str) -> bool:
    """Take ``job`` if its period has passed and nobody holds it; committed at once."""
    _ensure_row(job.name)
    table = ScheduledJob.__table__
    taken = db.session.execute(
        update(table)
        .where(
            table.c.name == job.name,
            or_(table.c.claimed_until.is_(None), table.c.claimed_until < now),
            or_(table.c.last_run_at.is_(None), table.c.last_run_at <= now - job.every),
        )
        .values(claimed_until=now + LEASE, claimed_by=token)
    ).rowcount
    db.session.commit()
    return bool(taken)


def _finish(job: Job, token: str, **values: object) -> bool:
    table = ScheduledJob.__table__
    return bool(
        db.session.execute(
            update(table)
            .where(table.c.name == job.name, table.c.claimed_by == token)
            .values(claimed_by=None, **values)
        ).rowcount
    )


def run_due(
    jobs: Iterable[Job],
    now: datetime | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> list[str]:
    """Run every job whose period has passed and that no other worker holds; the names of
    those that ran to the end."""
    ran = []
    for job in jobs:
        if should_stop():
            break
        started = now or utcnow()
        token = secrets.token_hex(16)
        if not claim(job, started, token):
            continue
        try:
            done = job.run(started)
        except Exception as error:
            db.session.rollback()
            log.exception("scheduled job %s failed; tried again in %s", job.name, RETRY_AFTER)
            _finish(
                job,
                token,
                claimed_until=(now or utcnow()) + RETRY_AFTER,
                last_error=mail.describe(error),
            )
            db.session.commit()
            continue
        finished = now or utcnow()
        if _finish(
            job,
            token,
            claimed_until=None,
            last_run_at=started,
            last_finished_at=finished,
            last_error=None,
        ):
            db.session.commit()  # with whatever the job left to commit
            ran.append(job.name)
            log.info(
                "scheduled job %s did %d in %.1f s", job.name, done, _seconds(started, finished)
            )
        else:
            db.session.rollback()
            log.warning(
                "scheduled job %s ran past its lease; its last writes were undone", job.name
            )
    return ran


def _seconds(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()


def state() -> list[ScheduledJob]:
    return list(db.session.scalars(select(ScheduledJob).order_by(ScheduledJob.name)))
