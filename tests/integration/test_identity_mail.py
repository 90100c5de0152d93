"""The identity emails travel over real SMTP (aiosmtpd), and the links in them work."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from tests.conftest import empty_tables, make_test_app
from tests.integration.test_mail import smtp_server  # noqa: F401 - the fixture
from tests.support import mailbox
from tests.support.citizen import Citizen

pytestmark = pytest.mark.database


@pytest.fixture
def smtp_site(_migrated, smtp_server, tmp_path):  # noqa: F811
    controller, inbox = smtp_server
    app = make_test_app(
        _migrated,
        tmp_path / "instance",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=controller.port,
        SMTP_STARTTLS=False,
        PUBLIC_URL="https://portal.example",
    )
    yield app, inbox
    with app.app_context():
        empty_tables()


def _received(inbox, to: str) -> list[EmailMessage]:
    return [
        message_from_bytes(message.as_bytes(), policy=policy.default)
        for message in inbox.messages
        if message["To"] == to
    ]


def test_verification_reset_and_notice_emails_arrive_and_their_links_work(smtp_site) -> None:
    app, inbox = smtp_site
    citizen = Citizen(app, app.test_client(), "marta@example.es", lang="ca")

    citizen.create_account()
    (verification,) = _received(inbox, citizen.email)
    assert verification["Content-Language"] == "ca"
    link = mailbox.link_in(verification, "/verify/")
    assert "https://portal.example/ca/account/verify/" in mailbox.text_of(verification)
    assert citizen.client.get(link).headers["Location"].endswith("/ca/account/set-up")
    citizen.set_up_app()
    citizen.save_recovery_codes()
    citizen.sign_out()

    citizen.post("/forgot-password", {"email": citizen.email})
    reset = _received(inbox, citizen.email)[-1]
    link = mailbox.link_in(reset, "/reset-password/")
    response = citizen.post(
        link.split("/ca/account", 1)[1], {"password": "dotze gats grisos ballen sardanes"}
    )
    assert response.headers["Location"].endswith("/ca/account/sign-in")

    notice = _received(inbox, citizen.email)[-1]
    html = notice.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="ca"' in html
    not_me = mailbox.link_in(notice, "/not-me/")
    assert citizen.client.get(not_me).status_code == 200
    assert len(_received(inbox, citizen.email)) == 3
