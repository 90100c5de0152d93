"""Second factors and passkeys: adding, checking, renaming and removing them, and recovery codes.

Each check goes through ``identity.throttle`` (10 wrong codes for an account
in 10 minutes, and the daily ceiling), records the event the citizen sees in
their security history, and reports what the check proved as an assurance
level and RFC 8176 methods, for the session and the OpenID Connect provider.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from identity import encryption, events, recovery, throttle, totp
from identity.events import EventKind
from identity.models import Account, Factor, FactorKind, RecoveryCode, utcnow
from identity.webauthn import NewCredential
from portal.extensions import db

WEBAUTHN_KINDS = (FactorKind.PASSKEY, FactorKind.SECURITY_KEY)


class FactorNameError(ValueError):
    """The name is empty or already used for another of the account's methods."""


@dataclass(frozen=True)
class Assurance:
    #: NIST SP 800-63B authenticator assurance level reached.
    aal: int
    #: RFC 8176 authentication method references.
    amr: list[str]


def assurance(factor: Factor | None, with_password: bool) -> Assurance:
    """What a sign-in proved. A device-bound WebAuthn key is phishing-resistant
    and hardware-held (AAL3); a synced passkey, a code app or a recovery code is AAL2."""
    methods = ["pwd"] if with_password else []
    if factor is None:  # a recovery code
        return Assurance(2, sorted({*methods, "mfa", "otp"}))
    if factor.kind == FactorKind.TOTP:
        return Assurance(2, sorted({*methods, "mfa", "otp"}))
    key = "swk" if factor.backup_eligible else "hwk"
    if factor.kind == FactorKind.PASSKEY:
        methods += ["user"]
    return Assurance(2 if factor.backup_eligible else 3, sorted({*methods, "mfa", key}))


def clean_name(account: Account, name: str, factor: Factor | None = None) -> str:
    name = " ".join(name.split())[:100]
    if not name:
        raise FactorNameError("empty")
    if any(f.name.casefold() == name.casefold() for f in account.factors if f is not factor):
        raise FactorNameError("taken")
    return name


def has_second_factor(account: Account) -> bool:
    return bool(account.factors)


def add_totp(account: Account, secret: str, code: str, name: str) -> Factor:
    """Enrol an authenticator app once the citizen has typed a code from it.

    Raises ``totp.InvalidCodeError`` (or a subclass) for a wrong code,
    ``TooManyAttemptsError`` when the code limit is used up.
    """
    counters = throttle.code_attempts(account.email)
    throttle.check(counters)
    try:
        accepted = totp.verify(secret, code, None)
    except totp.InvalidCodeError:
        throttle.fail(counters)
        raise
    factor = Factor(
        kind=FactorKind.TOTP,
        name=clean_name(account, name),
        totp_secret_encrypted=encryption.encrypt(secret),
        totp_last_step=accepted.step,
    )
    account.factors.append(factor)
    db.session.flush()
    events.record(account, EventKind.FACTOR_ADDED, method=str(FactorKind.TOTP), name=factor.name)
    return factor


def add_webauthn(
    account: Account, kind: FactorKind, credential: NewCredential, name: str
) -> Factor:
    factor = Factor(
        kind=kind,
        name=clean_name(account, name),
        credential_id=credential.credential_id,
        public_key=credential.public_key,
        sign_count=credential.sign_count,
        transports=credential.transports,
        backup_eligible=credential.backup_eligible,
        backup_state=credential.backup_state,
    )
    account.factors.append(factor)
    db.session.flush()
    events.record(account, EventKind.FACTOR_ADDED, method=str(kind), name=factor.name)
    return factor


def check_totp(account: Account, code: str) -> Factor:
    """The app factor that ``code`` came from, marked used; raises like ``totp.verify``."""
    counters = throttle.code_attempts(account.email)
    throttle.check(counters)
    skew: totp.ClockSkewError | None = None
    reused: totp.ReusedCodeError | None = None
    for factor in account.factors_of(FactorKind.TOTP):
        secret = encryption.decrypt(factor.totp_secret_encrypted or "")
        try:
            accepted = totp.verify(secret, code, factor.totp_last_step)
        except totp.MalformedCodeError:
            raise
        except totp.ClockSkewError as error:
            skew = error
            continue
        except totp.ReusedCodeError as error:
            reused = error
            continue
        except totp.InvalidCodeError:
            continue
        factor.totp_last_step = accepted.step
        factor.last_used_at = utcnow()
        return factor
    throttle.fail(counters)
    events.record(account, EventKind.CODE_FAILED, method="totp")
    raise reused or skew or totp.InvalidCodeError(code)


def use_recovery_code(account: Account, code: str) -> int:
    """Burn the recovery code; returns how many are left. Raises ``InvalidCodeError``."""
    counters = throttle.code_attempts(account.email)
    throttle.check(counters)
    unused = {row.id: row.code_hash for row in account.unused_recovery_codes()}
    try:
        found = recovery.find(code, unused)
    except recovery.MalformedRecoveryCodeError:
        found = None
    if found is None:
        throttle.fail(counters)
        events.record(account, EventKind.CODE_FAILED, method="recovery_code")
        raise totp.InvalidCodeError(code)
    row = db.session.get(RecoveryCode, found)
    if row is not None:
        row.used_at = utcnow()
    left = len(unused) - 1
    events.record(account, EventKind.RECOVERY_CODE_USED, left=left)
    return left


def new_recovery_codes(account: Account) -> list[str]:
    """Ten new codes replace any old ones; the plain codes are returned once, to show."""
    codes = recovery.generate()
    db.session.execute(RecoveryCode.__table__.delete().where(RecoveryCode.account_id == account.id))
    db.session.expire(account, ["recovery_codes"])
    for code in codes:
        db.session.add(RecoveryCode(account_id=account.id, code_hash=recovery.hash_code(code)))
    db.session.flush()
    events.record(account, EventKind.RECOVERY_CODES_CREATED, count=len(codes))
    return codes


def find_webauthn(credential_id: bytes) -> Factor | None:
    return db.session.scalar(select(Factor).where(Factor.credential_id == credential_id))


def rename(factor: Factor, name: str) -> None:
    old = factor.name
    factor.name = clean_name(factor.account, name, factor)
    events.record(factor.account, EventKind.FACTOR_RENAMED, old=old, name=factor.name)


def is_last(factor: Factor) -> bool:
    """Removing it would leave the account without a second factor."""
    return len(factor.account.factors) <= 1


def remove(factor: Factor) -> None:
    account = factor.account
    events.record(account, EventKind.FACTOR_REMOVED, method=factor.kind, name=factor.name)
    account.factors.remove(factor)
    db.session.flush()
