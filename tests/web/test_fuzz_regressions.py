"""Inputs the fuzz tests found answered with a server error or stored as garbage, each kept
here as the plain case it is (tests/web/test_fuzz_forms.py and test_fuzz_json.py find
such inputs; this file says which were found, and keeps them fixed)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from flask import Flask

from identity.oidc import clients
from portal.extensions import db
from tests.conftest import empty_tables, make_test_app

CALLBACK = "https://agency.example/callback"


@pytest.fixture
def portal(_migrated: str, tmp_path) -> Iterator[Flask]:
    app = make_test_app(_migrated, tmp_path / "instance")
    yield app
    with app.app_context():
        empty_tables()


@pytest.fixture
def agency(portal: Flask) -> str:
    """A registered agency's client id."""
    with portal.app_context():
        registered = clients.create("Agencia", [CALLBACK], sector="agency.example")
        db.session.commit()
        return registered.client.client_id


@pytest.fixture
def agency_with_secret(portal: Flask) -> tuple[str, str]:
    """A confidential agency's client id and secret."""
    with portal.app_context():
        registered = clients.create("Agencia", [CALLBACK], sector="agency.example")
        db.session.commit()
        return registered.client.client_id, registered.secret or ""


def _authorize(**params: str) -> str:
    query = {
        "response_type": "code",
        "redirect_uri": CALLBACK,
        "scope": "openid",
        "state": "s",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
        **params,
    }
    return "/es/account/connect?" + urlencode(query)


@pytest.mark.parametrize(
    "params",
    [
        {"response_type": "\u202eabc"},  # what the fuzzer sent: a right-to-left override
        {"response_type": 'code"'},
        {"redirect_uri": "https://agency.example/caf\u00e9"},
    ],
    ids=["rtl-response-type", "quoted-response-type", "non-ascii-redirect-uri"],
)
def test_an_agency_link_authlib_cannot_quote_gets_the_bad_link_page(
    portal: Flask, agency: str, params: dict[str, str]
) -> None:
    """Authlib quotes a response_type or redirect_uri it refuses in its error description,
    and raises ValueError when the value holds what RFC 6749 forbids there: it was a 500."""
    response = portal.test_client().get(_authorize(client_id=agency, **params))
    assert response.status_code == 400
    assert "invalid_request" in response.get_data(as_text=True)
    assert "Location" not in response.headers, "never sent to an unchecked redirect URI"


@pytest.mark.parametrize("max_age", ["\u00b2", "\u0663\u0664", "\uff11"])
def test_max_age_in_digits_that_are_not_ascii_is_an_invalid_request_to_the_agency(
    portal: Flask, agency: str, max_age: str
) -> None:
    """``"²".isdigit()`` is true and ``int("²")`` a ValueError: max_age=² was a 500. Only
    ASCII digits are a number of seconds (OpenID Connect Core §3.1.2.1)."""
    response = portal.test_client().get(_authorize(client_id=agency, max_age=max_age))
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"{CALLBACK}?error=invalid_request")


@pytest.mark.parametrize("path", ["/oidc/token", "/oidc/revoke", "/oidc/introspect"])
@pytest.mark.parametrize(
    "credentials",
    ["Basic //467aCA", "Basic \u00e9t\u00e9", "basic \u00ff", " ", "Basic  ", "x "],
    ids=[
        "base64-of-bytes-not-utf8",
        "not-ascii",
        "lowercase-scheme-latin1",
        "a-space",
        "scheme-and-spaces",
        "word-and-space",
    ],
)
def test_basic_credentials_that_are_not_base64_of_utf8_are_an_invalid_client(
    portal: Flask, path: str, credentials: str
) -> None:
    """``Basic //467aCA`` (the bytes ff fe 3a ed a0 80) and ``Basic été`` were 500s:
    Authlib's decoder raised ValueError; so was a header of one space, which it cannot
    split in two. They authenticate no client (RFC 6749 §5.2)."""
    response = portal.test_client().post(
        path,
        data={"token": "x", "grant_type": "refresh_token"},
        headers={"Authorization": credentials},
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    "claims",
    [{"exp": 10**20}, {"exp": 1e20}, {"exp": 2**63}, {"jti": "x" * 5000}, {"jti": "a\x00b"}],
    ids=["exp-10e20", "exp-float", "exp-2e63", "jti-5000-characters", "jti-nul"],
)
def test_private_key_jwt_assertions_that_cannot_be_kept_are_an_invalid_client(
    portal: Flask, claims: dict[str, object]
) -> None:
    """Found by fuzzing the token endpoint with assertions signed by the agency's own key:
    ``exp`` 10^20 overflowed the spent assertion's expiry (a 500); a 5,000-character or
    NUL-bearing ``jti`` was stored (PostgreSQL refuses both: a 500 there)."""
    import secrets
    import time

    from joserfc import jwt
    from joserfc.jwk import ECKey

    from identity.oidc.models import OidcSpentAssertion

    key = ECKey.generate_key("P-256", private=True)
    with portal.app_context():
        registered = clients.create(
            "Firmante",
            ["https://signed.example/cb"],
            auth_method="private_key_jwt",
            jwks={"keys": [{**key.as_dict(private=False), "kid": "k"}]},
        )
        db.session.commit()
        client_id = registered.client.client_id
    now = int(time.time())
    body = {
        "iss": client_id,
        "sub": client_id,
        "aud": f"{portal.config['PUBLIC_URL'].rstrip('/')}/oidc/token",
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(8),
        **claims,
    }
    response = portal.test_client().post(
        "/oidc/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": "x",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": jwt.encode({"alg": "ES256", "kid": "k"}, body, key),
        },
    )
    assert response.status_code in (400, 401)
    assert response.get_json()["error"] == "invalid_client"
    with portal.app_context():
        assert db.session.query(OidcSpentAssertion).count() == 0


