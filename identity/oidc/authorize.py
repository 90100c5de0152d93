"""What the authorization endpoint does next for a valid request: sign in, confirm it is you,
step up to a key, ask for consent, or hand the code over.

OpenID Connect Core §3.1.2 leaves these choices to the provider; they are one
plain function here, ``next_step``, so each rule is tested without a browser.

When the citizen is sent away to sign in (or confirm, or step up), the URL
they come back to carries ``resume``: the time they were sent, signed. It
proves they authenticated after that time, which is what ``prompt=login`` and
``max_age`` ask for (so coming back does not ask again, in a loop), and it
tells the endpoint that the citizen arrives from one of our own forms, which
decides how the code is handed over (``views.deliver``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from identity import factors
from identity.models import Account, AccountSession, utcnow
from identity.oidc import claims
from identity.oidc.models import OidcClient, OidcConsent
from portal.extensions import db

RESUME_MAX_AGE = 30 * 60


class Step(enum.StrEnum):
    SIGN_IN = "sign_in"
    REAUTHENTICATE = "reauthenticate"
    STEP_UP = "step_up"
    #: The client asks for a key the citizen does not have.
    UNMET = "unmet"
    CONSENT = "consent"
    GRANT = "grant"


#: The error each step becomes under ``prompt=none`` (OpenID Connect Core §3.1.2.6).
SILENT_ERRORS = {
    Step.SIGN_IN: "login_required",
    Step.REAUTHENTICATE: "login_required",
    Step.STEP_UP: "interaction_required",
    Step.UNMET: "interaction_required",
    Step.CONSENT: "consent_required",
}


class BadParameterError(ValueError):
    """A parameter the spec constrains has a value it forbids (an ``invalid_request``)."""


@dataclass(frozen=True)
class Request:
    """The parts of a validated authorization request that decide the next step."""

    scopes: list[str]
    prompts: set[str]
    max_age: int | None
    acr_values: str | None

    @classmethod
    def from_params(cls, params: dict[str, str], scope: str) -> Request:
        prompts = set((params.get("prompt") or "").split())
        if "none" in prompts and len(prompts) > 1:
            raise BadParameterError("prompt=none cannot be combined with other values")
        max_age = params.get("max_age")
        # ASCII digits only: str.isdigit() also takes "²", which int() refuses (a 500).
        if max_age is not None and not (
            max_age.isascii() and max_age.isdigit() and len(max_age) <= 9
        ):
            raise BadParameterError("max_age must be a whole number of seconds")
        return cls(
            scopes=scope.split(),
            prompts=prompts,
            max_age=int(max_age) if max_age is not None else None,
            acr_values=params.get("acr_values"),
        )


def resume_token(now: datetime | None = None) -> str:
    stamp = int((now or utcnow()).timestamp())
    return _serializer().dumps(stamp)


def resumed_at(token: str | None) -> int | None:
    """When the citizen was sent away, if ``token`` is ours and recent."""
    if not token:
        return None
    try:
        return int(_serializer().loads(token, max_age=RESUME_MAX_AGE))
    except (BadSignature, ValueError, TypeError):
        return None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="oidc-resume")


def consent_for(account: Account, client: OidcClient) -> OidcConsent | None:
    return db.session.scalar(
        select(OidcConsent).where(
            OidcConsent.account_id == account.id, OidcConsent.client_pk == client.id
        )
    )


def remembered(consent: OidcConsent | None, scopes: list[str]) -> bool:
    return (
        consent is not None
        and consent.remembered
        and consent.revoked_at is None
        and set(scopes) <= set(consent.scopes)
    )


def next_step(
    asked: Request,
    account: Account | None,
    account_session: AccountSession | None,
    consent: OidcConsent | None,
    resumed: int | None,
    now: datetime | None = None,
) -> Step:
    now = now or utcnow()
    if account is None or account_session is None:
        return Step.SIGN_IN
    auth_time = account_session.authenticated_at.timestamp()
    fresh = resumed is not None and auth_time >= resumed
    too_old = asked.max_age is not None and now.timestamp() - auth_time > asked.max_age
    if ("login" in asked.prompts or too_old) and not fresh:
        return Step.REAUTHENTICATE
    if not claims.acr_satisfied(account_session.amr, asked.acr_values):
        if account.factors_of(*factors.WEBAUTHN_KINDS):
            return Step.STEP_UP
        return Step.UNMET
    if "consent" in asked.prompts or not remembered(consent, asked.scopes):
        return Step.CONSENT
    return Step.GRANT


def record_consent(
    account: Account, client: OidcClient, scopes: list[str], remember: bool
) -> OidcConsent:
    """Store what the citizen agreed to share (a new choice replaces the old one)."""
    consent = consent_for(account, client)
    if consent is None:
        consent = OidcConsent(account_id=account.id, client_pk=client.id)
        db.session.add(consent)
    now = utcnow()
    consent.scopes = sorted(set(scopes))
    consent.remembered = remember
    consent.granted_at = now
    consent.last_used_at = now
    consent.revoked_at = None
    return consent
