"""Email: what a message is, how it is written, and the two ways it leaves.

Infrastructure like ``extensions`` (identity and procedures may import it). Every message
has a plain-text part and an HTML part, both written by the caller in the citizen's
language. Callers never send: they hand the message to ``portal.outbox``, in the
transaction of what caused it, and the outbox's worker leaves through a
:class:`Transport` here: SMTP when ``SMTP_HOST`` is set, else ``.eml`` files in
``instance/mail/`` (the embedded mode).

A transport tells apart a refusal that will not change (the server says the recipient
does not exist: 5xx) from one that may (the server is down, busy, or answered 4xx), so
the outbox gives up on the first at once and tries the second again later.
"""

from __future__ import annotations

import re
import secrets
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any, Protocol

from flask import current_app, has_request_context, url_for

#: Seconds smtplib waits for each step (connect, each command): bounded, so one hung server
#: cannot hold a worker longer than the outbox's lease.
SMTP_TIMEOUT = 10
#: What an error's text keeps: addresses are blanked (logs and the outbox hold no one's).
ERROR_LENGTH = 200
_ADDRESS = re.compile(r"[^\s<>@\"',;:()]+@[^\s<>@\"',;:()]+")


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
    the request's Host header (which an attacker can set). Works outside a request too (the
    worker's reminders), on a request context made from ``PUBLIC_URL``."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    if has_request_context():
        return base + url_for(endpoint, **values)
    with current_app.test_request_context(base_url=base):
        return base + url_for(endpoint, **values)


def new_message_id(sender: str) -> str:
    """A Message-ID of our domain, made once per email: retries send it unchanged, so a
    receiver that already has it can drop the copy."""
    return make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or "portal.example")


def build_message(
    email: Email, sender: str, message_id: str, date: datetime | None = None
) -> EmailMessage:
    """The whole message; ``as_bytes()`` gives it as it goes on the wire (CRLF line ends),
    which the outbox keeps so that every attempt sends the same bytes."""
    message = EmailMessage(policy=policy.SMTPUTF8 if not email.to.isascii() else policy.SMTP)
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = format_datetime(date or datetime.now(UTC))
    message["Message-ID"] = message_id
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


class DeliveryError(Exception):
    """The message did not leave.

    ``permanent``: the server refused it for good (5xx: no such recipient, message
    rejected); sending it again would be refused again. ``unreachable``: the server could
    not be reached, dropped the connection or refused us (not this message): the next
    messages would fail the same way, so the caller stops for now. ``reason`` names the
    error class and the server's code and words, with any address blanked."""

    def __init__(self, reason: str, permanent: bool = False, unreachable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.unreachable = unreachable


def describe(error: BaseException) -> str:
    """An error as the outbox records it: no address, no longer than ``ERROR_LENGTH``."""
    text = type(error).__name__
    code = getattr(error, "smtp_code", None)
    words = getattr(error, "smtp_error", None)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in error.recipients.values()})
        text += " " + ",".join(str(code) for code in codes)
    elif code is not None:
        if isinstance(words, bytes):
            words = words.decode("utf-8", "replace")
        text += f" {code} {words or ''}".rstrip()
    elif isinstance(error, OSError) and error.strerror:
        text += f" {error.strerror}"
    elif str(error):
        text += f" {error}"
    return _ADDRESS.sub("…", text)[:ERROR_LENGTH]


class Transport(Protocol):
    def send(self, content: bytes, recipient: str) -> None:
        """Hand one message over; raise :class:`DeliveryError` when it did not leave."""

    def close(self) -> None: ...


class SmtpTransport:
    """One connection for a batch, opened at the first message and opened again after the
    server drops it."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.envelope_sender = parseaddr(config["MAIL_FROM"])[1]
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        smtp = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=SMTP_TIMEOUT)
        try:
            if config["SMTP_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["SMTP_USERNAME"]:
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, content: bytes, recipient: str) -> None:
        options = [] if recipient.isascii() else ["SMTPUTF8", "BODY=8BITMIME"]
        try:
            if self.connection is None:
                self.connection = self._connect()
            self.connection.sendmail(
                self.envelope_sender, [recipient], content, mail_options=options
            )
        except smtplib.SMTPRecipientsRefused as error:
            permanent = all(code >= 500 for code, _ in error.recipients.values())
            self._reset()
            raise DeliveryError(describe(error), permanent=permanent) from error
        except smtplib.SMTPDataError as error:
            self._reset()
            raise DeliveryError(describe(error), permanent=error.smtp_code >= 500) from error
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as error:
            # Refused, timed out, dropped: possibly after the server took the message (an
            # ambiguous failure). The retry carries the same Message-ID (see portal.outbox).
            self.close()
            raise DeliveryError(describe(error), unreachable=True) from error
        except smtplib.SMTPException as error:
            # The sender refused, authentication failed, the server answered 4xx: nothing
            # to do with this message, and the next ones would fare the same; later.
            self.close()
            raise DeliveryError(describe(error), unreachable=True) from error

    def _reset(self) -> None:
        """After a refused message the connection stays usable: clear the transaction."""
        if self.connection is not None:
            try:
                self.connection.rset()
            except (smtplib.SMTPException, OSError):
                self.close()

    def close(self) -> None:
        if self.connection is None:
            return
        connection, self.connection = self.connection, None
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()


class FileTransport:
    """The embedded mode: one ``.eml`` file per message, named so that ``ls`` lists them in
    the order they were sent, with the line ends of a local file (LF, not the wire's CRLF)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, content: bytes, recipient: str) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            path = self.directory / f"{stamp}-{secrets.token_hex(4)}.eml"
            path.write_bytes(content.replace(b"\r\n", b"\n"))
        except OSError as error:
            raise DeliveryError(describe(error), unreachable=True) from error

    def close(self) -> None:
        pass


@contextmanager
def transport() -> Iterator[Transport]:
    """The configured way out, closed (SMTP ``QUIT``) when the batch is done."""
    config = current_app.config
    way: Transport
    if config["SMTP_HOST"]:
        way = SmtpTransport(config)
    else:
        way = FileTransport(Path(config["MAIL_FILE_DIR"]))
    try:
        yield way
    finally:
        way.close()
