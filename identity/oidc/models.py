"""OpenID Connect tables: clients, signing keys, codes, tokens, consents and spent assertions.

Every bearer secret is stored as its SHA-256, never in clear: client secrets,
authorization codes, access and refresh tokens. They are 256-bit random
values, so a fast hash is enough (a slow one like argon2 protects guessable
passwords, not random keys) and a copy of the database grants nothing.
Private signing keys are encrypted (``identity.encryption``).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from identity.models import UTCDateTime, utcnow
from portal.extensions import db


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class OidcClient(db.Model):  # type: ignore[name-defined]
    """An agency's site or app. Authlib reads it through the ``ClientMixin`` methods below."""

    __tablename__ = "oidc_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    #: The agency as the citizen reads it on the consent screen.
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    #: client_secret_basic, client_secret_post, private_key_jwt or none (public app + PKCE).
    auth_method: Mapped[str] = mapped_column(String(30))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(2000))
    #: Clients of one sector (one agency) see the same pairwise ``sub`` for a citizen.
    sector: Mapped[str] = mapped_column(String(255))
    #: "pairwise" (the default) or "public": the same ``sub`` for every client.
    subject_type: Mapped[str] = mapped_column(String(10), default="pairwise")
    id_token_alg: Mapped[str] = mapped_column(String(10), default="RS256")
    #: The client's public keys for private_key_jwt, as a JWK Set.
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Authlib's ClientMixin, spelt out (the mixin only raises NotImplementedError).
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # OpenID Connect requires redirect_uri in every request

    def get_allowed_scope(self, scope: str) -> str:
        asked = (scope or "").split()
        return " ".join(item for item in dict.fromkeys(asked) if item in self.scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Exact string match only: no prefix, no wildcard, no normalisation (RFC 9700 §4.1.3)."""
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        if self.secret_hash is None:
            return False
        return hmac.compare_digest(digest(client_secret), self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.auth_method == "private_key_jwt":
            return method == "client_assertion_jwt" or method == "private_key_jwt"
        return method == self.auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


class OidcSigningKey(db.Model):  # type: ignore[name-defined]
    """A key that signs ID tokens and logout tokens. Rotation: a new key is published
    (``signs_from`` in the future) before it signs; the one it replaces stays published
    until the last token it signed has expired (``unpublish_at``)."""

    __tablename__ = "oidc_signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    alg: Mapped[str] = mapped_column(String(10))
    #: PEM, encrypted with ``identity.encryption``.
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    signs_from: Mapped[datetime] = mapped_column(UTCDateTime())
    unpublish_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OidcAuthorizationCode(db.Model):  # type: ignore[name-defined]
    """A code handed to the client's redirect URI: 60 seconds, one use."""

    __tablename__ = "oidc_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oidc_clients.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("account_sessions.id", ondelete="SET NULL")
    )
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    scope: Mapped[str] = mapped_column(String(500))
    nonce: Mapped[str | None] = mapped_column(String(255))
    code_challenge: Mapped[str] = mapped_column(String(128))
    auth_time: Mapped[int]
    acr: Mapped[str] = mapped_column(String(100))
    amr: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client: Mapped[OidcClient] = relationship()

    __table_args__ = (Index("ix_oidc_codes_client_nonce", "client_pk", "nonce"),)

    # Authlib's AuthorizationCodeMixin and the OpenID Connect extension read these.
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str:
        return self.acr

    def get_amr(self) -> list[str]:
        return self.amr


class OidcToken(db.Model):  # type: ignore[name-defined]
    """An access token (10 minutes) and, with ``offline_access``, a refresh token.

    Refreshing spends the refresh token and issues a new pair in the same
    ``family`` (the code it descends from); presenting a spent refresh token
    again means it was stolen, so the whole family is revoked (RFC 9700 §4.14.2).
    """

    __tablename__ = "oidc_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oidc_clients.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("account_sessions.id", ondelete="SET NULL")
    )
    #: The authorization code that started this chain of tokens.
    code_id: Mapped[int | None] = mapped_column(
        ForeignKey("oidc_codes.id", ondelete="SET NULL"), index=True
    )
    family: Mapped[str] = mapped_column(String(32), index=True)
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(500))
    auth_time: Mapped[int]
    acr: Mapped[str] = mapped_column(String(100))
    amr: Mapped[list[str]] = mapped_column(JSON, default=list)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    access_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When its refresh token was exchanged for a new pair.
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client: Mapped[OidcClient] = relationship()

    __table_args__ = (Index("ix_oidc_tokens_account_client", "account_id", "client_pk"),)

    # Authlib's TokenMixin.
    def check_client(self, client: OidcClient) -> bool:
        return self.client_pk == client.id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int((self.access_expires_at - self.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return utcnow() >= self.access_expires_at

    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class OidcConsent(db.Model):  # type: ignore[name-defined]
    """What a citizen agreed to share with one client, and whether to ask again next time."""

    __tablename__ = "oidc_consents"
    __table_args__ = (UniqueConstraint("account_id", "client_pk", name="uq_oidc_consent"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    client_pk: Mapped[int] = mapped_column(ForeignKey("oidc_clients.id", ondelete="CASCADE"))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: "Remember this choice": next time the same scopes go through without asking.
    remembered: Mapped[bool] = mapped_column(default=False)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client: Mapped[OidcClient] = relationship()


class OidcSpentAssertion(db.Model):  # type: ignore[name-defined]
    """A private_key_jwt ``jti`` already used: the unique key refuses its replay."""

    __tablename__ = "oidc_spent_assertions"
    __table_args__ = (UniqueConstraint("client_pk", "jti", name="uq_oidc_spent_assertion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oidc_clients.id", ondelete="CASCADE"))
    jti: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
