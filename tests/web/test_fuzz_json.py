"""The machine endpoints under hostile requests: OpenID Connect's token, userinfo,
revocation and introspection, discovery and keys, health and metrics, and the JSON of
passkeys (the options the page's script fetches, the answers it posts). Never a server
error; OAuth errors as RFC 6749 §5.2 and
RFC 6750 §3 say (JSON, the right code, ``WWW-Authenticate``, never cached); nothing
stored that PostgreSQL would refuse.

Two fuzzers: hypothesis with strategies written for each endpoint (client credentials
right, wrong and malformed; real, spent and forged codes and tokens; private_key_jwt
assertions signed with the client's key but carrying absurd claims; every content type),
and Schemathesis, which reads ``docs/openapi.yaml`` and checks every answer against it
(status, content type, headers, body schema).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from joserfc import jwt
from joserfc.jwk import ECKey
from schemathesis import GenerationMode, checks
from werkzeug.test import TestResponse

from tests.conftest import ROOT, empty_tables, make_test_app
from tests.support import hostile
from tests.support.fuzzing import assert_portal_answer, finished, fuzz_settings, move, visitor
from tests.support.html_forms import post_forms, urlencoded
from tests.support.stored import watching

CALLBACK = "https://agency.example/callback"
#: RFC 7636's example: the challenge every test authorization request sends.
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: RFC 6749 §5.2, RFC 7009 §2.2.1, RFC 6750 §3.1.
OAUTH_ERRORS = {
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "unsupported_token_type",
    "invalid_token",
}


@dataclass
class Provider:
    """The portal with three registered agencies and a citizen's live tokens."""

    app: Flask
    client_id: str
    secret: str
    public_id: str
    signed_id: str
    signing_key: ECKey
    metrics_token: str

    def basic(self, client_id: str | None = None, secret: str | None = None) -> str:
        pair = f"{client_id or self.client_id}:{self.secret if secret is None else secret}"
        return "Basic " + base64.b64encode(pair.encode()).decode()

    def assertion(self, **claims: Any) -> str:
        """A private_key_jwt assertion signed with the agency's registered key."""
        now = int(time.time())
        body = {
            "iss": self.signed_id,
            "sub": self.signed_id,
            "aud": f"{self.app.config['PUBLIC_URL'].rstrip('/')}/oidc/token",
            "iat": now,
            "exp": now + 60,
            "jti": secrets.token_urlsafe(12),
            **claims,
        }
        return jwt.encode({"alg": "ES256", "kid": "agency-1"}, body, self.signing_key)

    def tokens(self) -> dict[str, str]:
        """A citizen signs in to the agency through the real pages: the code, exchanged."""
        code = self.code()
        response = self.app.test_client().post(
            "/oidc/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": CALLBACK,
                "code_verifier": VERIFIER,
            },
            headers={"Authorization": self.basic()},
        )
        assert response.status_code == 200, response.get_json()
        return {**response.get_json(), "code": code}

    def code(self) -> str:
        browser = visitor(self.app)
        browser.get("/es/_test/state/signed_in?endpoint=identity.account")
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": CALLBACK,
                "scope": "openid profile email offline_access",
                "state": "s",
                "nonce": secrets.token_urlsafe(8),
                "code_challenge": CHALLENGE,
                "code_challenge_method": "S256",
            }
        )
        consent = browser.get(f"/oidc/authorize?{query}", follow_redirects=True)
        form = next(
            form
            for form in post_forms(consent.get_data(as_text=True), consent.request.url)
            if urlsplit(form.action).path.endswith("/account/connect")
        )
        data = dict(form.as_shown())
        answer = browser.post(
            urlsplit(form.action)._replace(scheme="", netloc="").geturl(),
            data={**data, "decision": "allow"},
            headers={"Referer": consent.request.url},
        )
        location = answer.headers.get("Location") or _refresh_target(answer)
        return parse_qs(urlsplit(location).query)["code"][0]


def _refresh_target(response: TestResponse) -> str:
    html = response.get_data(as_text=True)
    start = html.index("url=") + 4
    return html[start : html.index('"', start)].replace("&amp;", "&")


