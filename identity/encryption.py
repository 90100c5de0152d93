"""Secrets at rest (TOTP secrets, national identifiers, OIDC private keys), with rotatable keys.

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) through
``MultiFernet``: the first key encrypts, every key decrypts, so a new key is
added in front, ``rotate`` re-encrypts stored values, and the old key is
removed once nothing uses it. Keys come from ``ENCRYPTION_KEYS`` (comma
separated, newest first) or, in the embedded mode, from a file generated once
in ``instance/``.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class UndecryptableError(ValueError):
    """The value was not encrypted with any key we hold, or was altered."""


def _box() -> MultiFernet:
    box = current_app.extensions.get("encryption")
    if box is None:  # parsed once per app, not per value
        keys = current_app.config["ENCRYPTION_KEYS"]
        box = MultiFernet([Fernet(key) for key in keys])
        current_app.extensions["encryption"] = box
    return box


def encrypt(plaintext: str) -> str:
    return _box().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _box().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise UndecryptableError("cannot decrypt with the configured keys") from error


def rotate(token: str) -> str:
    """Re-encrypt with the newest key (run over stored values after adding a key)."""
    try:
        return _box().rotate(token.encode()).decode()
    except InvalidToken as error:
        raise UndecryptableError("cannot decrypt with the configured keys") from error


def new_key() -> str:
    return Fernet.generate_key().decode()
