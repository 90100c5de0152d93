"""The provider's signing keys: RS256 (every client can verify it) and ES256 (ten times faster).

Keys live in ``oidc_signing_keys``, their private halves encrypted. Parsing an
RSA key costs tens of milliseconds, so each process parses a key once, the
first time it needs it, and keeps it (``app.extensions["oidc_keys"]``); a
request only reads the key rows' small columns to learn which key signs now.

Rotation (``flask --app wsgi oidc rotate-keys``): the new key is published at
once but only signs from ``PUBLISH_AHEAD`` later, so clients that cache the
JWKS for up to that long already hold it when its first token arrives; the key
it replaces stays published for ``TOKEN_LIFETIME`` after its last signature.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from joserfc import jwt
from joserfc.jwk import ECKey, Key, KeySet, RSAKey
from sqlalchemy import select

from identity import encryption
from identity.models import utcnow
from identity.oidc.models import OidcSigningKey
from portal.extensions import db

ALGORITHMS = ("RS256", "ES256")
#: The JWKS document says clients may cache it this long (Cache-Control max-age).
JWKS_MAX_AGE = timedelta(hours=1)
PUBLISH_AHEAD = JWKS_MAX_AGE
#: The longest any signed token lives: ID tokens (logout tokens live less).
TOKEN_LIFETIME = timedelta(hours=1)


def _generate(alg: str) -> Key:
    if alg == "RS256":
        return RSAKey.generate_key(2048, private=True)
    if alg == "ES256":
        return ECKey.generate_key("P-256", private=True)
    raise ValueError(f"unsupported algorithm {alg!r}")


def create(alg: str, signs_from: datetime) -> OidcSigningKey:
    """A new key for ``alg``, published now, signing from ``signs_from``. The caller commits."""
    key = _generate(alg)
    kid = f"{alg.lower()}-{signs_from:%Y%m%d}-{secrets.token_hex(4)}"
    public = {**key.as_dict(private=False), "kid": kid, "alg": alg, "use": "sig"}
    row = OidcSigningKey(
        kid=kid,
        alg=alg,
        private_key_encrypted=encryption.encrypt(key.as_pem(private=True).decode()),
        public_jwk=public,
        signs_from=signs_from,
    )
    db.session.add(row)
    return row


def _rows(now: datetime) -> list[OidcSigningKey]:
    rows = db.session.scalars(select(OidcSigningKey).order_by(OidcSigningKey.signs_from))
    return [row for row in rows if row.unpublish_at is None or row.unpublish_at > now]


def ensure(now: datetime | None = None) -> list[OidcSigningKey]:
    """One signing key per algorithm, created on first use (a fresh install needs no step)."""
    now = now or utcnow()
    rows = _rows(now)
    for alg in ALGORITHMS:
        if not any(row.alg == alg for row in rows):
            rows.append(create(alg, signs_from=now))
    db.session.flush()
    return rows


def rotate(now: datetime | None = None) -> list[OidcSigningKey]:
    """A successor for every algorithm; the keys it replaces unpublish once their tokens expire."""
    now = now or utcnow()
    current = ensure(now)
    created = []
    for alg in ALGORITHMS:
        successor = create(alg, signs_from=now + PUBLISH_AHEAD)
        for row in current:
            if row.alg == alg and row.unpublish_at is None:
                row.unpublish_at = successor.signs_from + TOKEN_LIFETIME
        created.append(successor)
    db.session.flush()
    return created


def jwks(now: datetime | None = None) -> dict[str, Any]:
    """The public keys clients verify with: every published key, signing or not yet."""
    return {"keys": [row.public_jwk for row in ensure(now or utcnow())]}


def _parsed(row: OidcSigningKey) -> Key:
    cache: dict[str, Key] = current_app.extensions.setdefault("oidc_keys", {})
    key = cache.get(row.kid)
    if key is None:
        pem = encryption.decrypt(row.private_key_encrypted)
        importer = RSAKey if row.alg == "RS256" else ECKey
        key = importer.import_key(pem, {"kid": row.kid, "alg": row.alg, "use": "sig"})
        cache[row.kid] = key
    return key


def signing_key(alg: str, now: datetime | None = None) -> Key:
    """The key that signs with ``alg`` now: the newest whose ``signs_from`` has come."""
    now = now or utcnow()
    ready = [row for row in ensure(now) if row.alg == alg and row.signs_from <= now]
    if not ready:
        raise LookupError(f"no {alg} key signs yet")
    return _parsed(ready[-1])


def sign(claims: dict[str, Any], alg: str = "RS256", typ: str = "JWT") -> str:
    key = signing_key(alg)
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": typ}, claims, key, algorithms=[alg])


def public_key_set(now: datetime | None = None) -> KeySet:
    """Our own published keys, to check tokens we signed (``id_token_hint``)."""
    return KeySet.import_key_set(jwks(now))  # type: ignore[arg-type]
