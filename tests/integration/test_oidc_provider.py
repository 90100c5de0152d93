"""An agency signs a citizen in through the portal over real HTTP, with a real OIDC client
(Authlib's ``OAuth2Session``), and every attack an integrator worries about fails."""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import select, update

from identity.models import utcnow
from identity.oidc import clients
from identity.oidc.models import OidcAuthorizationCode, OidcClient
from portal.extensions import db
from tests.conftest import empty_tables, make_test_app
from tests.support.agency import (
    Browser,
    Person,
    Received,
    Served,
    backchannel_endpoint,
    csrf_token,
    make_citizen,
    query_of,
    serve,
)

pytestmark = pytest.mark.database

CALLBACK = "https://tax.agency.example/callback"
SIGNED_OUT = "https://tax.agency.example/"


@pytest.fixture(scope="module")
def portal(_migrated: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    app = make_test_app(_migrated, tmp_path_factory.mktemp("oidc-instance"))
    yield from serve(app)
    with app.app_context():
        empty_tables()


@pytest.fixture(scope="module")
def discovery(portal: Served) -> dict:
    return requests.get(f"{portal.base}/.well-known/openid-configuration", timeout=10).json()


@pytest.fixture(scope="module")
def backchannel() -> Iterator[tuple[str, Received]]:
    yield from backchannel_endpoint()


def register(portal: Served, **options: object) -> tuple[OidcClient, str | None]:
    options.setdefault("post_logout_redirect_uris", [SIGNED_OUT])
    with portal.app.app_context():
        registered = clients.create(
            options.pop("name", "Agencia Tributaria"), [CALLBACK], **options
        )
        db.session.commit()
        db.session.refresh(registered.client)
        db.session.expunge(registered.client)
        return registered.client, registered.secret


def agency(
    client: OidcClient, secret: str | None, scope: str = "openid profile email"
) -> OAuth2Session:
    return OAuth2Session(
        client.client_id,
        secret,
        scope=scope,
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
        token_endpoint_auth_method=client.auth_method,
    )


def start(session: OAuth2Session, discovery: dict, **extra: str) -> tuple[str, str, str]:
    """The authorization URL, its PKCE verifier and nonce."""
    verifier = generate_token(48)
    nonce = generate_token(16)
    url, _state = session.create_authorization_url(
        discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **extra
    )
    return url, verifier, nonce


def sign_in_and_consent(browser: Browser, person: Person, url: str, remember: bool = False) -> str:
    assert browser.go(url) is None
    if "/account/sign-in" in browser.page.url:
        gone = browser.sign_in(person)
        if gone:
            return gone
    assert "/account/connect" in browser.page.url, browser.page.url
    decision = {"decision": "allow", **({"remember": "y"} if remember else {})}
    gone = browser.submit(decision)
    assert gone is not None
    return gone


def verify_id_token(token: str, discovery: dict, client_id: str, nonce: str) -> dict:
    key_set = KeySet.import_key_set(requests.get(discovery["jwks_uri"], timeout=10).json())
    decoded = jwt.decode(token, key_set)
    assert decoded.header["kid"] in {key["kid"] for key in key_set.as_dict()["keys"]}
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": discovery["issuer"]},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True},
        exp={"essential": True},
        auth_time={"essential": True},
    ).validate(decoded.claims)
    return decoded.claims


