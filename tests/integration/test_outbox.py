"""The email outbox against a real SMTP server (aiosmtpd): an email exists only if what
caused it committed; a mail server that is down delays email, never loses or doubles it;
a refusal for good is given up on at once and an operator can send it again; and two
workers sending at once never send one email twice."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from prometheus_client import REGISTRY
from sqlalchemy import select

from identity import accounts, emails
from portal import mail, outbox, worker
from portal.extensions import db, utcnow
from portal.outbox import OutboxEmail
from tests.conftest import empty_tables, make_test_app
from tests.support.smtp import SmtpServer, smtp  # noqa: F401 - the fixture

pytestmark = pytest.mark.database


@pytest.fixture
def mail_app(_migrated: str, smtp: SmtpServer, tmp_path) -> Iterator[Flask]:  # noqa: F811
    """The portal sending to the test's SMTP server, as in production (no request sends)."""
    app = make_test_app(_migrated, tmp_path / "instance", **smtp.config())
    with app.app_context():
        yield app
        empty_tables()


def letter(n: int) -> mail.Email:
    return mail.Email(
        to=f"vecina{n}@example.es",
        subject=f"Aviso {n}",
        text=f"Aviso número {n}.",
        html=f"<p>Aviso número {n}.</p>",
    )


def enqueue(count: int, kind: str = "test.notice") -> list[OutboxEmail]:
    rows = [outbox.enqueue(letter(n), kind) for n in range(count)]
    db.session.commit()
    return rows


