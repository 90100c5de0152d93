"""The demo agency site in examples/agency: the parts that need no running portal.

The agency is pointed at a port nothing listens on, and the tests that need the portal's
discovery document and keys get them in memory, so none of them touches the network.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from flask import Flask
from joserfc import jwt
from joserfc.jwk import RSAKey

from examples.agency.app import create_app
from examples.agency.backchannel import BACKCHANNEL_LOGOUT_EVENT

ISSUER = "http://127.0.0.1:9"  # the discard port: nothing answers there
CLIENT_ID = "demo-agency"


@pytest.fixture(scope="module")
def signing_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "test-key", "alg": "RS256", "use": "sig"})


@pytest.fixture
def app(signing_key: RSAKey, monkeypatch: pytest.MonkeyPatch) -> Flask:
    app = create_app({"PORTAL_URL": ISSUER, "SECRET_KEY": "test", "TESTING": True})
    jwks = {"keys": [signing_key.as_dict(private=False)]}
    client = app.extensions["agency_oauth"].create_client("portal_ciudadano")
    monkeypatch.setattr(client, "load_server_metadata", lambda: {"issuer": ISSUER})
    monkeypatch.setattr(client, "fetch_jwk_set", lambda force=False: jwks)
    return app


def logout_token(key: RSAKey, **overrides: Any) -> str:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "iat": int(time.time()),
        "jti": str(uuid.uuid4()),
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
        "sid": "session-1",
        "sub": "citizen-1",
    }
    claims.update(overrides)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode({"alg": "RS256", "kid": "test-key", "typ": "logout+jwt"}, claims, key)


def sign_in(client: Any, sid: str = "session-1", sub: str = "citizen-1") -> None:
    with client.session_transaction() as session:
        session.update(
            id_token="header.payload.signature",
            id_claims={
                "sub": sub,
                "sid": sid,
                "acr": "urn:portal-ciudadano:acr:mfa",
                "amr": ["pwd", "otp"],
                "iat": 1_700_000_000,
            },
            userinfo={"sub": sub, "given_name": "Ana", "email": "ana@demo.portal.example"},
            sid=sid,
            sub=sub,
            signed_in_at=time.time() - 60,
        )


def test_home_page_signed_out_offers_to_sign_in(app: Flask) -> None:
    response = app.test_client().get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="es">' in page
    assert 'href="/login"' in page
    assert 'href="/login?level=phishing-resistant"' in page
    assert response.headers["Cache-Control"] == "no-store"


def test_home_page_signed_in_shows_the_claims_and_a_sign_out_button(app: Flask) -> None:
    client = app.test_client()
    sign_in(client)
    page = client.get("/").get_data(as_text=True)
    assert "<caption>" in page and '<th scope="row"><code>sub</code></th>' in page
    assert "urn:portal-ciudadano:acr:mfa" in page and "pwd" in page
    assert "ana@demo.portal.example" in page
    assert 'action="/logout"' in page


def test_a_garbage_logout_token_is_refused_with_400(app: Flask) -> None:
    response = app.test_client().post("/backchannel-logout", data={"logout_token": "garbage"})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert response.headers["Cache-Control"] == "no-store"


def test_an_error_from_the_portal_is_shown_with_status_400(app: Flask) -> None:
    response = app.test_client().get("/callback?error=access_denied&error_description=x")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "access_denied" in page
    assert "<dd>x</dd>" in page


def test_a_valid_logout_token_ends_that_browser_session(app: Flask, signing_key: RSAKey) -> None:
    browser, other_browser = app.test_client(), app.test_client()
    sign_in(browser, sid="session-1")
    sign_in(other_browser, sid="session-2")

    response = app.test_client().post(
        "/backchannel-logout", data={"logout_token": logout_token(signing_key, sid="session-1")}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"

    page = browser.get("/").get_data(as_text=True)
    assert 'href="/login"' in page and "se cerró en Portal Ciudadano" in page
    with browser.session_transaction() as session:
        assert "sub" not in session
    assert 'action="/logout"' in other_browser.get("/").get_data(as_text=True)


def test_a_logout_token_with_only_sub_ends_every_session_of_that_person(
    app: Flask, signing_key: RSAKey
) -> None:
    browser = app.test_client()
    sign_in(browser, sid="session-1", sub="citizen-1")
    token = logout_token(signing_key, sid=None, sub="citizen-1")
    response = app.test_client().post("/backchannel-logout", data={"logout_token": token})
    assert response.status_code == 200
    assert 'href="/login"' in browser.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"iss": "https://attacker.example"}, id="another issuer"),
        pytest.param({"aud": "another-client"}, id="another audience"),
        pytest.param({"events": None}, id="no events"),
        pytest.param({"events": {"http://example.com/other-event": {}}}, id="another event"),
        pytest.param({"nonce": "n-0S6_WzA2Mj"}, id="a nonce, as an ID token has"),
        pytest.param({"iat": int(time.time()) - 3600}, id="issued an hour ago"),
        pytest.param({"jti": None}, id="no jti"),
        pytest.param({"sid": None, "sub": None}, id="neither sid nor sub"),
    ],
)
def test_a_logout_token_that_breaks_a_rule_is_refused(
    app: Flask, signing_key: RSAKey, overrides: dict[str, Any]
) -> None:
    browser = app.test_client()
    sign_in(browser)
    token = logout_token(signing_key, **overrides)
    response = app.test_client().post("/backchannel-logout", data={"logout_token": token})
    assert response.status_code == 400
    assert 'action="/logout"' in browser.get("/").get_data(as_text=True)


@pytest.mark.parametrize("kid", ["test-key", "unknown-key"])
def test_a_logout_token_signed_with_another_key_is_refused(app: Flask, kid: str) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": kid})
    token = jwt.encode({"alg": "RS256", "kid": kid}, {"iss": ISSUER, "aud": CLIENT_ID}, stranger)
    response = app.test_client().post("/backchannel-logout", data={"logout_token": token})
    assert response.status_code == 400
    assert "firma" in response.get_json()["error_description"]
