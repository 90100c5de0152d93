"""Emails written by web requests: in the embedded mode a request sends its own once it has
committed (so ``make run`` shows them at once in ``instance/mail/``); with a mail server it
sends nothing and leaves them to the worker; a page never fails because mail did; and a
view that writes an email without committing is caught, since that email would be lost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from portal import mail, outbox
from portal.extensions import db
from tests.conftest import empty_tables, make_test_app
from tests.support import mailbox

pytestmark = pytest.mark.database


def _letter(to: str) -> mail.Email:
    return mail.Email(to=to, subject="Aviso", text="Un aviso.", html="<p>Un aviso.</p>")


def _views(app: Flask) -> Flask:
    def commits() -> str:
        outbox.enqueue(_letter("commits@example.es"), "test.notice")
        db.session.commit()
        return "ok"

    def rolls_back() -> str:
        outbox.enqueue(_letter("rolls-back@example.es"), "test.notice")
        db.session.rollback()
        return "ok"

    def forgets() -> str:
        outbox.enqueue(_letter("forgets@example.es"), "test.notice")
        return "ok"

    for view in (commits, rolls_back, forgets):
        app.add_url_rule(f"/_test/{view.__name__}", view_func=view)
    return app


@pytest.fixture
def embedded(_migrated: str, tmp_path) -> Iterator[Flask]:
    app = _views(make_test_app(_migrated, tmp_path / "instance"))
    yield app
    with app.app_context():
        empty_tables()


def _counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return outbox.counts()


def test_in_the_embedded_mode_a_request_writes_its_emails_once_committed(embedded) -> None:
    assert embedded.config["OUTBOX_SEND_AFTER_REQUEST"] is True  # no SMTP_HOST
    client = embedded.test_client()
    assert client.get("/_test/commits").status_code == 200
    assert len(mailbox.messages(embedded, "commits@example.es")) == 1
    assert _counts(embedded) == {"pending": 0, "sent": 1, "dead": 0}
    assert mailbox.deliver(embedded) == 0  # the worker finds nothing left


def test_an_email_of_a_rolled_back_request_is_never_written(embedded) -> None:
    assert embedded.test_client().get("/_test/rolls_back").status_code == 200
    assert mailbox.messages(embedded) == []
    assert _counts(embedded) == {"pending": 0, "sent": 0, "dead": 0}


def test_a_view_that_forgets_to_commit_an_email_is_caught(embedded) -> None:
    with pytest.raises(AssertionError, match="never committed"):
        embedded.test_client().get("/_test/forgets")
    assert _counts(embedded)["pending"] == 0


def test_a_page_does_not_fail_when_mail_does(_migrated: str, tmp_path) -> None:
    """The mail folder cannot be written: the page answers, the email waits its turn."""
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    app = _views(make_test_app(_migrated, tmp_path / "instance", MAIL_FILE_DIR=str(blocked)))
    try:
        assert app.test_client().get("/_test/commits").status_code == 200
        with app.app_context():
            (row,) = db.session.scalars(db.select(outbox.OutboxEmail)).all()
            assert (row.status, row.attempts) == (outbox.PENDING, 1)
            assert row.last_error == "FileExistsError File exists"
    finally:
        with app.app_context():
            empty_tables()


def test_with_a_mail_server_a_request_leaves_its_emails_to_the_worker(
    _migrated: str, tmp_path
) -> None:
    app = _views(
        make_test_app(
            _migrated,
            tmp_path / "instance",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=9,  # nothing listens: a request that tried would fail
            SMTP_STARTTLS=False,
            OUTBOX_SEND_AFTER_REQUEST=False,
        )
    )
    try:
        assert app.test_client().get("/_test/commits").status_code == 200
        assert _counts(app) == {"pending": 1, "sent": 0, "dead": 0}
        with app.app_context():
            (row,) = db.session.scalars(db.select(outbox.OutboxEmail)).all()
            assert row.attempts == 0  # not even tried
    finally:
        with app.app_context():
            empty_tables()
