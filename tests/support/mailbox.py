"""Read the emails the portal wrote to ``instance/mail/`` (the embedded mode's mail server),
and send what waits in the outbox first, as the worker would."""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask

LINK = re.compile(r"https?://\S+")


def deliver(app: Flask) -> int:
    """Send every email due in the outbox, as ``flask --app wsgi worker`` does; how many."""
    from portal import outbox

    with app.app_context():
        return outbox.deliver_due(batch=10_000).sent


def messages(app: Flask, to: str | None = None) -> list[EmailMessage]:
    directory = Path(app.config["MAIL_FILE_DIR"])
    found = []
    for path in sorted(directory.glob("*.eml")) if directory.exists() else []:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        if to is None or message["To"] == to:
            found.append(message)
    return found


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def link_in(message: EmailMessage, contains: str) -> str:
    """The path (and query) of the first link in the text part that contains ``contains``."""
    for url in LINK.findall(text_of(message)):
        if contains in url:
            parts = urlsplit(url)
            return parts.path + (f"?{parts.query}" if parts.query else "")
    raise AssertionError(f"no link with {contains!r} in:\n{text_of(message)}")


def last(app: Flask, to: str) -> EmailMessage:
    found = messages(app, to)
    assert found, f"no email to {to}"
    return found[-1]
