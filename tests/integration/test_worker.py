"""The worker's scheduled jobs: each runs once per period however many workers run; a job
that fails leaves nothing half-done; the reminders (a draft about to be deleted, an
appointment tomorrow) and the overdue-cases digest reach people over real SMTP through
the outbox, once; and the worker process stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from identity import accounts
from identity.models import Account
from portal import mail, outbox, schedule, worker
from portal.backoffice import staff
from portal.backoffice.models import Assignment
from portal.extensions import db, utcnow
from portal.schedule import ScheduledJob
from procedures import applications, appointments, catalogue, offices, samples
from tests.conftest import ROOT, empty_tables, make_test_app
from tests.support import mailbox
from tests.support.smtp import SmtpServer, smtp  # noqa: F401 - the fixture

pytestmark = pytest.mark.database


@pytest.fixture
def mail_app(_migrated: str, smtp: SmtpServer, tmp_path) -> Iterator[Flask]:  # noqa: F811
    app = make_test_app(
        _migrated, tmp_path / "instance", PUBLIC_URL="https://portal.example", **smtp.config()
    )
    with app.app_context():
        yield app
        empty_tables()


def citizen(email: str, lang: str) -> Account:
    account = accounts.create_account(email, "tres tristes tigres comen trigo", lang)
    assert account is not None
    accounts.mark_email_verified(account)
    db.session.commit()
    return account


# Scheduling ----------------------------------------------------------------------------


def test_a_job_runs_once_per_period_however_many_workers_run(mail_app) -> None:
    runs: list[datetime] = []

    def slow(now: datetime) -> int:
        runs.append(now)
        time.sleep(0.3)  # long enough for the other worker to try meanwhile
        return 1

    job = schedule.Job("test-slow", timedelta(hours=1), slow)
    now = utcnow()
    start = threading.Barrier(2)

    def work() -> None:
        with mail_app.app_context():
            start.wait()
            schedule.run_due([job], now)
            db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(runs) == 1
    assert schedule.run_due([job], now + timedelta(minutes=59)) == []  # same period
    assert schedule.run_due([job], now + timedelta(hours=1)) == ["test-slow"]
    assert len(runs) == 2


def test_a_job_that_fails_leaves_nothing_and_waits_before_trying_again(mail_app, smtp) -> None:  # noqa: F811
    attempts = []

    def digest(now: datetime) -> int:
        attempts.append(now)
        outbox.enqueue(
            mail.Email(to="jefa@example.es", subject="Resumen", text="-", html="-"), "test.digest"
        )
        if len(attempts) == 1:
            raise RuntimeError("the database went away half-way")
        return 1

    job = schedule.Job("test-digest", timedelta(days=1), digest)
    now = utcnow()
    assert schedule.run_due([job], now) == []
    state = db.session.get(ScheduledJob, "test-digest", populate_existing=True)
    assert state.last_error.startswith("RuntimeError") and state.last_run_at is None
    assert outbox.pending_count() == 0  # the half-done run's email went with it
    assert schedule.run_due([job], now + timedelta(minutes=1)) == []  # not on every pass
    assert schedule.run_due([job], now + schedule.RETRY_AFTER + timedelta(seconds=1)) == [
        "test-digest"
    ]
    assert outbox.deliver_due().sent == 1  # the day's digest, once
    assert len(smtp.messages("jefa@example.es")) == 1


# Reminders through the outbox ---------------------------------------------------------


def test_the_draft_and_appointment_reminders_go_out_once_through_the_outbox(mail_app, smtp) -> None:  # noqa: F811
    ana = citizen("ana@example.es", "gl")
    directory = offices.current()
    office = directory.offices["town-hall"]
    service = directory.services["citizen-office"]
    booked_on = utcnow()
    slot = next(
        day.slots[0].starts_at
        for day in appointments.free_days(
            office, service, appointments.first_day(office, booked_on) + timedelta(days=3)
        )
    )
    booking = appointments.book(ana, office, service, slot, "gl", now=booked_on)
    # The worker's pass, the afternoon before the appointment; a form left 24 days ago.
    evening = slot - timedelta(hours=20)
    procedure = catalogue.get("residents-parking-permit")
    draft = applications.start(ana, procedure, "gl", now=evening - timedelta(days=24))
    db.session.commit()
    assert len(smtp.messages()) == 0  # nothing leaves without the worker

    ran, report = worker.run_pass(now=evening, drain=True)
    assert {"draft-reminders", "appointment-reminders"} <= set(ran)
    assert report.sent == 3  # the booking's confirmation, and the two reminders
    booked, *reminders = smtp.messages("ana@example.es")
    assert booking.reference in mailbox.text_of(booked)
    by_kind = {
        "draft": next(m for m in reminders if draft.reference in mailbox.text_of(m)),
        "appointment": next(m for m in reminders if booking.reference in mailbox.text_of(m)),
    }
    assert all(m["Content-Language"] == "gl" for m in reminders)
    resume = mailbox.link_in(by_kind["draft"], f"/applications/{draft.reference}")
    assert resume == f"/gl/applications/{draft.reference}/"
    assert "https://portal.example/gl/" in mailbox.text_of(by_kind["draft"])
    ics = [part for part in by_kind["appointment"].iter_attachments()]
    assert [part.get_content_type() for part in ics] == ["text/calendar"]

    # The next passes, a second worker, the next hours: nobody is reminded twice.
    for later in (evening, evening + timedelta(hours=2), evening + timedelta(hours=12)):
        assert worker.run_pass(now=later, drain=True)[1].sent == 0
    assert len(smtp.messages("ana@example.es")) == 3


def test_a_draft_saved_again_after_its_reminder_is_reminded_again_before_its_new_end(
    mail_app,
) -> None:
    from procedures import emails

    ana = citizen("ana@example.es", "es")
    procedure = catalogue.get("residents-parking-permit")
    now = utcnow()
    draft = applications.start(ana, procedure, "es", now=now - timedelta(days=25))
    db.session.commit()
    assert emails.remind_drafts(now) == 1
    assert emails.remind_drafts(now) == 0
    page = applications.visible_pages(procedure, {})[0]
    values = {field.id: samples.sample(field) for field in page.fields}
    applications.save_page(draft, procedure, page, values, now=now)  # a new 30 days
    db.session.commit()
    assert emails.remind_drafts(now + timedelta(days=10)) == 0
    assert emails.remind_drafts(now + timedelta(days=24)) == 1
    assert outbox.pending_count() == 2


def test_staff_holding_overdue_cases_get_one_digest_a_day(mail_app, smtp) -> None:  # noqa: F811
    marta = citizen("marta@ayto.example.es", "ca")
    staff.make_staff(marta, "city-council", "Padrón", "caseworker")
    luis = citizen("luis@example.es", "es")
    procedure = catalogue.get("bulky-waste-collection")  # resolved within a month
    held = []
    for days_ago in (60, 45, 5):
        application = applications.start(luis, procedure, "es")
        samples.fill(application, procedure)
        applications.submit(application, procedure, now=utcnow() - timedelta(days=days_ago))
        db.session.add(Assignment(application_id=application.id, staff_account_id=marta.id))
        held.append(application.reference)
    db.session.commit()
    outbox.deliver_due()  # Luis's receipts

    now = utcnow() + timedelta(minutes=1)  # the worker's next pass
    assert "overdue-cases" in worker.run_pass(now=now, drain=True)[0]
    (digest,) = smtp.messages("marta@ayto.example.es")
    text = mailbox.text_of(digest)
    assert digest["Content-Language"] == "ca"
    assert held[0] in text and held[1] in text and held[2] not in text  # 5 days: in time
    assert "luis" not in text.lower()  # references, not people
    assert "https://portal.example/ca/staff/?assigned=mine&overdue=1" in text
    worker.run_pass(now=now + timedelta(hours=23), drain=True)
    assert len(smtp.messages("marta@ayto.example.es")) == 1  # one a day
    worker.run_pass(now=now + timedelta(days=1), drain=True)
    assert len(smtp.messages("marta@ayto.example.es")) == 2


# The process --------------------------------------------------------------------------


def test_the_worker_process_sends_then_stops_cleanly_on_sigterm(
    _migrated: str,
    smtp,  # noqa: F811
    tmp_path: Path,
) -> None:
    app = make_test_app(_migrated, tmp_path / "instance", **smtp.config())
    with app.app_context():
        outbox.enqueue(mail.Email(to="eva@example.es", subject="Hola", text="-", html="-"), "t")
        db.session.commit()
    environment = {
        **os.environ,
        "DATABASE_URL": _migrated,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_STARTTLS": "0",
        "LOG_FORMAT": "json",
    }
    process = subprocess.Popen(  # noqa: S603
        [Path(sys.executable).parent / "flask", "--app", "wsgi", "worker", "--interval", "0.2"],
        cwd=ROOT,
        env=environment,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while (
            not smtp.messages("eva@example.es")
            and process.poll() is None
            and time.monotonic() < deadline
        ):
            time.sleep(0.1)
        if not smtp.messages("eva@example.es"):
            process.kill()
            pytest.fail(f"the worker sent nothing; it said:\n{process.communicate()[1]}")
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()  # reaped and its pipe closed, whatever failed above
    assert process.returncode == 0, stderr
    assert '"message": "worker stopped"' in stderr
    assert "eva@example.es" not in stderr  # the logs name no one
    with app.app_context():
        assert outbox.counts()[outbox.SENT] == 1
        empty_tables()
