"""The two ways an email leaves: a real SMTP server (aiosmtpd) when one is configured, and
files in the embedded mode; and how a transport tells a refusal for good from a failure
that may pass."""

from __future__ import annotations

import pytest

from portal import mail
from portal.mail import Email
from tests.conftest import make_test_app
from tests.support import mailbox
from tests.support.smtp import free_port, smtp  # noqa: F401 - the fixture

LETTER = Email(
    to="lucia@example.es",
    subject="Confirme su dirección de correo",
    text="Abra este enlace: https://localhost/es/",
    html="<p>Abra <a href='https://localhost/es/'>este enlace</a>.</p>",
    language="es",
)


def _wire(app, email: Email = LETTER) -> bytes:
    with app.app_context():
        sender = app.config["MAIL_FROM"]
        return mail.build_message(email, sender, mail.new_message_id(sender)).as_bytes()


def test_mail_goes_over_smtp_when_a_server_is_configured(smtp, tmp_path) -> None:  # noqa: F811
    app = make_test_app("sqlite://", tmp_path, **smtp.config())
    content = _wire(app)
    with app.app_context(), mail.transport() as way:
        way.send(content, LETTER.to)
        way.send(content, LETTER.to)  # one connection, two messages
    received = smtp.messages(LETTER.to)
    assert len(received) == 2
    assert received[0]["Content-Language"] == "es"
    assert received[0]["Auto-Submitted"] == "auto-generated"
    assert str(received[0]["Subject"]) == "Confirme su dirección de correo"
    assert received[0]["Message-ID"] == received[1]["Message-ID"]  # the same bytes, resent
    assert received[0].get_body(("plain",)).get_content().strip().startswith("Abra este enlace")
    assert "este enlace</a>" in received[0].get_body(("html",)).get_content()
    assert not (tmp_path / "mail").exists()


def test_mail_is_written_to_files_in_the_embedded_mode(tmp_path) -> None:
    app = make_test_app("sqlite://", tmp_path)
    with app.app_context(), mail.transport() as way:
        way.send(_wire(app), LETTER.to)
        way.send(_wire(app), LETTER.to)
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 2
    assert b"\r\n" not in files[0].read_bytes()  # a local file's line ends
    (first, _second) = mailbox.messages(app, LETTER.to)
    assert str(first["Subject"]) == "Confirme su dirección de correo"


def test_an_unknown_recipient_is_refused_for_good_and_the_connection_serves_the_next(
    smtp,  # noqa: F811
    tmp_path,
) -> None:
    smtp.refused.add("nadie@example.es")
    app = make_test_app("sqlite://", tmp_path, **smtp.config())
    with app.app_context(), mail.transport() as way:
        with pytest.raises(mail.DeliveryError) as refused:
            way.send(_wire(app), "nadie@example.es")
        way.send(_wire(app), LETTER.to)
    assert refused.value.permanent and not refused.value.unreachable
    assert refused.value.reason == "SMTPRecipientsRefused 550"  # no address in it
    assert len(smtp.messages(LETTER.to)) == 1


def test_a_server_that_is_down_is_a_failure_that_may_pass(tmp_path) -> None:
    app = make_test_app(
        "sqlite://", tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS=False
    )
    with app.app_context(), mail.transport() as way, pytest.raises(mail.DeliveryError) as down:
        way.send(_wire(app), LETTER.to)
    assert down.value.unreachable and not down.value.permanent
    assert down.value.reason.startswith("ConnectionRefusedError")


def test_a_connection_dropped_after_the_message_is_not_known_to_have_failed(
    smtp,  # noqa: F811
    tmp_path,
) -> None:
    """The server took the message and the connection dropped before its answer: the
    sender cannot know, so it is a failure to try again (the outbox resends the same
    Message-ID)."""
    smtp.drop_after_data = 1
    app = make_test_app("sqlite://", tmp_path, **smtp.config())
    content = _wire(app)
    with app.app_context(), mail.transport() as way, pytest.raises(mail.DeliveryError) as dropped:
        way.send(content, LETTER.to)
    assert dropped.value.unreachable and not dropped.value.permanent
    assert len(smtp.messages(LETTER.to)) == 1


def test_errors_are_recorded_without_addresses() -> None:
    import smtplib

    error = smtplib.SMTPSenderRefused(553, b"5.7.1 <no-reply@portal.example> not allowed", "x")
    assert mail.describe(error) == "SMTPSenderRefused 553 5.7.1 <…> not allowed"
    assert len(mail.describe(OSError(5, "x" * 500))) == mail.ERROR_LENGTH


def test_links_in_emails_are_built_on_the_public_url_even_outside_a_request(tmp_path) -> None:
    app = make_test_app("sqlite://", tmp_path, PUBLIC_URL="https://portal.example")
    with app.app_context():
        assert mail.public_url("pages.contact", lang="eu") == "https://portal.example/eu/contact"