def test_control_characters_never_reach_a_form_or_a_view(portal: Flask) -> None:
    """Found by fuzzing the rename form: ``\\x05\\x7f@D`` became a security key's name, shown
    on the account page and written into the security history and its email. Every form
    and query value loses its control characters as it is read; a vertical tab or a form
    feed (pasted from a word processor) becomes a line break; tab and line breaks stay."""
    with portal.test_request_context(
        "/es/?q=padr%00%C3%B3n%1B%5B31m",
        method="POST",
        data={"na\x01me": "Llave\x00 azul\x7f\x85", "notes": "one\x0btwo\x0cthree\tfour\r\n"},
    ):
        from flask import request

        assert request.args["q"] == "padrón[31m"
        assert request.form["name"] == "Llave azul"
        assert request.form["notes"] == "one\ntwo\nthree\tfour\r\n"


def test_a_key_renamed_with_control_characters_keeps_the_visible_name(portal: Flask) -> None:
    from identity.models import Factor
    from tests.support.forms import post_form

    browser = portal.test_client()
    page = browser.get(
        "/es/_test/state/signed_in?endpoint=identity.rename_method&factor_id=0",
        follow_redirects=True,
    )
    url = page.request.path
    response = post_form(browser, url, {"name": "\x05\x7fLlave\x00 azul\x1b[0m"})
    assert response.status_code == 302
    with portal.app_context():
        factor = db.session.get(Factor, int(url.split("/")[-2]))
        assert factor is not None and factor.name == "Llave azul[0m"


@pytest.mark.parametrize(
    "authorization",
    ["abc\x00:secret", "abc\x1b[0m:secret"],
    ids=["nul", "escape"],
)
def test_a_client_id_with_control_characters_in_basic_credentials_names_no_client(
    portal: Flask, authorization: str
) -> None:
    """Found by fuzzing revocation (and checked on PostgreSQL): ``Basic`` base64 of
    ``abc\\x00:secret`` sent the NUL to the client lookup, a 500 on PostgreSQL (the fuzz
    tests' database watch fails any statement that carries a NUL, whatever the database)."""
    import base64

    from tests.support.stored import watching

    credentials = "Basic " + base64.b64encode(authorization.encode()).decode()
    with portal.app_context():
        engine = db.engine
    with watching(engine) as watch:
        watch.active = True
        response = portal.test_client().post(
            "/oidc/revoke", data={"token": "x"}, headers={"Authorization": credentials}
        )
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert watch.problems == []


@pytest.mark.parametrize("path", ["/oidc/revoke", "/oidc/introspect"])
def test_a_token_type_hint_the_portal_does_not_know_is_only_a_hint(
    portal: Flask, agency_with_secret: tuple[str, str], path: str
) -> None:
    """Found by a deeper fuzz of revocation: ``token_type_hint=id_token`` from an agency
    whose credentials were right got Authlib's 401 without ``WWW-Authenticate``, as if they
    were wrong. A hint is only a hint (RFC 7009 §2.1, RFC 7662 §2.1); a missing token is
    an invalid_request (400)."""
    import base64

    client_id, secret = agency_with_secret
    basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    browser = portal.test_client()
    response = browser.post(
        path,
        data={"token": "unknown", "token_type_hint": "id_token"},
        headers={"Authorization": basic},
    )
    assert response.status_code == 200
    if path == "/oidc/introspect":
        assert response.get_json() == {"active": False}
    missing = browser.post(path, data={"token_type_hint": "x"}, headers={"Authorization": basic})
    assert missing.status_code == 400
    assert missing.get_json()["error"] == "invalid_request"
