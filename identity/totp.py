"""Authenticator-app codes (TOTP, RFC 6238) through pyotp.

- 6 digits every 30 s: what every authenticator app supports by default.
- One step either side is accepted, because typing a code takes time and
  phone clocks drift (the same window as PyPI's warehouse).
- A code is accepted once: the step it matched is stored and any code for
  that step or an earlier one is refused (``ReusedCodeError``), so a code
  seen over someone's shoulder cannot be replayed.
- A code that would match within ten minutes of skew is still refused, but
  raises ``ClockSkewError`` with the offset, so the page can tell the citizen
  to correct their phone's clock instead of "wrong code".
- The secret is 160 bits (RFC 4226's recommendation), encrypted at rest by
  the caller with ``identity.encryption``.
"""

from __future__ import annotations

import hmac
import time
import unicodedata
from dataclasses import dataclass

import pyotp
import segno

DIGITS = 6
STEP_SECONDS = 30
WINDOW_STEPS = 1
SKEW_SEARCH_STEPS = 20  # ten minutes each way
ISSUER = "Portal Ciudadano"


class InvalidCodeError(ValueError):
    """The code is not the current one."""


class MalformedCodeError(InvalidCodeError):
    """Not six digits (after removing spaces)."""


class ReusedCodeError(InvalidCodeError):
    """The code (or a later one) was already used."""


class ClockSkewError(InvalidCodeError):
    """The code belongs to another time: the device's clock is off by ``seconds``."""

    def __init__(self, seconds: int) -> None:
        super().__init__(f"clock skew of {seconds} s")
        self.seconds = seconds


@dataclass(frozen=True)
class AcceptedCode:
    #: The time step the code matched; store it to refuse replays.
    step: int


def new_secret() -> str:
    return pyotp.random_base32(length=32)


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


def provisioning_uri(secret: str, account_name: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account_name, issuer_name=ISSUER
    )


def qr_svg(uri: str, title: str) -> str:
    """The ``otpauth://`` URI as an inline SVG QR code (no image request, no inline style)."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=4, title=title, omitsize=False)


def current_code(secret: str, at: float | None = None) -> str:
    """The code an authenticator app shows now (for tests and for the demo data)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).at(at or time.time())


def ascii_digits(code: str) -> str:
    """Drop spaces and read any script's digits as ASCII: an Arabic keyboard types ١٢٣."""
    return "".join(
        str(unicodedata.decimal(char)) if char.isdecimal() else char
        for char in code
        if not char.isspace()
    )


def verify(secret: str, code: str, last_step: int | None, at: float | None = None) -> AcceptedCode:
    """Accept ``code`` if it is this step's or a neighbour's, and newer than ``last_step``."""
    code = ascii_digits(code)
    if len(code) != DIGITS or not (code.isascii() and code.isdigit()):
        raise MalformedCodeError(code)
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    now = time.time() if at is None else at
    current = int(now // STEP_SECONDS)
    matched = None
    for offset in range(-WINDOW_STEPS, WINDOW_STEPS + 1):
        if hmac.compare_digest(totp.at((current + offset) * STEP_SECONDS), code):
            matched = current + offset
    if matched is None:
        for offset in range(-SKEW_SEARCH_STEPS, SKEW_SEARCH_STEPS + 1):
            if abs(offset) > WINDOW_STEPS and hmac.compare_digest(
                totp.at((current + offset) * STEP_SECONDS), code
            ):
                raise ClockSkewError(offset * STEP_SECONDS)
        raise InvalidCodeError(code)
    if last_step is not None and matched <= last_step:
        raise ReusedCodeError(code)
    return AcceptedCode(step=matched)
