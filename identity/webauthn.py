"""WebAuthn (passkeys and security keys) through py_webauthn, behind our own small API.

- Options are generated on the server; the challenge is kept in the signed
  session cookie and is single-use: finishing a ceremony removes it from the
  session and also marks it spent in the shared rate-limit storage, so an old
  cookie replayed with an old response is refused too.
- ``rp_id`` and the accepted origins come from configuration
  (``WEBAUTHN_RP_ID``, ``WEBAUTHN_ORIGINS``), never from the request's Host.
- A *passkey* is a discoverable credential with user verification required:
  it signs in alone. A *security key* is a second factor after the password:
  user presence is enough, and it need not be discoverable.
- Registration excludes the account's existing credentials, so one
  authenticator is not registered twice. Sign counts are checked when the
  authenticator keeps one (many passkeys always report 0) and the backup
  flags are stored, so a synced passkey can be told from a device-bound key.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

from flask import current_app, session
from limits import parse
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from identity.models import Account, Factor, FactorKind
from portal.extensions import limiter

#: How long the browser may take, in milliseconds (WebAuthn's recommended range is 5 to 10 min
#: with user verification; 5 minutes lets a citizen find their key without hurry).
TIMEOUT_MS = 300_000
_SESSION_KEY = "webauthn"
_SPENT = parse("1 per 10 minutes")


class WebAuthnError(Exception):
    """The browser's answer was not accepted; ``reason`` says why, for the page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        #: expired (no challenge, or too old), invalid (failed verification),
        #: unknown_credential, user_not_verified, cloned (sign count went back).
        self.reason = reason


@dataclass(frozen=True)
class NewCredential:
    credential_id: bytes
    public_key: bytes
    sign_count: int
    transports: list[str]
    backup_eligible: bool
    backup_state: bool


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _rp_id() -> str:
    return current_app.config["WEBAUTHN_RP_ID"]


def _origins() -> list[str]:
    return list(current_app.config["WEBAUTHN_ORIGINS"])


def _remember(challenge: bytes, purpose: str, account: Account | None) -> None:
    session[_SESSION_KEY] = {
        "c": _b64(challenge),
        "p": purpose,
        "a": account.id if account is not None else None,
        "t": int(time.time()),
    }


def _take_challenge(purpose: str, account: Account | None) -> bytes:
    """The challenge issued for this purpose (and account), removed so it serves once."""
    stored = session.pop(_SESSION_KEY, None)
    if (
        not isinstance(stored, dict)
        or stored.get("p") != purpose
        or stored.get("a") != (account.id if account is not None else None)
        or time.time() - stored.get("t", 0) > TIMEOUT_MS / 1000 + 30
    ):
        raise WebAuthnError("expired")
    challenge = str(stored["c"])
    if not limiter.limiter.hit(_SPENT, "webauthn-challenge", challenge):
        raise WebAuthnError("expired")
    return _unb64(challenge)


def _descriptors(factors: list[Factor]) -> list[PublicKeyCredentialDescriptor]:
    descriptors = []
    for factor in factors:
        if factor.credential_id is None:
            continue
        transports = []
        for name in factor.transports or []:
            try:
                transports.append(AuthenticatorTransport(name))
            except ValueError:
                continue  # a transport newer than our library: the browser works without it
        descriptors.append(
            PublicKeyCredentialDescriptor(id=factor.credential_id, transports=transports or None)
        )
    return descriptors


def registration_options(account: Account, kind: FactorKind) -> str:
    """The JSON the browser passes to ``navigator.credentials.create``."""
    passkey = kind == FactorKind.PASSKEY
    options = generate_registration_options(
        rp_id=_rp_id(),
        rp_name=current_app.config["WEBAUTHN_RP_NAME"],
        user_id=account.webauthn_user_handle,
        user_name=account.email,
        user_display_name=account.email,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED
            if passkey
            else ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.REQUIRED
            if passkey
            else UserVerificationRequirement.DISCOURAGED,
        ),
        exclude_credentials=_descriptors(
            [factor for factor in account.factors if factor.credential_id is not None]
        ),
    )
    _remember(options.challenge, f"register:{kind}", account)
    return options_to_json(options)


def verify_registration(account: Account, kind: FactorKind, credential_json: str) -> NewCredential:
    challenge = _take_challenge(f"register:{kind}", account)
    try:
        credential = parse_registration_credential_json(credential_json)
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=_rp_id(),
            expected_origin=_origins(),
            require_user_verification=kind == FactorKind.PASSKEY,
        )
    except WebAuthnException as error:
        raise WebAuthnError(_reason(error)) from error
    transports = [str(getattr(t, "value", t)) for t in (credential.response.transports or [])]
    return NewCredential(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=transports,
        backup_eligible=str(getattr(verified.credential_device_type, "value", ""))
        == "multi_device",
        backup_state=bool(verified.credential_backed_up),
    )


def authentication_options(account: Account | None, kind: FactorKind) -> str:
    """Options for ``navigator.credentials.get``.

    With an account (second factor after the password, or re-authentication),
    its credentials are listed. Without one (sign in with a passkey alone),
    the list is empty, so the browser offers the discoverable credentials it
    holds for this site, and user verification is required.
    """
    allowed = []
    if account is not None:
        # A passkey step lists passkeys only; a second-factor step accepts any key.
        allowed = _descriptors(
            [
                f
                for f in account.factors
                if f.credential_id is not None and (kind != FactorKind.PASSKEY or f.kind == kind)
            ]
        )
    options = generate_authentication_options(
        rp_id=_rp_id(),
        timeout=TIMEOUT_MS,
        allow_credentials=allowed,
        user_verification=UserVerificationRequirement.REQUIRED
        if kind == FactorKind.PASSKEY
        else UserVerificationRequirement.DISCOURAGED,
    )
    _remember(options.challenge, f"authenticate:{kind}", account)
    return options_to_json(options)


def credential_id_of(credential_json: str) -> bytes:
    """The credential id the browser answered with, to find its factor."""
    try:
        return parse_authentication_credential_json(credential_json).raw_id
    except (WebAuthnException, ValueError, TypeError, KeyError) as error:
        raise WebAuthnError("invalid") from error


def user_handle_of(credential_json: str) -> bytes | None:
    try:
        return parse_authentication_credential_json(credential_json).response.user_handle
    except (WebAuthnException, ValueError, TypeError, KeyError) as error:
        raise WebAuthnError("invalid") from error


def verify_authentication(
    factor: Factor, credential_json: str, account: Account | None, kind: FactorKind
) -> None:
    """Check the assertion for ``factor`` and update its counters; raises ``WebAuthnError``."""
    challenge = _take_challenge(f"authenticate:{kind}", account)
    if factor.credential_id is None or factor.public_key is None:
        raise WebAuthnError("unknown_credential")
    try:
        verified = verify_authentication_response(
            credential=parse_authentication_credential_json(credential_json),
            expected_challenge=challenge,
            expected_rp_id=_rp_id(),
            expected_origin=_origins(),
            credential_public_key=factor.public_key,
            credential_current_sign_count=factor.sign_count or 0,
            require_user_verification=kind == FactorKind.PASSKEY,
        )
    except WebAuthnException as error:
        raise WebAuthnError(_reason(error)) from error
    factor.sign_count = verified.new_sign_count
    factor.backup_state = bool(verified.credential_backed_up)


def _reason(error: Exception) -> str:
    text = str(error).lower()
    if "user verification" in text:
        return "user_not_verified"
    if "sign count" in text:
        return "cloned"
    return "invalid"
