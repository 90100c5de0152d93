"""The outbox when the database goes away between sending an email and recording that it
was sent (a restart, a failover): the worker holds the outcome and records it once the
database is back, so the email is not sent a second time when its claim runs out.

PostgreSQL only: the database "restarts" for this test's connections alone, through a
forwarder the test cuts (tests/support/tcp_proxy.py), not for the server other tests use.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from portal import mail, outbox
from portal.extensions import db, utcnow
from portal.outbox import OutboxEmail
from tests.conftest import empty_tables, make_test_app
from tests.support.smtp import SmtpServer
from tests.support.tcp_proxy import TcpProxy, needs_a_database_server

pytestmark = [pytest.mark.database, needs_a_database_server]

#: How long the database stays away after the mail server took the message.
OUTAGE = 1.0


class SmtpThenDatabaseDown(SmtpServer):
    """Takes each message, then cuts the database off for ``OUTAGE`` seconds, before its
    "250 OK" reaches the sender: by the time the worker records the email as sent, the
    database is gone."""

    def __init__(self, database: TcpProxy) -> None:
        super().__init__()
        self.database = database
        self.restores: list[threading.Timer] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        self.database.cut()
        restore = threading.Timer(OUTAGE, self.database.start)
        restore.start()
        self.restores.append(restore)
        return answer


def test_an_email_sent_as_the_database_goes_down_is_recorded_once_it_is_back_and_sent_once(
    _migrated: str, tmp_path: Path
) -> None:
    database = TcpProxy.to_database(_migrated).start()
    smtp = SmtpThenDatabaseDown(database).start()
    app = make_test_app(database.url_through(_migrated), tmp_path / "instance", **smtp.config())
    try:
        with app.app_context():
            outbox.enqueue(
                mail.Email(
                    to="vecina@example.es", subject="Aviso", text="Aviso.", html="<p>Aviso.</p>"
                ),
                "test.notice",
            )
            db.session.commit()

            assert outbox.deliver_due().sent == 1

            (row,) = db.session.scalars(select(OutboxEmail))
            assert (row.status, row.claimed_by) == (outbox.SENT, None)
            # Long after its claim would have run out, nobody sends it again.
            later = utcnow() + outbox.LEASE + timedelta(minutes=1)
            assert outbox.deliver_due(now=later).sent == 0
            assert len(smtp.received) == 1
            empty_tables()
    finally:
        for restore in smtp.restores:
            restore.join()
        smtp.stop()
        database.cut()
