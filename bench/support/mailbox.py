"""An SMTP server that a fault benchmark can switch off and on again, keeping every
message it accepted: when, to whom, with which Message-ID and subject.

The portal's worker sends to it as to any mail server. Switched off, its port refuses
connections as a mail server that is down does; switched on again, it listens on the same
port, so the worker finds it where it left it. Counting arrivals by Message-ID tells a
lost email (none) from a duplicate (two), and the arrival times tell how long each waited.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from typing import Any

from aiosmtpd.controller import Controller

from bench.support.stack import free_port


@dataclass(frozen=True)
class Arrival:
    """One message as the server accepted it."""

    #: ``time.monotonic()`` when its DATA was accepted.
    at: float
    recipients: tuple[str, ...]
    message_id: str
    subject: str


class Mailbox:
    """Use as a ``with`` block (on while inside); ``stop()`` and ``start()`` in between."""

    def __init__(self) -> None:
        # aiosmtpd logs every SMTP command at INFO; the benchmark's output is its report.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.port = free_port()
        self._arrivals: list[Arrival] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        arrival = Arrival(
            time.monotonic(),
            tuple(envelope.rcpt_tos),
            str(message.get("Message-ID", "")).strip(),
            str(message.get("Subject", "")),
        )
        with self._lock:
            self._arrivals.append(arrival)
        return "250 OK"

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        # A busy machine may take more than aiosmtpd's default second to answer its own
        # readiness check.
        controller = Controller(self, hostname="127.0.0.1", port=self.port, ready_timeout=30)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Close the port and every open connection, as a mail server going down does."""
        if self._controller is not None:
            controller, self._controller = self._controller, None
            controller.stop()

    def arrivals(self) -> list[Arrival]:
        with self._lock:
            return list(self._arrivals)

    def __enter__(self) -> Mailbox:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