@pytest.fixture(scope="module")
def provider(_migrated: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    from identity.oidc import clients
    from portal.extensions import db

    metrics_token = secrets.token_urlsafe(16)
    app = make_test_app(
        _migrated, tmp_path_factory.mktemp("fuzz-json"), METRICS_TOKEN=metrics_token
    )
    key = ECKey.generate_key("P-256", private=True)
    with app.app_context():
        confidential = clients.create("Agencia", [CALLBACK], sector="agency.example")
        public = clients.create("App", ["https://app.example/cb"], auth_method="none")
        signed = clients.create(
            "Firmante",
            ["https://signed.example/cb"],
            auth_method="private_key_jwt",
            jwks={"keys": [{**key.as_dict(private=False), "kid": "agency-1"}]},
        )
        db.session.commit()
        ids = confidential.client.client_id, public.client.client_id, signed.client.client_id
        secret = confidential.secret or ""
    yield Provider(app, ids[0], secret, ids[1], ids[2], key, metrics_token)
    with app.app_context():
        empty_tables()


# What an OAuth endpoint must answer ------------------------------------------------------


def assert_oauth_answer(response: TestResponse, sent: object, *, ok: tuple[int, ...]) -> None:
    """JSON, never cached; an error is one of the RFCs' codes, 401 with WWW-Authenticate."""
    assert response.status_code < 500, f"{sent}: {response.status_code}"
    assert response.status_code in (*ok, 400, 401), f"{sent}: {response.status_code}"
    if response.status_code == 200 and not response.data:
        return  # revocation's empty success
    assert response.mimetype == "application/json", f"{sent}: {response.mimetype}"
    body = json.loads(response.data)
    assert isinstance(body, dict), sent
    if response.status_code >= 400:
        assert body.get("error") in OAUTH_ERRORS, f"{sent}: {body}"
    if response.status_code == 401:
        assert "WWW-Authenticate" in response.headers, sent
    assert "no-store" in response.headers.get("Cache-Control", ""), f"{sent}: cached"


def _latin1(max_size: int = 60) -> st.SearchStrategy[str]:
    """Header values: HTTP carries bytes (never a line break); WSGI hands them over as
    Latin-1."""
    return st.text(
        st.characters(min_codepoint=1, max_codepoint=255, exclude_characters="\r\n"),
        max_size=max_size,
    )


def authorizations(provider: Provider) -> st.SearchStrategy[str | None]:
    """No header; the right client; a wrong secret; another scheme; base64 that is not, or
    that decodes to something without a colon, or to bytes that are not UTF-8."""
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return st.one_of(
        st.none(),
        st.just(provider.basic()),
        st.just(provider.basic(secret="not-the-secret")),
        st.just(provider.basic(client_id=provider.public_id, secret="")),
        st.just("Basic " + b64(b"no colon here")),
        st.just("Basic " + b64(b"\xff\xfe:\xed\xa0\x80")),
        st.just("Basic " + b64(provider.client_id.encode() + b"\x00:" + b"x")),
        st.just("Basic !!!not base64!!!"),
        st.just("Basic"),
        st.just("Bearer " + secrets.token_urlsafe(8)),
        st.just("basic " + b64(f"{provider.client_id}:{provider.secret}".encode())),
        _latin1(),
        _latin1().map(lambda text: "Basic " + text),
    )


CONTENT_TYPES = (
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-16",
    "application/x-www-form-urlencoded; charset=nonsense",
    "application/json",
    "text/plain",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "",
)


def _param(values: st.SearchStrategy[bytes]) -> st.SearchStrategy[list[bytes]]:
    """A parameter absent, once, or twice (RFC 6749 §3.2: sent twice is invalid_request)."""
    return st.lists(values, max_size=2)


@st.composite
def token_requests(draw: st.DrawFn, provider: Provider, live: dict[str, str]) -> dict[str, Any]:
    """A token request: every parameter right, wrong, malformed, missing or repeated."""
    grant = st.sampled_from(
        (
            b"authorization_code",
            b"refresh_token",
            b"client_credentials",
            b"password",
            b"urn:ietf:params:oauth:grant-type:jwt-bearer",
        )
    )
    claims = st.fixed_dictionaries(
        {},
        optional={
            "exp": st.one_of(
                st.integers(min_value=-(2**70), max_value=2**70),
                st.floats(allow_nan=False),
                st.text(max_size=8),
                st.none(),
            ),
            "iat": st.one_of(st.integers(min_value=-(2**40), max_value=2**70), st.text(max_size=4)),
            "jti": st.one_of(st.text(max_size=300), st.integers(), st.lists(st.integers())),
            "sub": st.one_of(st.just(provider.client_id), st.text(max_size=20), st.integers()),
            "iss": st.one_of(st.just(provider.public_id), st.text(max_size=20)),
            "aud": st.one_of(st.just("https://elsewhere.example"), st.lists(st.text(max_size=5))),
        },
    )
    assertion = st.one_of(
        claims.map(lambda extra: provider.assertion(**extra).encode()),
        st.sampled_from((b"a.b.c", b"eyJhbGciOiJub25lIn0.e30.", b"...", b"e30")),
        hostile.hostile_text,
    )
    fields = {
        b"grant_type": _param(grant | hostile.hostile_text),
        b"code": _param(st.sampled_from((live["code"].encode(),)) | hostile.hostile_text),
        b"redirect_uri": _param(st.sampled_from((CALLBACK.encode(),)) | hostile.hostile_text),
        b"code_verifier": _param(st.just(VERIFIER.encode()) | hostile.hostile_text),
        b"refresh_token": _param(
            st.just(live.get("refresh_token", "").encode()) | hostile.hostile_text
        ),
        b"client_id": _param(
            st.sampled_from((provider.client_id, provider.public_id, provider.signed_id)).map(
                str.encode
            )
            | hostile.hostile_text
        ),
        b"client_secret": _param(st.just(provider.secret.encode()) | hostile.hostile_text),
        b"client_assertion_type": _param(st.just(JWT_BEARER.encode()) | hostile.hostile_text),
        b"client_assertion": _param(assertion),
        b"scope": _param(
            st.sampled_from((b"openid", b"openid offline_access")) | hostile.hostile_text
        ),
    }
    pairs = [(name, value) for name, values in fields.items() for value in draw(values)]
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    body = (
        json.dumps({k.decode(): v.decode("utf-8", "replace") for k, v in pairs}).encode()
        if content_type == "application/json"
        else urlencoded(pairs)
    )
    return {
        "pairs": pairs,
        "body": body,
        "content_type": content_type,
        "authorization": draw(authorizations(provider)),
    }


def _post(
    provider: Provider, path: str, request: dict[str, Any], client: FlaskClient | None = None
) -> TestResponse:
    headers = {}
    if request["authorization"] is not None:
        headers["Authorization"] = request["authorization"]
    with provider.app.app_context():
        from portal.extensions import db

        engine = db.engine
    with watching(engine) as watch:
        watch.active = True
        response = finished(
            (client or visitor(provider.app)).post(
                path, data=request["body"], content_type=request["content_type"], headers=headers
            )
        )
    assert watch.problems == [], f"{path} {request}: {watch.problems}"
    return response


def test_token_endpoint_answers_every_request_with_an_oauth_answer(provider: Provider) -> None:
    live = provider.tokens()

    @fuzz_settings(examples=60)
    @given(token_requests(provider, live))
    def hostile_token_requests(request: dict[str, Any]) -> None:
        response = _post(provider, "/oidc/token", request)
        assert_oauth_answer(response, request, ok=(200,))
        if response.status_code == 200:
            assert response.get_json()["token_type"] == "Bearer"

    hostile_token_requests()


@st.composite
def token_references(draw: st.DrawFn, provider: Provider, live: dict[str, str]) -> dict[str, Any]:
    """A revocation or introspection request: which token, which hint, which client."""
    fields = {
        b"token": _param(
            st.sampled_from((live["access_token"].encode(), live.get("refresh_token", "").encode()))
            | hostile.hostile_text
        ),
        b"token_type_hint": _param(
            st.sampled_from((b"access_token", b"refresh_token", b"id_token")) | hostile.hostile_text
        ),
        b"client_id": _param(
            st.sampled_from((provider.client_id, provider.public_id)).map(str.encode)
            | hostile.hostile_text
        ),
        b"client_secret": _param(st.just(provider.secret.encode()) | hostile.hostile_text),
    }
    pairs = [(name, value) for name, values in fields.items() for value in draw(values)]
    return {
        "pairs": pairs,
        "body": urlencoded(pairs),
        "content_type": draw(st.sampled_from(CONTENT_TYPES)),
        "authorization": draw(authorizations(provider)),
    }


@pytest.mark.parametrize("path", ["/oidc/revoke", "/oidc/introspect"])
def test_revocation_and_introspection_answer_every_request(provider: Provider, path: str) -> None:
    live = provider.tokens()

    @fuzz_settings(examples=40)
    @given(token_references(provider, live))
    def hostile_references(request: dict[str, Any]) -> None:
        response = _post(provider, path, request)
        assert_oauth_answer(response, request, ok=(200,))
        if path == "/oidc/introspect" and response.status_code == 200:
            assert isinstance(response.get_json()["active"], bool)

    hostile_references()


@st.composite
def bearer_requests(draw: st.DrawFn, live: dict[str, str]) -> dict[str, Any]:
    """Userinfo asked with a real, forged, oddly written or absent access token."""
    token = draw(
        st.one_of(
            st.just(live["access_token"]),
            st.just(live.get("refresh_token", "")),
            st.just(live.get("id_token", "")),
            _latin1(200),
        )
    )
    scheme = draw(
        st.sampled_from(("Bearer ", "bearer ", "BEARER ", "Bearer  ", "Basic ", "", "Bearer\t"))
    )
    authorization = draw(st.one_of(st.just(scheme + token), st.none(), _latin1()))
    return {
        "method": draw(st.sampled_from(("GET", "POST"))),
        "authorization": authorization,
        "query": draw(st.lists(st.tuples(hostile.hostile_text, hostile.hostile_text), max_size=2)),
        "body": urlencoded(
            draw(st.lists(st.tuples(st.just(b"access_token"), hostile.hostile_text), max_size=2))
        ),
    }


def test_userinfo_answers_every_bearer_with_claims_or_invalid_token(provider: Provider) -> None:
    live = provider.tokens()

    @fuzz_settings(examples=40)
    @given(bearer_requests(live))
    def hostile_bearers(request: dict[str, Any]) -> None:
        headers = {"Authorization": request["authorization"]} if request["authorization"] else {}
        path = "/oidc/userinfo?" + urlencoded(request["query"]).decode()
        response = finished(
            visitor(provider.app).open(
                path,
                method=request["method"],
                data=request["body"] if request["method"] == "POST" else None,
                content_type="application/x-www-form-urlencoded",
                headers=headers,
            )
        )
        assert response.status_code in (200, 401), f"{request}: {response.status_code}"
        assert response.mimetype == "application/json"
        if response.status_code == 200:
            assert response.get_json()["sub"]
            assert response.headers["Cache-Control"] == "no-store"
        else:
            assert response.get_json() == {"error": "invalid_token"}
            assert response.headers["WWW-Authenticate"].startswith("Bearer")

    hostile_bearers()


# Everything else that answers machines -----------------------------------------------------

#: The GET endpoints that answer JSON or text whatever the browser says it accepts.
MACHINE_GETS = (
    "/.well-known/openid-configuration",
    "/oidc/jwks",
    "/healthz",
    "/readyz",
    "/metrics",
)


@st.composite
def odd_headers(draw: st.DrawFn, provider: Provider) -> dict[str, str]:
    """Headers a proxy, a crawler or an attacker sends: compression, caching, content
    negotiation, request ids and forwarded addresses, all malformed."""
    names = st.sampled_from(
        (
            "Accept",
            "Accept-Encoding",
            "Accept-Language",
            "If-None-Match",
            "If-Modified-Since",
            "Range",
            "X-Request-ID",
            "X-Forwarded-For",
            "X-Forwarded-Proto",
            "X-Forwarded-Host",
            "Cookie",
            "Origin",
            "Referer",
            "User-Agent",
        )
    )
    values = st.one_of(
        _latin1(),
        st.sampled_from(
            (
                "br;q=abc, gzip;q=1e999, *;q=-1",
                "identity;q=0, *;q=0",
                "application/openmetrics-text; version=99",
                "*/*;q=",
                "bytes=99999999999-",
                "session=not-a-session; session=",
                "\x00",
                "a" * 8000,
            )
        ),
    )
    headers = draw(st.dictionaries(names, values, max_size=4))
    authorization = draw(
        st.one_of(st.none(), st.just(f"Bearer {provider.metrics_token}"), _latin1())
    )
    if authorization is not None:
        headers["Authorization"] = authorization
    return headers


def test_machine_get_endpoints_survive_any_headers_and_query(provider: Provider) -> None:
    @fuzz_settings(examples=40)
    @given(
        st.sampled_from(MACHINE_GETS),
        odd_headers(provider),
        st.lists(st.tuples(hostile.hostile_text, hostile.hostile_text), max_size=3),
        st.sampled_from(("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PROPFIND")),
    )
    def hostile_gets(path: str, headers: dict[str, str], query: list, method: str) -> None:
        url = f"{path}?{urlencoded(query).decode()}"
        response = finished(visitor(provider.app).open(url, method=method, headers=headers))
        sent = (method, url[:200], headers)
        if method in ("HEAD", "OPTIONS"):  # no body to be a page
            assert response.status_code < 500, sent
        else:
            assert_portal_answer(response, None, sent)
        if method in ("GET", "HEAD") and response.status_code == 200 and path != "/metrics":
            assert response.mimetype == "application/json", sent

    hostile_gets()


def test_authorize_and_logout_links_of_any_shape_end_on_a_page_or_at_the_agency(
    provider: Provider,
) -> None:
    """What an agency's (or an attacker's) link sends the citizen's browser to."""
    params = st.lists(
        st.tuples(
            st.sampled_from(
                (
                    b"response_type",
                    b"client_id",
                    b"redirect_uri",
                    b"scope",
                    b"state",
                    b"nonce",
                    b"code_challenge",
                    b"code_challenge_method",
                    b"prompt",
                    b"max_age",
                    b"acr_values",
                    b"ui_locales",
                    b"id_token_hint",
                    b"post_logout_redirect_uri",
                    b"request",
                    b"claims",
                )
            ),
            st.one_of(
                st.sampled_from(
                    (
                        provider.client_id.encode(),
                        CALLBACK.encode(),
                        b"code",
                        b"openid",
                        b"S256",
                        b"plain",
                        b"none login consent",
                        b"-1",
                        b"99999999999999999999",
                        b"ar-EG en",
                    )
                ),
                hostile.hostile_text,
            ),
        ),
        max_size=8,
    )

    @fuzz_settings(examples=40)
    @given(st.sampled_from(("/oidc/authorize", "/oidc/logout")), params, st.booleans())
    def hostile_links(path: str, query: list, signed_in: bool) -> None:
        browser = visitor(provider.app)
        if signed_in:
            browser.get("/es/_test/state/signed_in?endpoint=identity.account")
        response = finished(browser.get(f"{path}?{urlencoded(query).decode()}"))
        assert response.status_code == 302, query
        target = urlsplit(response.headers["Location"])
        assert not target.netloc or target.netloc == "localhost", "left the portal at once"
        lang = target.path.split("/")[1]
        page = finished(browser.get(response.headers["Location"]))
        assert_portal_answer(page, lang if page.status_code < 300 else None, query)

    hostile_links()


# Passkeys: the options the page's script fetches ----------------------------------------


PURPOSES = (
    "passkey",
    "second-factor",
    "reauthenticate",
    "register-passkey",
    "register-security-key",
)
STATES = {
    "anonymous": None,
    "pending": "/{lang}/_test/state/pending?endpoint=identity.second_factor_key",
    "signed_in": "/{lang}/_test/state/signed_in?endpoint=identity.reauthenticate",
    "enrolling": "/{lang}/_test/state/enrolling?endpoint=identity.choose_method",
}


@pytest.mark.parametrize("state", sorted(STATES))
def test_passkey_options_answer_json_or_a_portal_page(provider: Provider, state: str) -> None:
    browser = visitor(provider.app)
    lang = "es"
    page = (
        browser.get(STATES[state].format(lang=lang), follow_redirects=True)
        if STATES[state]
        else browser.get(f"/{lang}/account/sign-in")
    )
    token = next(
        value
        for form in post_forms(page.get_data(as_text=True), page.request.url)
        for name, value in form.as_shown()
        if name.endswith("csrf_token")
    )

    @fuzz_settings(examples=25)
    @given(
        st.sampled_from(PURPOSES).map(str.encode) | hostile.hostile_text,
        st.one_of(st.just(token), st.none(), _latin1()),
        st.binary(max_size=200) | hostile.hostile_text,
        st.sampled_from(("application/json", "text/plain", "application/x-www-form-urlencoded")),
    )
    def hostile_options(purpose: bytes, csrf: str | None, body: bytes, content_type: str) -> None:
        from urllib.parse import quote_from_bytes

        url = f"/{lang}/account/webauthn/options/{quote_from_bytes(purpose, safe='')}"
        headers = {"Accept": "application/json", "Referer": page.request.url}
        if csrf is not None:
            headers["X-CSRFToken"] = csrf
        response = finished(
            browser.post(url, data=body, content_type=content_type, headers=headers)
        )
        sent = (url, csrf, body[:80])
        assert_portal_answer(response, lang, sent)
        if response.status_code == 200:
            options = json.loads(response.data)
            assert options["challenge"], sent

    hostile_options()


# Passkeys: the answers the page's script posts -------------------------------------------


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@st.composite
def webauthn_answers(
    draw: st.DrawFn, challenge: str, credential_ids: list[bytes], registration: bool
) -> str:
    """A PublicKeyCredential as JSON, as ``static/js/webauthn.js`` posts it, each part right,
    wrong or malformed: the challenge just issued or another, the site's origin or not,
    authenticator data for this relying party or random, a known credential id or not."""
    client_data = {
        "type": draw(st.sampled_from(("webauthn.get", "webauthn.create", "", "other"))),
        "challenge": draw(st.sampled_from((challenge, "AAAA", "")) | st.text(max_size=20)),
        "origin": draw(
            st.sampled_from(("http://localhost:5000", "https://evil.example", "null", ""))
        ),
        **draw(st.fixed_dictionaries({}, optional={"crossOrigin": st.booleans() | st.integers()})),
    }
    client_json = draw(
        st.just(_b64url(json.dumps(client_data).encode()))
        | st.sampled_from(("", "!!", "e30", "AAAA"))
        | st.binary(max_size=40).map(_b64url)
    )
    flags = draw(st.integers(min_value=0, max_value=255))
    authenticator_data = (
        hashlib.sha256(b"localhost").digest()
        + bytes([flags])
        + draw(st.binary(min_size=0, max_size=40))
    )
    raw_id = draw(st.sampled_from(credential_ids) | st.binary(max_size=64))
    response: dict[str, Any] = {
        "clientDataJSON": client_json,
        "authenticatorData": draw(
            st.just(_b64url(authenticator_data)) | st.binary(max_size=40).map(_b64url)
        ),
        "signature": draw(st.binary(max_size=72).map(_b64url)),
    }
    handle = draw(st.none() | st.binary(max_size=64).map(_b64url) | st.integers() | st.just("!!"))
    if handle is not None:
        response["userHandle"] = handle
    if registration:
        response["attestationObject"] = draw(
            st.binary(max_size=120).map(_b64url)
            | st.just("o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YUA")  # {"fmt": "none", ...} empty
        )
        response["transports"] = draw(st.lists(st.text(max_size=8), max_size=3))
    answer: dict[str, Any] = {
        "id": _b64url(raw_id),
        "rawId": _b64url(raw_id),
        "type": draw(st.sampled_from(("public-key", "password", ""))),
        "response": response,
        "clientExtensionResults": draw(st.sampled_from(({}, {"credProps": {"rk": True}}, []))),
    }
    dropped = draw(st.sampled_from((None, "id", "rawId", "type", "response")))
    if dropped:
        del answer[dropped]
    return json.dumps(answer)


#: Where a passkey answer is posted: the state, the page, the options' purpose, the field
#: names (the sign-in page prefixes its passkey form) and whether it registers a key.
CEREMONIES = {
    "sign-in": (None, "/es/account/sign-in", "passkey", "passkey-", False),
    "second-factor": (
        "/es/_test/state/pending?endpoint=identity.second_factor_key",
        None,
        "second-factor",
        "",
        False,
    ),
    "register": (
        "/es/_test/state/enrolling?endpoint=identity.set_up_key&kind=passkey",
        None,
        "register-passkey",
        "",
        True,
    ),
}


@pytest.mark.parametrize("ceremony", sorted(CEREMONIES))
def test_passkey_answers_of_any_shape_are_refused_on_the_page(
    provider: Provider, ceremony: str
) -> None:
    """The options are fetched (so a challenge waits in the session), then an answer of
    any shape is posted: never a 5xx, the portal's page, no factor added or changed."""
    from sqlalchemy import func, select

    from identity.models import Factor
    from portal.extensions import db

    state, page_url, purpose, prefix, registration = CEREMONIES[ceremony]
    browser = visitor(provider.app)
    page = finished(browser.get(state or page_url, follow_redirects=True))
    form = next(
        form
        for form in post_forms(page.get_data(as_text=True), page.request.url)
        if any(name == f"{prefix}credential" for name, _value in form.as_shown())
    )
    shown = dict(form.as_shown())
    action = urlsplit(form.action)._replace(scheme="", netloc="").geturl()
    with provider.app.app_context():
        known = list(
            db.session.scalars(
                select(Factor.credential_id)
                .where(Factor.credential_id.is_not(None))
                .order_by(Factor.id.desc())
                .limit(3)
            )
        )
        engine = db.engine

    def factors() -> int:
        with provider.app.app_context():
            return db.session.scalar(select(func.count(Factor.id))) or 0

    @fuzz_settings(examples=25)
    @given(st.data())
    def hostile_answers(data: st.DataObject) -> None:
        move(browser)
        options = finished(
            browser.post(
                f"/es/account/webauthn/options/{purpose}",
                headers={
                    "X-CSRFToken": shown[f"{prefix}csrf_token"],
                    "Accept": "application/json",
                    "Referer": page.request.url,
                },
            )
        )
        assert options.status_code == 200, options.status_code
        challenge = json.loads(options.data)["challenge"]
        answer = data.draw(webauthn_answers(challenge, known or [b"x"], registration))
        before = factors()
        with watching(engine) as watch:
            watch.active = True
            response = finished(
                browser.post(
                    action,
                    data={**shown, f"{prefix}credential": answer},
                    headers={"Referer": page.request.url},
                )
            )
        assert_portal_answer(response, "es", answer)
        assert response.status_code in (200, 400), (response.status_code, answer)
        assert watch.problems == [], f"{answer}: {watch.problems}"
        assert factors() == before, answer

    hostile_answers()


# The OpenAPI description, run by Schemathesis ---------------------------------------------

OPENAPI = ROOT / "docs" / "openapi.yaml"
DESCRIPTION = schemathesis.openapi.from_path(OPENAPI)
OPERATIONS = [result.ok() for result in DESCRIPTION.get_all_operations()]
#: What every answer is checked for. Schemathesis' other checks expect an API whose valid
#: data succeeds, which an OAuth endpoint fed random codes and tokens does not.
CONFORMANCE = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


def _takes_input(operation: Any) -> bool:
    """Whether there is anything to send wrong (else only valid requests exist)."""
    raw = operation.definition.raw
    return bool(raw.get("parameters") or raw.get("requestBody") or raw.get("security"))


CASES = [
    (operation, mode)
    for operation in OPERATIONS
    for mode in GenerationMode
    if mode == GenerationMode.POSITIVE or _takes_input(operation)
]


@pytest.mark.parametrize(
    ("operation", "mode"), CASES, ids=[f"{op.label}-{mode.value}" for op, mode in CASES]
)
def test_machine_endpoints_keep_to_their_openapi_description(
    provider: Provider, operation: Any, mode: GenerationMode
) -> None:
    """Every operation, with data that fits its description and data that does not: each
    answer is one the description lists, with its content type, headers and body."""
    # The WSGI transport does not undo Content-Encoding, and the portal compresses JSON.
    headers = {"Accept-Encoding": "identity"}
    if operation.path == "/metrics":
        headers["Authorization"] = f"Bearer {provider.metrics_token}"

    @fuzz_settings(examples=15)
    @given(operation.as_strategy(generation_mode=mode))
    def conforms(case: Any) -> None:
        response = case.call(app=provider.app, headers=headers)
        case.validate_response(response, checks=CONFORMANCE, headers=headers)

    conforms()


def test_the_openapi_description_names_every_machine_endpoint(provider: Provider) -> None:
    """A JSON endpoint added to the portal must be described (and so fuzzed) too."""
    import yaml

    described = set(yaml.safe_load(OPENAPI.read_text())["paths"])
    machine = {
        rule.rule
        for rule in provider.app.url_map.iter_rules()
        if not rule.rule.startswith(("/<lang", "/static", "/<path"))
        and rule.rule != "/"
        and not rule.endpoint.startswith("testing.")
    }
    assert machine == described
