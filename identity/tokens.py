"""Links sent by email (verify the address, reset the password): signed, expiring, single-use.

The token signs the account id and a fingerprint of the state the link is
meant to change (the address not yet verified; the current password hash).
Using the link changes that state, so the same link no longer matches: it is
single-use without a table of used tokens, and a password reset link dies
as soon as the password changes by any route.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from identity.models import Account
from portal.extensions import db

LIFETIMES = {
    "verify_email": timedelta(hours=24),
    "reset_password": timedelta(hours=1),
    # Sent to the new address; the fingerprint is the current address, so
    # the link dies if the address changes another way first.
    "change_email": timedelta(hours=24),
    # "This wasn't me" in a security notice: valid for a week, because a
    # citizen may read a notice days later; it dies once it has been used.
    "not_me": timedelta(days=7),
}


class TokenInvalidError(ValueError):
    """Not one of our links, altered, or already used."""


class TokenExpiredError(TokenInvalidError):
    """Ours and untouched, but too old."""


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"identity.{purpose}")


def _fingerprint(account: Account, purpose: str) -> str:
    if purpose == "verify_email":
        state = f"{account.email}|{account.email_verified_at}"
    elif purpose in ("reset_password", "not_me"):
        state = f"{account.email}|{account.password_hash}"
    elif purpose == "change_email":
        state = account.email
    else:
        raise ValueError(purpose)
    return hashlib.sha256(state.encode()).hexdigest()[:32]


def make(account: Account, purpose: str, **data: str) -> str:
    """A link token; ``data`` travels signed with it (the new address, for ``change_email``)."""
    return _serializer(purpose).dumps(
        {"a": account.id, "f": _fingerprint(account, purpose), **({"d": data} if data else {})}
    )


def read(token: str, purpose: str) -> Account:
    """The account the link is for, if the link is valid now; raises otherwise."""
    return read_data(token, purpose)[0]


def read_data(token: str, purpose: str) -> tuple[Account, dict[str, str]]:
    """Like ``read``, with the data signed into the token (the new address)."""
    max_age = int(LIFETIMES[purpose].total_seconds())
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise TokenExpiredError(purpose) from error
    except BadSignature as error:
        raise TokenInvalidError(purpose) from error
    account = db.session.get(Account, payload.get("a")) if isinstance(payload, dict) else None
    if account is None or payload.get("f") != _fingerprint(account, purpose):
        raise TokenInvalidError(purpose)
    return account, dict(payload.get("d") or {})
