"""An agency and a citizen's browser, over real HTTP, for the OpenID Connect tests.

The portal runs on a local port (werkzeug's threaded server); the agency is a
real OIDC client library (Authlib's ``OAuth2Session`` on ``requests``); the
"browser" is a ``requests.Session`` that reads the portal's forms and posts
them, following redirects until one leaves the portal for the agency.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from flask import Flask
from werkzeug.serving import make_server

from identity import accounts, encryption, record, totp
from identity.models import Factor, FactorKind
from portal.extensions import db

PASSWORD = "una contraseña larga para las pruebas"
_TOKEN = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)
_REFRESH = re.compile(r'<meta http-equiv="refresh" content="0;url=([^"]+)">')


@dataclass
class Served:
    app: Flask
    base: str


@dataclass
class Received:
    """What the test's back-channel endpoint was sent."""

    bodies: list[dict[str, list[str]]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)


def serve(app: Flask) -> Iterator[Served]:
    server = make_server("localhost", 0, app, threaded=True)
    base = f"http://localhost:{server.server_port}"
    # requests, unlike Chromium, does not send Secure cookies to http://localhost.
    app.config.update(
        PUBLIC_URL=base,
        WEBAUTHN_ORIGINS=[base],
        SESSION_COOKIE_SECURE=False,
        SESSION_COOKIE_NAME="session",
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Served(app, base)
    server.shutdown()
    thread.join()


def backchannel_endpoint() -> Iterator[tuple[str, Received]]:
    """A tiny server standing for an agency's back-channel logout URI."""
    received = Received()

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode()
        received.bodies.append(parse_qs(body))
        received.arrived.set()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    server = make_server("localhost", 0, wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_port}/logout", received
    server.shutdown()
    thread.join()


@dataclass
class Person:
    email: str
    totp_secret: str


def make_citizen(app: Flask, with_record: bool = True) -> Person:
    """A verified account with an authenticator app and, by default, a citizen record."""
    email = f"oidc-{secrets.token_hex(5)}@example.es"
    secret = totp.new_secret()
    with app.app_context():
        account = accounts.create_account(email, PASSWORD, "es")
        accounts.mark_email_verified(account)
        account.factors.append(
            Factor(
                kind=FactorKind.TOTP, name="Móvil", totp_secret_encrypted=encryption.encrypt(secret)
            )
        )
        if with_record:
            record.record(account, "given_name", "Lucía", "police", verified=True)
            record.record(account, "family_name", "Martín Ruiz", "police", verified=True)
            record.record(account, "national_id", "12345678Z", "police", verified=True)
            record.record(account, "birth_date", "1990-05-17", "police", verified=True)
            record.record(account, "phone", "+34 611 222 333", "citizen", verified=False)
            record.record(
                account,
                "address",
                {
                    "street": "Calle Real",
                    "number": "3",
                    "postcode": "28999",
                    "municipality": "Villanueva",
                    "province": "Madrid",
                },
                "municipal_census",
                verified=True,
            )
        db.session.commit()
    return Person(email, secret)


def csrf_token(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, html[:2000]
    return match.group(1) or match.group(2)


class Browser:
    """A citizen's browser: cookies, forms, and redirects followed while on the portal."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.page: requests.Response | None = None

    def go(self, url: str, method: str = "GET", data: dict[str, str] | None = None) -> str | None:
        """Load ``url`` and follow the portal's redirects; returns the URL outside the portal
        the browser was sent to (the agency's redirect URI), or ``None`` if it stays on a page."""
        response = self.http.request(method, url, data=data, allow_redirects=False, timeout=10)
        for _hop in range(12):
            if response.status_code in (301, 302, 303, 307):
                target = requests.compat.urljoin(response.url, response.headers["Location"])
                if not target.startswith(self.base):
                    return target
                response = self.http.get(target, allow_redirects=False, timeout=10)
                continue
            refresh = _REFRESH.search(response.text)
            if refresh:
                target = unescape(refresh.group(1))
                if not target.startswith(self.base):
                    return target
                response = self.http.get(target, allow_redirects=False, timeout=10)
                continue
            break
        self.page = response
        return None

    def submit(self, data: dict[str, str]) -> str | None:
        """Post the current page's form back to it, with its CSRF token."""
        assert self.page is not None
        return self.go(self.page.url, "POST", {"csrf_token": csrf_token(self.page.text), **data})

    def sign_in(self, person: Person) -> str | None:
        """On the sign-in page: password, then the code from the app."""
        assert self.page is not None and "/account/sign-in" in self.page.url, self.page.url
        gone = self.submit({"email": person.email, "password": PASSWORD})
        assert gone is None and "/sign-in/code" in self.page.url, self.page.url
        return self.submit({"code": totp.current_code(person.totp_secret)})

    def reauthenticate(self, person: Person) -> str | None:
        """Confirm it is you: the password again, then the app's next code (this step's
        code was spent signing in, and a code is accepted once)."""
        assert self.page is not None and "/reauthenticate" in self.page.url, self.page.url
        gone = self.submit({"password": PASSWORD})
        assert gone is None and "/sign-in/code" in self.page.url, self.page.url
        return self.submit({"code": totp.current_code(person.totp_secret, time.time() + 30)})


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
