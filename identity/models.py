"""Identity tables: accounts, their factors, recovery codes, sessions and security events.

Secrets never sit in clear: passwords are argon2id hashes, TOTP secrets are
encrypted (``identity.encryption``), recovery codes are SHA-256 hashes, and a
session row stores the SHA-256 of the cookie, never the cookie itself.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

# UTCDateTime and utcnow live with the database; models everywhere import them from here.
from portal.extensions import UTCDateTime, db, utcnow


class FactorKind(enum.StrEnum):
    TOTP = "totp"
    #: WebAuthn credential used as a second factor after the password.
    SECURITY_KEY = "security_key"
    #: Discoverable WebAuthn credential with user verification: signs in alone.
    PASSKEY = "passkey"


class Account(UserMixin, db.Model):  # type: ignore[name-defined]
    """A citizen's account. Flask-Login reads ``is_active`` and ``get_id`` from it."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-cased, so one address is one account whatever its capitals.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    language: Mapped[str] = mapped_column(String(5), default="es")
    #: IANA zone for the times the citizen reads (security history, emails).
    time_zone: Mapped[str] = mapped_column(
        String(64), default="Europe/Madrid", server_default="Europe/Madrid"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Closed by the citizen: the row stays, emptied, as the pseudonym kept records point at.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Random handle given to WebAuthn authenticators instead of the database id (WebAuthn §14.6.1).
    webauthn_user_handle: Mapped[bytes] = mapped_column(LargeBinary(64), unique=True)

    factors: Mapped[list[Factor]] = relationship(
        back_populates="account", cascade="all, delete-orphan", order_by="Factor.id"
    )
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="account", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None and self.email_verified_at is not None

    def factors_of(self, *kinds: str) -> list[Factor]:
        return [factor for factor in self.factors if factor.kind in kinds]

    def unused_recovery_codes(self) -> list[RecoveryCode]:
        return [code for code in self.recovery_codes if code.used_at is None]


class Factor(db.Model):  # type: ignore[name-defined]
    """A second factor or a passkey; an account may hold several of each, each with a name."""

    __tablename__ = "factors"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # TOTP
    totp_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    totp_last_step: Mapped[int | None]
    # WebAuthn
    credential_id: Mapped[bytes | None] = mapped_column(LargeBinary(1023), unique=True)
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    sign_count: Mapped[int | None]
    transports: Mapped[list[str] | None] = mapped_column(JSON)
    backup_eligible: Mapped[bool | None]
    backup_state: Mapped[bool | None]

    account: Mapped[Account] = relationship(back_populates="factors")

    __table_args__ = (Index("ix_factors_account_id", "account_id"),)


class RecoveryCode(db.Model):  # type: ignore[name-defined]
    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    account: Mapped[Account] = relationship(back_populates="recovery_codes")

    __table_args__ = (Index("ix_recovery_codes_account_id", "account_id"),)


class AccountSession(db.Model):  # type: ignore[name-defined]
    """A signed-in browser. The cookie holds a random id; the row holds its SHA-256."""

    __tablename__ = "account_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    #: Assurance level reached (NIST 800-63B AAL): 1 password, 2 MFA, 3 phishing-resistant.
    aal: Mapped[int] = mapped_column(default=1)
    #: Authentication methods references (RFC 8176): pwd, otp, hwk, swk, mfa, user.
    amr: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: When the citizen last proved who they are (for "re-authenticate within 15 minutes").
    authenticated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_account_sessions_account_id", "account_id"),)


class SecurityEvent(db.Model):  # type: ignore[name-defined]
    """One line of the citizen's security history (sign-ins, failures, factor changes...)."""

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (
        Index("ix_security_events_account_id_occurred_at", "account_id", "occurred_at"),
    )


class CitizenAttribute(db.Model):  # type: ignore[name-defined]
    """One thing the administration holds about a citizen, with where it came from and when.

    Procedures fill their forms from these (Ley 39/2015 art. 28: the citizen is not asked
    for what we already hold); the personal folder shows them. Values are encrypted: they
    include the national identifier, the birth date and the home address.
    """

    __tablename__ = "citizen_attributes"
    __table_args__ = (Index("uq_citizen_attribute", "account_id", "name", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(40))
    #: JSON of the value, encrypted (``identity.encryption``).
    value_encrypted: Mapped[str] = mapped_column(Text)
    #: Key of ``identity.record.SOURCES``: who told us.
    source: Mapped[str] = mapped_column(String(40))
    verified: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
