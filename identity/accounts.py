"""Creating accounts and checking passwords: the rules, with no views attached.

Answers never tell whether an address has an account (no enumeration): a
second registration with a known address returns ``None`` and the caller shows
the same "check your email" page, sending the owner a notice instead; a wrong
password and an unknown address fail the same way and take the same time.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import delete, select

from identity import events, passwords, signals, throttle
from identity.events import EventKind
from identity.models import Account, AccountSession, CitizenAttribute, SecurityEvent, utcnow
from portal.extensions import db


class InvalidCredentialsError(Exception):
    """Wrong email or password: deliberately not saying which."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> Account | None:
    return db.session.scalar(select(Account).where(Account.email == normalise_email(email)))


def create_account(email: str, password: str, language: str) -> Account | None:
    """A new, unverified account; ``None`` when the address already has one.

    Raises ``PasswordRejectedError`` first, so the password rules are checked
    the same way whether or not the address is known.
    """
    email = normalise_email(email)
    passwords.check_password_rules(password, context=(email,))
    if find_by_email(email) is not None:
        passwords.spend_equal_time(password)  # the same ~25 ms as hashing a new one
        return None
    account = Account(
        email=email,
        password_hash=passwords.hash_password(password),
        password_changed_at=utcnow(),
        language=language,
        webauthn_user_handle=secrets.token_bytes(32),
    )
    db.session.add(account)
    db.session.flush()
    events.record(account, EventKind.ACCOUNT_CREATED)
    return account


def mark_email_verified(account: Account) -> None:
    if account.email_verified_at is None:
        account.email_verified_at = utcnow()
        events.record(account, EventKind.EMAIL_VERIFIED)


def check_password(email: str, password: str, ip: str | None) -> Account:
    """The account these credentials open, or ``InvalidCredentialsError``.

    Raises ``TooManyAttemptsError`` before checking anything once the limits
    in ``identity.throttle`` are used up. A stored hash from an older argon2
    profile is replaced on success.
    """
    email = normalise_email(email)
    counters = throttle.password_attempts(email, ip)
    throttle.check(counters)
    account = find_by_email(email)
    if account is None or account.password_hash is None:
        passwords.spend_equal_time(password)
        throttle.fail(counters)
        raise InvalidCredentialsError
    result = passwords.verify_password(account.password_hash, password)
    if not result.ok or account.disabled_at is not None:
        throttle.fail(counters)
        events.record(account, EventKind.SIGN_IN_FAILED, reason="password")
        raise InvalidCredentialsError
    if result.new_hash:
        account.password_hash = result.new_hash
    for counter in counters:
        counter.clear()
    return account


def delete_account(account: Account, now: datetime | None = None) -> None:
    """Close the account for good; the caller commits.

    What is the citizen's alone goes: factors, recovery codes, sessions, security history,
    the attributes held about them, connected services, and (through ``account_closing``)
    drafts, upcoming appointments and notifications. What the administration must keep by
    law (submitted applications, documents issued, the record of who read their data)
    stays, pointing at the account row, which is kept as a pseudonym: no email, no
    password, no way to sign in. Keeping the row also means its id is never handed to a
    new account (SQLite reuses the highest id of a deleted row), so records can never
    drift to someone else. Explicit deletes rather than ``ON DELETE CASCADE``, which
    SQLite honours only with a pragma.
    """
    from identity.lookup import LookupTerm
    from identity.oidc.models import OidcAuthorizationCode, OidcConsent, OidcToken

    now = now or utcnow()
    signals.account_closing.send(account)
    for model in (
        OidcToken,
        OidcAuthorizationCode,
        OidcConsent,
        AccountSession,
        SecurityEvent,
        CitizenAttribute,
        LookupTerm,
    ):
        db.session.execute(delete(model).where(model.account_id == account.id))
    account.factors.clear()
    account.recovery_codes.clear()
    account.email = f"deleted-{secrets.token_hex(12)}@deleted.invalid"
    account.email_verified_at = None
    account.password_hash = None
    account.password_changed_at = None
    account.webauthn_user_handle = secrets.token_bytes(32)
    account.disabled_at = now
    account.deleted_at = now
    db.session.flush()