def rows() -> list[OutboxEmail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def test_an_email_enqueued_in_a_rolled_back_transaction_is_never_sent(mail_app, smtp) -> None:  # noqa: F811
    account = accounts.create_account("lucia@example.es", "tres tristes tigres comen", "gl")
    emails.verify_email(account)
    db.session.rollback()  # the sign-up failed: no account, no email
    outbox.enqueue(letter(1), "test.notice")
    db.session.commit()

    assert outbox.deliver_due().sent == 1
    assert [m["To"] for m in smtp.messages()] == ["vecina1@example.es"]
    assert len(rows()) == 1


def test_a_claim_is_a_lease_that_one_worker_holds_until_it_runs_out(mail_app) -> None:
    (row,) = enqueue(1)
    now = utcnow()
    assert outbox.claim(row.id, now, "first") is not None
    assert outbox.claim(row.id, now, "second") is None  # held
    # The first worker died mid-send: once the lease has run out another takes the row...
    later = now + outbox.LEASE + timedelta(seconds=1)
    taken = outbox.claim(row.id, later, "third")
    assert taken is not None and taken.attempts == 2  # each claim is an attempt
    # ...and the first one, waking up, can no longer record an outcome for it.
    assert outbox._settle(taken, "first", status=outbox.SENT) is False
    assert rows()[0].status == outbox.PENDING
    assert outbox._settle(taken, "third", status=outbox.SENT) is True
    assert outbox.claim(row.id, later + outbox.LEASE * 2, "fourth") is None  # sent


def test_a_mail_server_that_is_down_delays_email_and_none_is_lost_or_doubled(
    mail_app,
    smtp,  # noqa: F811
) -> None:
    smtp.stop()
    enqueue(5)
    first = outbox.deliver_due()
    # One connection refused is enough: the rest of the batch waits, untried.
    assert (first.sent, first.failed, first.interrupted) == (0, 1, True)
    tried, *untried = rows()
    assert tried.attempts == 1 and tried.last_error.startswith("ConnectionRefusedError")
    assert tried.next_attempt_at >= utcnow() + outbox.RETRY_BASE / 2 - timedelta(seconds=1)
    assert all(row.attempts == 0 for row in untried)
    assert outbox.deliver_due().failed == 1  # the next in line; the first is not due yet

    smtp.start()  # the same port, an hour later
    later = outbox.deliver_due(utcnow() + timedelta(hours=1))
    assert (later.sent, later.failed) == (5, 0)
    assert outbox.deliver_due(utcnow() + timedelta(days=1)).sent == 0
    received = Counter(m["Message-ID"] for m in smtp.messages())
    assert set(received.values()) == {1}
    assert set(received) == {row.message_id for row in rows()}
    assert {row.status for row in rows()} == {outbox.SENT}


def test_a_refused_recipient_is_given_up_at_once_and_an_operator_can_send_it_again(
    mail_app,
    smtp,  # noqa: F811
) -> None:
    smtp.refused.add("vecina0@example.es")

    def dead_count() -> float:
        return REGISTRY.get_sample_value("portal_outbox_dead_total", {"kind": "test.notice"}) or 0

    before = dead_count()
    enqueue(2)
    report = outbox.deliver_due()
    assert (report.sent, report.dead) == (1, 1)
    assert dead_count() - before == 1
    refused = rows()[0]
    assert refused.status == outbox.DEAD and refused.attempts == 1
    assert refused.last_error == "SMTPRecipientsRefused 550"

    runner = mail_app.test_cli_runner()
    status = runner.invoke(args=["outbox", "status"])
    assert "pending 0, sent (kept 7 days) 1, dead 1" in status.output
    assert f"dead #{refused.id} test.notice to v…@example.es" in status.output
    assert "vecina0" not in status.output  # an operator's screen is no list of addresses

    smtp.refused.clear()  # the mailbox was made
    retried = runner.invoke(args=["outbox", "retry", str(refused.id)])
    assert "1 email(s) will be sent again." in retried.output
    assert outbox.deliver_due().sent == 1
    assert len(smtp.messages("vecina0@example.es")) == 1


def test_after_its_last_attempt_an_email_is_dead_not_lost(mail_app, smtp) -> None:  # noqa: F811
    smtp.stop()
    (row,) = enqueue(1)
    moment = utcnow()
    for _ in range(outbox.MAX_ATTEMPTS):
        moment += outbox.RETRY_CAP + timedelta(minutes=1)
        outbox.deliver_due(moment)
    (row,) = rows()
    assert (row.status, row.attempts) == (outbox.DEAD, outbox.MAX_ATTEMPTS)
    assert outbox.dead_count() == 1 and outbox.pending_count() == 0
    smtp.start()
    assert outbox.retry() == 1  # all dead: an operator after the outage
    assert outbox.deliver_due().sent == 1


def test_a_connection_dropped_after_the_message_resends_it_with_the_same_message_id(
    mail_app,
    smtp,  # noqa: F811
) -> None:
    """The ambiguous failure: the server had the message when the connection dropped. We
    cannot know, so we send it again; the receiver sees one Message-ID twice and can keep
    one (exactly once across SMTP is impossible; this is the best there is)."""
    smtp.drop_after_data = 1
    (row,) = enqueue(1)
    assert outbox.deliver_due().failed == 1
    assert outbox.deliver_due(utcnow() + timedelta(hours=1)).sent == 1
    copies = smtp.messages()
    assert len(copies) == 2
    assert {m["Message-ID"] for m in copies} == {row.message_id}
    assert copies[0].as_bytes() == copies[1].as_bytes()  # the very same message


def test_two_workers_at_once_never_send_the_same_email_twice(mail_app, smtp) -> None:  # noqa: F811
    enqueue(30)
    start = threading.Barrier(2)
    reports: list[outbox.Report] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with mail_app.app_context():  # a session and connection of its own
                start.wait()
                reports.append(outbox.deliver_due(batch=30))
                db.session.remove()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sum(report.sent for report in reports) == 30
    received = Counter(m["Message-ID"] for m in smtp.messages())
    assert len(received) == 30 and set(received.values()) == {1}
    assert {(row.status, row.attempts) for row in rows()} == {(outbox.SENT, 1)}


def test_sent_emails_are_kept_a_week_and_dead_ones_a_month(mail_app, smtp) -> None:  # noqa: F811
    smtp.refused.add("vecina1@example.es")
    enqueue(2)
    outbox.deliver_due()
    now = utcnow()
    assert outbox.prune(now + outbox.SENT_KEPT - timedelta(minutes=1)) == 0
    assert outbox.prune(now + outbox.SENT_KEPT + timedelta(minutes=1)) == 1
    assert outbox.prune(now + outbox.DEAD_KEPT + timedelta(minutes=1)) == 1
    assert rows() == []


def test_the_worker_command_sends_what_waits(mail_app, smtp) -> None:  # noqa: F811
    enqueue(3)
    result = mail_app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert len(smtp.messages()) == 3
    assert worker.run_pass(drain=True)[1].sent == 0


def test_the_worker_serves_its_own_counters_behind_the_metrics_token(mail_app) -> None:
    import requests

    from tests.support.metrics import TOKEN, value
    from tests.support.smtp import free_port

    enqueue(2, kind="test.counted")
    outbox.deliver_due()
    port = free_port()
    server = worker.serve_metrics("127.0.0.1", port, TOKEN)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        assert requests.get(url, timeout=5).status_code == 401
        answer = requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert answer.status_code == 200
    assert value(answer.text, "portal_outbox_sent_total", kind="test.counted") == 2
