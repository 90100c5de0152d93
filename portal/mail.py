"""Sending email: over SMTP when ``SMTP_HOST`` is set, else as ``.eml`` files in ``instance/mail/``.

Infrastructure like ``extensions`` (identity and procedures may import it).
Every message has a plain-text part and an HTML part, both written by the
caller in the citizen's language. Issue 8 puts an outbox in front of this, so
a request never waits on the mail server; ``send`` stays the one place that
talks SMTP.
"""

from __future__ import annotations

import secrets
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app, url_for


@dataclass(frozen=True)
class Attachment:
    filename: str
    #: "maintype/subtype", e.g. "text/calendar"
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str
    #: The language the message is written in, for the Content-Language header.
    language: str = "es"
    attachments: tuple[Attachment, ...] = ()


def public_url(endpoint: str, **values: object) -> str:
    """An absolute link for an email or a calendar entry: built on ``PUBLIC_URL``, never on
    the request's Host header (which an attacker can set)."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for(endpoint, **values)


def build_message(email: Email, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip(">"))
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to us
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    for attachment in email.attachments:
        maintype, subtype = attachment.content_type.split("/", 1)
        message.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    # After the content: set_content() drops any Content-* header set before it.
    message["Content-Language"] = email.language
    return message


def send(email: Email) -> None:
    config = current_app.config
    message = build_message(email, config["MAIL_FROM"])
    if config["SMTP_HOST"]:
        _send_smtp(message)
    else:
        _write_file(message, Path(config["MAIL_FILE_DIR"]))


def _send_smtp(message: EmailMessage) -> None:
    config = current_app.config
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=10) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(message)


def _write_file(message: EmailMessage, directory: Path) -> Path:
    """One file per message, named so that ``ls`` lists them in the order they were sent."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = directory / f"{stamp}-{secrets.token_hex(4)}.eml"
    path.write_bytes(message.as_bytes())
    return path
