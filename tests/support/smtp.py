"""A real SMTP server for tests (aiosmtpd), that can be stopped and started again on the
same port, refuse chosen recipients, and drop the connection after taking a message (the
ambiguous failure no sender can tell from a lost message)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:  # aiosmtpd cannot listen on port 0 itself
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[tuple[list[str], bytes]] = []
        #: Recipients answered "550 no such user" at RCPT.
        self.refused: set[str] = set()
        #: How many next messages are taken, then answered by closing the connection.
        self.drop_after_data = 0
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    # aiosmtpd's handler hooks
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refused:
            return f"550 5.1.1 <{address}>: no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.received.append((list(envelope.rcpt_tos), bytes(envelope.original_content)))
            if self.drop_after_data:
                self.drop_after_data -= 1
                server.transport.close()
        return "250 OK"

    def start(self) -> SmtpServer:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        with self._lock:
            found = list(self.received)
        return [
            message_from_bytes(content, policy=policy.default)  # type: ignore[misc]
            for recipients, content in found
            if to is None or to in recipients
        ]

    def config(self) -> dict[str, object]:
        """What a test app needs to send here, as the worker does in production."""
        return {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": self.port,
            "SMTP_STARTTLS": False,
            "OUTBOX_SEND_AFTER_REQUEST": False,
        }


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()
