"""The identity emails travel over real SMTP (aiosmtpd), sent by the outbox's worker as in
production, and the links in them work."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from tests.conftest import empty_tables, make_test_app
from tests.support import mailbox
from tests.support.citizen import Citizen
from tests.support.smtp import SmtpServer, smtp  # noqa: F401 - the fixture

pytestmark = pytest.mark.database


@pytest.fixture
def smtp_site(_migrated, smtp, tmp_path):  # noqa: F811
    app = make_test_app(
        _migrated, tmp_path / "instance", PUBLIC_URL="https://portal.example", **smtp.config()
    )
    yield app, smtp
    with app.app_context():
        empty_tables()


def _received(app, inbox: SmtpServer, to: str) -> list[EmailMessage]:
    """What reached the server once the worker has sent what waits (a request sends nothing
    itself when mail goes over SMTP)."""
    mailbox.deliver(app)
    return inbox.messages(to)


def test_verification_reset_and_notice_emails_arrive_and_their_links_work(smtp_site) -> None:
    app, inbox = smtp_site
    citizen = Citizen(app, app.test_client(), "marta@example.es", lang="ca")

    citizen.create_account()
    assert not inbox.messages(citizen.email)  # no request talks to the mail server
    (verification,) = _received(app, inbox, citizen.email)
    assert verification["Content-Language"] == "ca"
    link = mailbox.link_in(verification, "/verify/")
    assert "https://portal.example/ca/account/verify/" in mailbox.text_of(verification)
    assert citizen.client.get(link).headers["Location"].endswith("/ca/account/set-up")
    citizen.set_up_app()
    citizen.save_recovery_codes()
    citizen.sign_out()

    citizen.post("/forgot-password", {"email": citizen.email})
    reset = _received(app, inbox, citizen.email)[-1]
    link = mailbox.link_in(reset, "/reset-password/")
    response = citizen.post(
        link.split("/ca/account", 1)[1], {"password": "dotze gats grisos ballen sardanes"}
    )
    assert response.headers["Location"].endswith("/ca/account/sign-in")

    notice = _received(app, inbox, citizen.email)[-1]
    html = notice.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="ca"' in html
    not_me = mailbox.link_in(notice, "/not-me/")
    assert citizen.client.get(not_me).status_code == 200
    assert len(_received(app, inbox, citizen.email)) == 3
