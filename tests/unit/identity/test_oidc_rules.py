"""The provider's rules as plain functions: the next step of an authorization, assurance
levels, pairwise subjects, claims from the record, and signing-key rotation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from flask import Flask
from joserfc import jwt

from identity import accounts, record
from identity.models import AccountSession
from identity.oidc import authorize, claims, keys
from identity.oidc.authorize import Request, Step
from portal.extensions import db

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
STRONG = claims.ACR_PHISHING_RESISTANT


def asked(**params: str) -> Request:
    return Request.from_params(params, params.pop("scope", "openid profile"))


def citizen(*kinds: str) -> SimpleNamespace:
    factors = [SimpleNamespace(kind=kind) for kind in kinds]
    return SimpleNamespace(factors_of=lambda *wanted: [f for f in factors if f.kind in wanted])


def session(amr: list[str], minutes_ago: int = 1) -> AccountSession:
    return AccountSession(amr=amr, authenticated_at=NOW - timedelta(minutes=minutes_ago))


def consent(scopes: list[str], remembered: bool = True) -> SimpleNamespace:
    return SimpleNamespace(scopes=scopes, remembered=remembered, revoked_at=None)


OTP = ["mfa", "otp", "pwd"]
KEY = ["hwk", "mfa", "pwd"]


@pytest.mark.parametrize(
    ("request_", "amr", "minutes_ago", "kinds", "granted", "resumed", "expected"),
    [
        (asked(), None, 0, (), None, None, Step.SIGN_IN),
        (asked(), OTP, 1, ("totp",), None, None, Step.CONSENT),
        (asked(), OTP, 1, ("totp",), consent(["openid", "profile"]), None, Step.GRANT),
        (asked(), OTP, 1, ("totp",), consent(["openid", "profile"], False), None, Step.CONSENT),
        (asked(scope="openid email"), OTP, 1, ("totp",), consent(["openid"]), None, Step.CONSENT),
        (
            asked(prompt="consent"),
            OTP,
            1,
            ("totp",),
            consent(["openid", "profile"]),
            None,
            Step.CONSENT,
        ),
        (
            asked(prompt="login"),
            OTP,
            1,
            ("totp",),
            consent(["openid", "profile"]),
            None,
            Step.REAUTHENTICATE,
        ),
        # Back from confirming: the same prompt=login does not ask again.
        (
            asked(prompt="login"),
            OTP,
            1,
            ("totp",),
            consent(["openid", "profile"]),
            int((NOW - timedelta(minutes=2)).timestamp()),
            Step.GRANT,
        ),
        (
            asked(max_age="120"),
            OTP,
            5,
            ("totp",),
            consent(["openid", "profile"]),
            None,
            Step.REAUTHENTICATE,
        ),
        (asked(max_age="600"), OTP, 5, ("totp",), consent(["openid", "profile"]), None, Step.GRANT),
        (asked(acr_values=STRONG), OTP, 1, ("totp", "security_key"), None, None, Step.STEP_UP),
        (asked(acr_values=STRONG), OTP, 1, ("totp",), None, None, Step.UNMET),
        (
            asked(acr_values=STRONG),
            KEY,
            1,
            ("security_key",),
            consent(["openid", "profile"]),
            None,
            Step.GRANT,
        ),
        (
            asked(acr_values=f"{claims.ACR_MFA} {STRONG}"),
            OTP,
            1,
            ("totp",),
            consent(["openid", "profile"]),
            None,
            Step.GRANT,
        ),
        (
            asked(acr_values="urn:unknown"),
            OTP,
            1,
            ("totp",),
            consent(["openid", "profile"]),
            None,
            Step.GRANT,
        ),
    ],
)
def test_the_next_step_of_an_authorization(
    request_, amr, minutes_ago, kinds, granted, resumed, expected
) -> None:
    account = citizen(*kinds) if amr is not None else None
    row = session(amr, minutes_ago) if amr is not None else None
    assert authorize.next_step(request_, account, row, granted, resumed, NOW) == expected


@pytest.mark.parametrize(
    "params", [{"prompt": "none login"}, {"max_age": "-1"}, {"max_age": "1e3"}]
)
def test_parameters_the_spec_forbids_are_refused(params: dict[str, str]) -> None:
    with pytest.raises(authorize.BadParameterError):
        Request.from_params(params, "openid")


def test_assurance_levels_follow_the_methods_used() -> None:
    assert claims.session_acr(["mfa", "otp", "pwd"]) == claims.ACR_MFA
    assert claims.session_acr(["hwk", "mfa", "user"]) == STRONG
    assert (
        claims.session_acr(["mfa", "pwd", "swk"]) == STRONG
    )  # a synced passkey resists phishing too
    assert claims.required_acr(f"{STRONG} {claims.ACR_MFA}") == claims.ACR_MFA


@pytest.mark.database
def test_subjects_are_pairwise_per_sector_stable_and_not_the_database_id(db_app: Flask) -> None:
    one = accounts.create_account("uno@example.es", "una contraseña larga de prueba", "es")
    two = accounts.create_account("dos@example.es", "otra contraseña larga de prueba", "es")
    db.session.flush()
    assert claims.subject(one, "a.example") == claims.subject(one, "a.example")
    assert claims.subject(one, "a.example") != claims.subject(one, "b.example")
    assert claims.subject(one, "a.example") != claims.subject(two, "a.example")
    assert claims.subject(one, "a.example", "public") == claims.subject(one, "b.example", "public")
    assert claims.subject(one, "a.example") != str(one.id)
    assert len(claims.subject(one, "a.example")) == 43  # 256 bits, base64url


@pytest.mark.database
def test_claims_carry_only_consented_scopes_and_mark_only_verified_values(db_app: Flask) -> None:
    account = accounts.create_account("tres@example.es", "una contraseña larga de prueba", "es")
    accounts.mark_email_verified(account)
    record.record(account, "national_id", "12345678Z", "citizen", verified=False)
    record.record(account, "phone", "+34 600 000 000", "citizen", verified=False)
    found = claims.claims_for(account, ["openid", "email", "phone", "citizen_id"])
    assert found["email_verified"] is True
    assert found["phone_number_verified"] is False
    assert "citizen_id" not in found  # an unverified identifier is never released
    assert "name" not in claims.claims_for(account, ["openid", "email"])


@pytest.mark.database
def test_a_rotated_key_is_published_before_it_signs_and_the_old_one_until_its_tokens_expire(
    db_app: Flask,
) -> None:
    start = datetime.now(UTC)
    first = keys.signing_key("RS256", start)
    successor = next(row for row in keys.rotate(start) if row.alg == "RS256")
    published = {key["kid"] for key in keys.jwks(start)["keys"]}
    assert {first.kid, successor.kid} <= published
    assert keys.signing_key("RS256", start).kid == first.kid  # not yet: caches may be stale
    later = successor.signs_from + timedelta(seconds=1)
    assert keys.signing_key("RS256", later).kid == successor.kid
    assert first.kid in {key["kid"] for key in keys.jwks(later)["keys"]}
    gone = successor.signs_from + keys.TOKEN_LIFETIME + timedelta(seconds=1)
    assert first.kid not in {key["kid"] for key in keys.jwks(gone)["keys"]}
    token = keys.sign({"iss": "x"}, "ES256")
    assert jwt.decode(token, keys.public_key_set()).claims == {"iss": "x"}


@pytest.mark.database
def test_private_keys_are_encrypted_at_rest_and_parsed_once_per_process(db_app: Flask) -> None:
    from identity.oidc.models import OidcSigningKey

    keys.signing_key("RS256")
    row = db.session.query(OidcSigningKey).filter_by(alg="RS256").one()
    assert "PRIVATE KEY" not in row.private_key_encrypted
    cache = db_app.extensions["oidc_keys"]
    parsed = cache[row.kid]
    assert keys.signing_key("RS256") is parsed
