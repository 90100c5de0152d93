"""Security baseline: headers on every response, cookies, CSRF, rate limits, error statuses."""

from __future__ import annotations

import pytest

from tests.conftest import make_test_app
from tests.support.translations import translate


def _csp(response) -> dict[str, str]:
    return {
        part.strip().split(" ", 1)[0]: part.strip().split(" ", 1)[1]
        for part in response.headers["Content-Security-Policy"].split(";")
    }


@pytest.mark.parametrize(
    "url", ["/es/", "/es/no-such-page", "/healthz", "/static/css/portal.css", "/"]
)
def test_every_response_carries_the_security_headers(client, url) -> None:
    response = client.get(url)
    response.close()
    csp = _csp(response)
    assert csp["default-src"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["form-action"] == "'self'"
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    policy = response.headers["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy
    assert "publickey-credentials" not in policy, "WebAuthn stays at its default"


def test_hsts_is_sent_over_https_only(client) -> None:
    assert (
        "Strict-Transport-Security" not in client.get("/es/", base_url="http://localhost").headers
    )
    secure = client.get("/es/", base_url="https://localhost")
    max_age = int(secure.headers["Strict-Transport-Security"].split("max-age=")[1].split(";")[0])
    assert max_age >= 365 * 24 * 3600
    assert "includeSubDomains" in secure.headers["Strict-Transport-Security"]


def test_no_inline_script_or_style_in_pages(client) -> None:
    html = client.get("/es/").get_data(as_text=True)
    assert "<script>" not in html and "<style" not in html and " style=" not in html
    assert " on" + "click=" not in html


def test_pages_with_personal_data_are_not_cached(client) -> None:
    assert client.get("/es/").headers["Cache-Control"] == "no-store"


def test_session_cookie_is_host_prefixed_secure_httponly_lax(app) -> None:
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    client = app.test_client()
    client.get("/es/_test/form")  # a form puts its CSRF secret in the session
    response = client.get("/es/_test/form")
    cookie = client.get_cookie("__Host-session")
    assert cookie is not None and cookie.secure and cookie.http_only and cookie.path == "/"
    assert response.status_code == 200


def test_a_form_posted_without_its_token_shows_the_expired_page(client) -> None:
    response = client.post("/en/_test/form", data={"full_name": "Ana"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Your form has expired" in html
    assert 'href="/en/_test/form"' in html


def test_a_forged_token_is_refused_too(app, client) -> None:
    client.get("/es/_test/form")
    response = client.post("/es/_test/form", data={"csrf_token": "forged", "full_name": "Ana"})
    assert response.status_code == 400
    expired = translate(app, "es", "Your form has expired")
    assert expired != "Your form has expired"
    assert expired in response.get_data(as_text=True)


def test_method_not_allowed_keeps_the_allow_header(client) -> None:
    response = client.get("/es/_test/post-only")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_too_many_requests_says_how_long_to_wait(client) -> None:
    for _ in range(2):
        assert client.get("/en/_test/limited").status_code == 200
    response = client.get("/en/_test/limited")
    assert response.status_code == 429
    seconds = int(response.headers["Retry-After"])
    assert 0 < seconds <= 61  # the fixed window's end, rounded up
    html = response.get_data(as_text=True)
    assert "Too many attempts" in html
    assert "Try again in" in html
    assert "second" in html or "minute" in html


def test_the_default_limit_applies_to_every_page_but_not_static_files(
    database_url, tmp_path
) -> None:
    app = make_test_app(database_url, tmp_path, DEFAULT_RATE_LIMIT="3 per minute")
    client = app.test_client()
    statuses = [client.get("/es/cookies").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    with client.get("/static/css/portal.css") as static:
        assert static.status_code == 200
    assert client.get("/healthz").status_code == 200


def test_a_server_error_is_a_translated_500_page(app) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/gl/_test/error/500")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert 'lang="gl"' in html
    sorry = translate(app, "gl", "Sorry, there is a problem with the service")
    assert sorry != "Sorry, there is a problem with the service"
    assert sorry in html


def test_a_database_out_of_reach_is_a_503_to_try_again_later(app) -> None:
    """A restart or failover is a moment's unavailability: 503 and Retry-After tell clients
    and load balancers so, with the same translated apology (bench/faults.py restarts
    PostgreSQL under load and sees these)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/eu/_test/error/database")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    html = response.get_data(as_text=True)
    assert 'lang="eu"' in html
    assert translate(app, "eu", "Sorry, there is a problem with the service") in html


def test_a_request_too_large_gets_a_page_not_a_crash(database_url, tmp_path) -> None:
    app = make_test_app(database_url, tmp_path, MAX_CONTENT_LENGTH=10)
    response = app.test_client().post("/es/_test/form", data={"full_name": "x" * 100})
    assert response.status_code == 413
    assert 'lang="es"' in response.get_data(as_text=True)


def test_a_form_posted_from_another_site_is_refused_even_with_a_token(client) -> None:
    from tests.support.forms import csrf_token

    token = csrf_token(client, "/en/_test/form")
    response = client.post(
        "/en/_test/form",
        data={"csrf_token": token, "full_name": "Ana"},
        headers={"Referer": "https://evil.example/en/_test/form"},
    )
    assert response.status_code == 400
