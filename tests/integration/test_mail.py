"""Email reaches a real SMTP server (aiosmtpd) when configured, and files otherwise."""

from __future__ import annotations

import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler

from portal.mail import Email, send
from tests.conftest import make_test_app

LETTER = Email(
    to="lucia@example.es",
    subject="Confirme su dirección de correo",
    text="Abra este enlace: https://localhost/es/",
    html="<p>Abra <a href='https://localhost/es/'>este enlace</a>.</p>",
    language="es",
)


class Inbox(MessageHandler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[email.message.Message] = []

    def handle_message(self, message) -> None:
        self.messages.append(message)


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    with socket.socket() as probe:  # aiosmtpd cannot listen on port 0 itself
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, inbox
    controller.stop()


def test_mail_goes_over_smtp_when_a_server_is_configured(smtp_server, tmp_path) -> None:
    controller, inbox = smtp_server
    app = make_test_app(
        "sqlite://", tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_STARTTLS=False
    )
    with app.app_context():
        send(LETTER)
    assert len(inbox.messages) == 1
    received = inbox.messages[0]
    assert received["To"] == "lucia@example.es"
    assert received["Content-Language"] == "es"
    parsed = email.message_from_bytes(received.as_bytes(), policy=policy.default)
    assert str(parsed["Subject"]) == "Confirme su dirección de correo"
    assert parsed.get_body(("plain",)).get_content().strip().startswith("Abra este enlace")
    assert "este enlace</a>" in parsed.get_body(("html",)).get_content()
    assert not (tmp_path / "mail").exists()


def test_mail_is_written_to_files_in_the_embedded_mode(tmp_path) -> None:
    app = make_test_app("sqlite://", tmp_path)
    with app.app_context():
        send(LETTER)
        send(LETTER)
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 2
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert str(parsed["Subject"]) == "Confirme su dirección de correo"
    assert parsed["Auto-Submitted"] == "auto-generated"