def test_an_agency_signs_a_citizen_in_reads_userinfo_refreshes_revokes_and_logs_out(
    portal: Served, discovery: dict, backchannel: tuple[str, Received]
) -> None:
    uri, received = backchannel
    client, secret = register(portal, backchannel_logout_uri=uri.replace("localhost", "127.0.0.1"))
    person = make_citizen(portal.app)
    browser = Browser(portal.base)
    session = agency(client, secret, "openid profile email address phone citizen_id offline_access")
    url, verifier, nonce = start(session, discovery, ui_locales="en")

    callback = sign_in_and_consent(browser, person, url, remember=True)
    assert callback.startswith(CALLBACK + "?")
    token = session.fetch_token(
        discovery["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    assert token["token_type"].lower() == "bearer"
    assert 590 <= token["expires_in"] <= 600
    assert token["refresh_token"]
    id_claims = verify_id_token(token["id_token"], discovery, client.client_id, nonce)
    assert id_claims["acr"] == "urn:portal-ciudadano:acr:mfa"
    assert set(id_claims["amr"]) == {"mfa", "otp", "pwd"}
    assert id_claims["sid"]
    assert "email" not in id_claims  # claims are read from userinfo, not spread in the token

    info = session.get(discovery["userinfo_endpoint"]).json()
    assert info["sub"] == id_claims["sub"]
    assert info["name"] == "Lucía Martín Ruiz"
    assert info["birthdate"] == "1990-05-17"
    assert info["email"] == person.email and info["email_verified"] is True
    assert info["phone_number"] == "+34611222333" and info["phone_number_verified"] is False
    assert info["address"]["postal_code"] == "28999"
    assert info["citizen_id"] == "12345678Z" and info["citizen_id_verified"] is True

    # Refresh: a new pair; the old access token dies with the old refresh token.
    old = dict(token)
    refreshed = session.refresh_token(discovery["token_endpoint"])
    assert refreshed["refresh_token"] != old["refresh_token"]
    assert session.get(discovery["userinfo_endpoint"]).status_code == 200
    stale = requests.get(
        discovery["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {old['access_token']}"},
        timeout=10,
    )
    assert stale.status_code == 401

    # Introspection answers for the agency's API; revocation (RFC 7009) ends the pair.
    auth = (client.client_id, secret)
    live = requests.post(
        discovery["introspection_endpoint"],
        data={"token": refreshed["access_token"]},
        auth=auth,
        timeout=10,
    ).json()
    assert live["active"] is True and live["sub"] == id_claims["sub"]
    session.revoke_token(discovery["revocation_endpoint"], refreshed["refresh_token"])
    dead = requests.post(
        discovery["introspection_endpoint"],
        data={"token": refreshed["access_token"]},
        auth=auth,
        timeout=10,
    ).json()
    assert dead == {"active": False}

    # Remembered consent: the next sign-in goes straight back to the agency.
    url, verifier, nonce = start(session, discovery)
    callback = browser.go(url)
    assert callback is not None and callback.startswith(CALLBACK)

    # RP-initiated logout with the ID token as hint, then the back-channel token.
    back = browser.go(
        discovery["end_session_endpoint"]
        + "?"
        + requests.compat.urlencode(
            {
                "id_token_hint": token["id_token"],
                "post_logout_redirect_uri": SIGNED_OUT,
                "state": "bye",
            }
        )
    )
    assert back == SIGNED_OUT + "?state=bye"
    assert received.arrived.wait(10), "no logout token arrived"
    logout_token = received.bodies[-1]["logout_token"][0]
    key_set = KeySet.import_key_set(requests.get(discovery["jwks_uri"], timeout=10).json())
    decoded = jwt.decode(logout_token, key_set)
    assert decoded.header["typ"] == "logout+jwt"
    assert decoded.claims["aud"] == client.client_id
    assert decoded.claims["sid"] == id_claims["sid"]
    assert decoded.claims["sub"] == id_claims["sub"]
    assert "http://schemas.openid.net/event/backchannel-logout" in decoded.claims["events"]
    assert "nonce" not in decoded.claims

    # Signed out: prompt=none now says so, at the agency's redirect URI.
    url, _verifier, _nonce = start(session, discovery, prompt="none")
    answer = query_of(browser.go(url) or "")
    assert answer["error"] == "login_required"


def test_pairwise_subjects_differ_between_sectors_and_match_within_one(
    portal: Served, discovery: dict
) -> None:
    person = make_citizen(portal.app)
    browser = Browser(portal.base)
    subjects = []
    for sector in ("hacienda.example", "hacienda.example", "dgt.example"):
        client, secret = register(portal, sector=sector)
        session = agency(client, secret)
        url, verifier, nonce = start(session, discovery)
        callback = sign_in_and_consent(browser, person, url)
        token = session.fetch_token(
            discovery["token_endpoint"], authorization_response=callback, code_verifier=verifier
        )
        subjects.append(
            verify_id_token(token["id_token"], discovery, client.client_id, nonce)["sub"]
        )
    assert subjects[0] == subjects[1]
    assert subjects[0] != subjects[2]


def test_es256_clients_and_private_key_jwt_with_replay_refused(
    portal: Served, discovery: dict
) -> None:
    client_key = RSAKey.generate_key(2048, private=True)
    jwks = {"keys": [{**client_key.as_dict(private=False), "kid": "agency-1"}]}
    client, _secret = register(
        portal, auth_method="private_key_jwt", jwks=jwks, id_token_alg="ES256"
    )
    person = make_citizen(portal.app)
    browser = Browser(portal.base)
    session = OAuth2Session(
        client.client_id,
        client_key.as_pem(private=True).decode(),
        scope="openid",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
        token_endpoint_auth_method=PrivateKeyJWT(discovery["token_endpoint"]),
    )
    url, verifier, nonce = start(session, discovery)
    callback = sign_in_and_consent(browser, person, url)
    token = session.fetch_token(
        discovery["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    claims = verify_id_token(token["id_token"], discovery, client.client_id, nonce)
    assert (
        jwt.decode(
            token["id_token"],
            KeySet.import_key_set(requests.get(discovery["jwks_uri"], timeout=10).json()),
        ).header["alg"]
        == "ES256"
    )
    assert claims["sub"]

    # The same signed assertion twice: the second is refused.
    assertion = jwt.encode(
        {"alg": "RS256", "kid": "agency-1"},
        {
            "iss": client.client_id,
            "sub": client.client_id,
            "aud": discovery["token_endpoint"],
            "jti": secrets.token_urlsafe(12),
            "exp": int(time.time()) + 60,
            "iat": int(time.time()),
        },
        client_key,
    )
    form = {
        "grant_type": "refresh_token",
        "refresh_token": "unknown",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }
    first = requests.post(discovery["token_endpoint"], data=form, timeout=10)
    assert first.json()["error"] == "invalid_grant"  # authenticated; the token is unknown
    second = requests.post(discovery["token_endpoint"], data=form, timeout=10)
    assert second.json()["error"] == "invalid_client"


def _code(portal: Served, discovery: dict, **options: object) -> tuple:
    client, secret = register(portal, **options)
    person = make_citizen(portal.app)
    browser = Browser(portal.base)
    session = agency(client, secret)
    url, verifier, _nonce = start(session, discovery)
    callback = sign_in_and_consent(browser, person, url)
    return client, secret, session, callback, verifier


def test_codes_are_single_use_short_lived_and_bound_to_the_verifier(
    portal: Served, discovery: dict
) -> None:
    client, secret, _session, callback, verifier = _code(portal, discovery)
    code = query_of(callback)["code"]
    endpoint = discovery["token_endpoint"]

    def exchange(code_verifier: str, with_secret: str | None = None) -> requests.Response:
        return requests.post(
            endpoint,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": CALLBACK,
                "code_verifier": code_verifier,
            },
            auth=(client.client_id, with_secret or secret or ""),
            timeout=10,
        )

    wrong_secret = exchange(verifier, "not-the-secret")
    assert wrong_secret.status_code == 401
    assert wrong_secret.json()["error"] == "invalid_client"
    # The secret check comes first: the code is still good.
    first = exchange(verifier)
    assert first.status_code == 200, first.text
    access = first.json()["access_token"]
    reused = exchange(verifier)
    assert reused.json()["error"] == "invalid_grant"
    revoked = requests.get(
        discovery["userinfo_endpoint"], headers={"Authorization": f"Bearer {access}"}, timeout=10
    )
    assert revoked.status_code == 401  # a reused code revokes what it issued

    client, secret, _session, callback, _verifier = _code(portal, discovery)
    code = query_of(callback)["code"]
    assert exchange("x" * 50).json()["error"] == "invalid_grant"  # wrong verifier

    client, secret, _session, callback, verifier = _code(portal, discovery)
    code = query_of(callback)["code"]
    with portal.app.app_context():
        db.session.execute(
            update(OidcAuthorizationCode).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    assert exchange(verifier).json()["error"] == "invalid_grant"  # expired after 60 s


def test_a_replayed_refresh_token_revokes_its_whole_family(portal: Served, discovery: dict) -> None:
    client, secret = register(portal)
    person = make_citizen(portal.app)
    browser = Browser(portal.base)
    session = agency(client, secret, "openid offline_access")
    url, verifier, _nonce = start(session, discovery)
    callback = sign_in_and_consent(browser, person, url)
    first = session.fetch_token(
        discovery["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    second = session.refresh_token(discovery["token_endpoint"])
    replay = requests.post(
        discovery["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=(client.client_id, secret),
        timeout=10,
    )
    assert replay.json()["error"] == "invalid_grant"
    after = requests.post(
        discovery["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
        auth=(client.client_id, secret),
        timeout=10,
    )
    assert after.json()["error"] == "invalid_grant"  # the thief and the owner are both out


def test_without_offline_access_no_refresh_token(portal: Served, discovery: dict) -> None:
    _client, _secret, session, callback, verifier = _code(portal, discovery)
    token = session.fetch_token(
        discovery["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    assert "refresh_token" not in token


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/callback",
        CALLBACK + "/",
        CALLBACK + "?x=1",
        CALLBACK.replace("https", "http"),
        CALLBACK.upper(),
        "https://tax.agency.example:444/callback",
        "",
    ],
)
def test_an_unregistered_or_near_miss_redirect_uri_gets_a_page_never_a_redirect(
    portal: Served, discovery: dict, redirect_uri: str
) -> None:
    client, _secret = register(portal)
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid",
        "state": "s",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
        "ui_locales": "en",
    }
    browser = Browser(portal.base)
    url = discovery["authorization_endpoint"] + "?" + requests.compat.urlencode(params)
    assert browser.go(url) is None
    assert browser.page.status_code == 400
    assert (
        "We cannot sign you in to this service" in browser.page.text
        or "No podemos" in browser.page.text
    )


@pytest.mark.parametrize(
    ("pkce", "error"),
    [
        ({}, "invalid_request"),
        ({"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "invalid_request"),
        (
            {
                "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                "code_challenge_method": "plain",
            },
            "invalid_request",
        ),
    ],
)
def test_pkce_s256_is_required_of_every_client(
    portal: Served, discovery: dict, pkce: dict, error: str
) -> None:
    client, _secret = register(portal)
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": CALLBACK,
        "scope": "openid",
        "state": "xyz",
        **pkce,
    }
    gone = Browser(portal.base).go(
        discovery["authorization_endpoint"] + "?" + requests.compat.urlencode(params)
    )
    assert gone is not None
    answer = query_of(gone)
    assert answer["error"] == error and answer["state"] == "xyz"


def test_prompt_none_and_acr_values_that_cannot_be_met(portal: Served, discovery: dict) -> None:
    client, secret = register(portal)
    session = agency(client, secret)
    browser = Browser(portal.base)
    url, _verifier, _nonce = start(session, discovery, prompt="none")
    assert query_of(browser.go(url) or "")["error"] == "login_required"

    person = make_citizen(portal.app)  # an authenticator app, no passkey nor security key
    url, _verifier, _nonce = start(session, discovery)
    sign_in_and_consent(browser, person, url)
    strong = "urn:portal-ciudadano:acr:phishing-resistant"
    url, _verifier, _nonce = start(session, discovery, acr_values=strong, prompt="none")
    assert query_of(browser.go(url) or "")["error"] == "interaction_required"
    url, _verifier, _nonce = start(session, discovery, acr_values=strong, ui_locales="en")
    assert browser.go(url) is None
    assert "asks for a passkey or a security key" in browser.page.text
    answer = query_of(browser.submit({"decision": "deny"}) or "")
    assert answer["error"] == "unmet_authentication_requirements"

    # prompt=consent asks again; "Do not share" answers access_denied.
    url, _verifier, _nonce = start(session, discovery, prompt="consent")
    assert browser.go(url) is None and "/account/connect" in browser.page.url
    assert query_of(browser.submit({"decision": "deny"}) or "")["error"] == "access_denied"


def test_prompt_login_and_max_age_ask_the_citizen_to_confirm_once(
    portal: Served, discovery: dict
) -> None:
    client, secret = register(portal)
    session = agency(client, secret)
    person = make_citizen(portal.app)
    browser = Browser(portal.base)
    url, _verifier, _nonce = start(session, discovery)
    sign_in_and_consent(browser, person, url, remember=True)
    url, _verifier, _nonce = start(session, discovery, prompt="login")
    assert browser.go(url) is None and "/reauthenticate" in browser.page.url
    callback = browser.reauthenticate(person)
    assert callback is not None and "code=" in callback
    url, _verifier, _nonce = start(session, discovery, max_age="3600")
    assert (browser.go(url) or "").startswith(CALLBACK)  # signed in a moment ago: no question


def test_client_cli_registers_lists_rotates_and_disables(portal: Served, tmp_path: Path) -> None:
    runner = portal.app.test_cli_runner()
    key = RSAKey.generate_key(2048, private=True)
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    made = runner.invoke(
        args=[
            "oidc",
            "create-client",
            "--name",
            "Ayuntamiento",
            "--redirect-uri",
            "https://city.example/cb",
            "--backchannel-logout-uri",
            "https://city.example/logout",
        ]
    )
    assert made.exit_code == 0, made.output
    created = json.loads(made.output)
    assert created["client_secret"] and created["subject_type"] == "pairwise"
    assert created["sector_identifier"] == "city.example"
    with portal.app.app_context():
        stored = db.session.scalar(
            select(OidcClient).where(OidcClient.client_id == created["client_id"])
        )
        assert created["client_secret"] not in (stored.secret_hash or "")
    rotated = json.loads(runner.invoke(args=["oidc", "rotate-secret", created["client_id"]]).output)
    assert rotated["client_secret"] != created["client_secret"]
    listed = json.loads(runner.invoke(args=["oidc", "list"]).output)
    assert created["client_id"] in {row["client_id"] for row in listed}
    assert not any("client_secret" in row for row in listed)
    keyed = runner.invoke(
        args=[
            "oidc",
            "create-client",
            "--name",
            "App",
            "--redirect-uri",
            "https://app.example/cb",
            "--auth-method",
            "private_key_jwt",
            "--jwks-file",
            str(jwks_file),
        ]
    )
    assert keyed.exit_code == 0 and "client_secret" not in keyed.output
    refused = runner.invoke(
        args=["oidc", "create-client", "--name", "X", "--redirect-uri", "http://evil.example/cb"]
    )
    assert refused.exit_code != 0 and "https" in refused.output
    disabled = runner.invoke(args=["oidc", "disable", created["client_id"]])
    assert json.loads(disabled.output)["disabled"] is True


def test_signing_out_of_the_portal_tells_the_agency_over_the_back_channel(
    portal: Served, discovery: dict, backchannel: tuple[str, Received]
) -> None:
    uri, received = backchannel
    client, secret = register(portal, auth_method="client_secret_post", backchannel_logout_uri=uri)
    person = make_citizen(portal.app)
    browser = Browser(portal.base)
    session = agency(client, secret)
    url, verifier, nonce = start(session, discovery)
    callback = sign_in_and_consent(browser, person, url)
    token = session.fetch_token(  # client_secret_post: the secret travels in the body
        discovery["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    sid = verify_id_token(token["id_token"], discovery, client.client_id, nonce)["sid"]
    received.arrived.clear()
    page = browser.http.get(f"{portal.base}/es/account/", timeout=10).text
    browser.http.post(
        f"{portal.base}/es/account/sign-out", data={"csrf_token": csrf_token(page)}, timeout=10
    )
    assert received.arrived.wait(10)
    key_set = KeySet.import_key_set(requests.get(discovery["jwks_uri"], timeout=10).json())
    claims = jwt.decode(received.bodies[-1]["logout_token"][0], key_set).claims
    assert claims["sid"] == sid and claims["aud"] == client.client_id


def test_disconnecting_a_service_revokes_its_refresh_tokens(
    portal: Served, discovery: dict
) -> None:
    client, secret = register(portal)
    person = make_citizen(portal.app)
    browser = Browser(portal.base)
    session = agency(client, secret, "openid email offline_access")
    url, verifier, _nonce = start(session, discovery)
    callback = sign_in_and_consent(browser, person, url, remember=True)
    session.fetch_token(
        discovery["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    assert browser.go(f"{portal.base}/en/account/connected-services") is None
    assert "Agencia Tributaria" in browser.page.text
    listed = browser.page.text
    action = re.search(r'action="([^"]+/disconnect)"', listed).group(1)
    browser.go(f"{portal.base}{action}", "POST", {"csrf_token": csrf_token(listed)})
    assert "can no longer use your data" in browser.page.text
    refused = requests.post(
        discovery["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": session.token["refresh_token"]},
        auth=(client.client_id, secret),
        timeout=10,
    )
    assert refused.json()["error"] == "invalid_grant"
    url, _verifier, _nonce = start(session, discovery, prompt="none")
    assert query_of(browser.go(url) or "")["error"] == "consent_required"


def test_an_unreachable_agency_gets_three_attempts_each_logged(
    portal: Served, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from identity.oidc import logout

    monkeypatch.setattr(logout, "BACKOFF_SECONDS", 0.0)
    with portal.app.app_context():
        delivered = logout.deliver("http://127.0.0.1:9/logout", "token", "unreachable-agency")
    assert delivered is False
    failures = [r for r in caplog.records if "unreachable-agency" in r.getMessage()]
    assert len(failures) == logout.ATTEMPTS + 1  # each attempt, then giving up
