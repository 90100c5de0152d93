"""What the load generator's simulated people do, for locust (``bench/load_mix.py`` and
``bench/sign_ins.py`` run it headless; never imported by the portal).

Every request goes as a browser sends it: ``Accept-Encoding: gzip, deflate, br``, the
session cookie, a CSRF token read from the form it submits, and redirects followed by
hand so each page counts as the request it is. Each request comes on a new connection,
as it reaches gunicorn behind the README's nginx (which opens one per request) or from a
person who reads a page for longer than gunicorn's keep-alive. Each person browses from
an address of their own (``X-Forwarded-For``, believed by a portal behind one proxy), so
per-address rate limits count them one by one, as in production.

The people and their sessions come from ``BENCH_FIXTURE`` (a JSON file written by
``bench.support.seed`` through the portal's own functions):

- ``PortalVisitor`` is the realistic mix: anonymous visitors read the catalogue and
  procedure pages; signed-in citizens open their folder, a case, a question of a draft,
  and now and then fill in and submit a whole application (start, every question, check
  your answers, submit, confirmation);
- ``SigningIn`` signs citizens in through the sign-in form: the password step only
  (``BENCH_SIGN_IN=password``), or with the authenticator app's code too (``full``).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from http.cookiejar import Cookie, CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import urlencode, urlsplit

import pyotp
from locust import FastHttpUser, events, task
from locust.exception import StopUser

with open(os.environ["BENCH_FIXTURE"]) as fixture:
    FIXTURE: dict[str, Any] = json.load(fixture)
TOKEN = re.compile(r'<input[^>]*\bname="csrf_token"[^>]*\bvalue="([^"]+)"')
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
#: The reference of every application whose confirmation page the citizen saw.
RECEIPTS: list[str] = []


@events.quitting.add_listener
def _write_receipts(**_kwargs: Any) -> None:
    path = os.environ.get("BENCH_RECEIPTS")
    if path:
        with open(path, "w") as receipts:
            receipts.write("".join(f"{reference}\n" for reference in RECEIPTS))


class Failed(Exception):
    """A page answered something other than what a browser would have gone on with."""


class LoopbackPolicy(DefaultCookiePolicy):
    """Secure cookies go back over plain HTTP: the portal sets them for the TLS that sits
    in front of it in production; here the load generator talks to it on 127.0.0.1."""

    def return_ok_secure(self, cookie: Cookie, request: Any) -> bool:
        return True


def new_jar() -> CookieJar:
    return CookieJar(LoopbackPolicy())


def _cookie_jar(name: str, value: str, host: str) -> CookieJar:
    jar = new_jar()
    jar.set_cookie(
        Cookie(
            0, name, value, None, False, host, False, False, "/", True, True, None, False,
            None, None, {"HttpOnly": None},
        )
    )  # fmt: skip
    return jar


def _address(n: int) -> str:
    """A visitor's address from 198.18.0.0/15 (RFC 2544's benchmarking range)."""
    return f"198.{18 + (n >> 16) % 2}.{(n >> 8) % 256}.{n % 256 or 1}"


class Browsing:
    """Requests as one person's browser: their cookies, their address."""

    def __init__(self, user: FastHttpUser, jar: CookieJar, address: str) -> None:
        self.user = user
        self.jar = jar
        self.address = address

    def _request(self, method: str, path: str, name: str, expect: int, body: str | None = None):
        session = self.user.client
        session.cookiejar = session.client.cookiejar = self.jar
        headers = {
            "X-Forwarded-For": self.address,
            "Connection": "close",
            **(FORM if body is not None else {}),
        }
        with session.request(
            method,
            path,
            name=name,
            data=body,
            headers=headers,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != expect:
                response.failure(f"{response.status_code}, not {expect}")
                raise Failed(name)
            return response

    def get(self, path: str, name: str, expect: int = 200) -> str:
        return self._request("GET", path, name, expect).text or ""

    def post(self, path: str, fields: list[tuple[str, str]], name: str, expect: int = 302) -> str:
        """Post the form; returns where the portal sends the browser next (a path)."""
        response = self._request("POST", path, name, expect, urlencode(fields))
        location = urlsplit(response.headers.get("Location", ""))
        return location.path + (f"?{location.query}" if location.query else "")


def token(html: str) -> str:
    found = TOKEN.search(html)
    if found is None:
        raise Failed("no CSRF token on the page")
    return found.group(1)


class Citizens:
    """The signed-in citizens, shared out: each simulated user takes the next one in turn,
    so a citizen's requests are spread in time as a real citizen's are."""

    def __init__(self) -> None:
        self.people = FIXTURE["citizens"]
        self.jars = [
            _cookie_jar(FIXTURE["cookie"], person["session"], FIXTURE["host"])
            for person in self.people
        ]
        self.turn = itertools.count()

    def next(self) -> tuple[dict[str, Any], CookieJar]:
        n = next(self.turn) % len(self.people)
        return self.people[n], self.jars[n]


class PortalVisitor(FastHttpUser):
    """The mix. Weights are tasks per hundred: most traffic reads the catalogue; a
    signed-in minority reads its folder and forms; a few submit (a submission is a dozen
    requests, so about a fifth of the requests are parts of one)."""

    connection_timeout = network_timeout = 10.0

    citizens: Citizens | None = None
    visitors = itertools.count(1)

    def on_start(self) -> None:
        if PortalVisitor.citizens is None:
            PortalVisitor.citizens = Citizens()

    def _anonymous(self) -> Browsing:
        """A new visitor: no cookies yet, an address of their own."""
        return Browsing(self, new_jar(), _address(next(self.visitors) % 65_000 + 1))

    def _citizen(self) -> tuple[dict[str, Any], Browsing]:
        assert self.citizens is not None  # noqa: S101 - set in on_start
        person, jar = self.citizens.next()
        return person, Browsing(self, jar, person["address"])

    @task(30)
    def catalogue(self) -> None:
        lang = random.choice(FIXTURE["languages"])  # noqa: S311 - a load mix, not a secret
        self._anonymous().get(f"/{lang}/procedures/", "catalogue")

    @task(30)
    def procedure(self) -> None:
        lang = random.choice(FIXTURE["languages"])  # noqa: S311
        slug = random.choice(FIXTURE["procedures"])  # noqa: S311
        self._anonymous().get(f"/{lang}/procedures/{slug}", "procedure page")

    @task(15)
    def folder(self) -> None:
        _person, browser = self._citizen()
        browser.get("/es/folder/", "folder: overview")

    @task(5)
    def cases(self) -> None:
        _person, browser = self._citizen()
        browser.get("/es/folder/cases", "folder: applications")

    @task(5)
    def case(self) -> None:
        person, browser = self._citizen()
        browser.get(f"/es/folder/cases/{person['applications'][0]}", "folder: one application")

    @task(13)
    def question(self) -> None:
        person, browser = self._citizen()
        browser.get(
            f"/es/applications/{person['draft']}/pages/{FIXTURE['form']['first_page']}",
            "form: question page",
        )

    @task(2)
    def submit_application(self) -> None:
        """A whole application: start, each question, check your answers, submit."""
        _person, browser = self._citizen()
        slug = FIXTURE["form"]["procedure"]
        try:
            start = browser.get(f"/es/procedures/{slug}", "submission: procedure page")
            url = browser.post(
                f"/es/applications/start/{slug}",
                [("csrf_token", token(start))],
                "submission: start",
            )
            for _step in range(30):
                if "/pages/" in url:
                    page = browser.get(url, "submission: question page")
                    answers = FIXTURE["form"]["pages"][url.rsplit("/", 1)[1].split("?")[0]]
                    fields = [("csrf_token", token(page)), *map(tuple, answers)]
                    url = browser.post(url, fields, "submission: answer")
                elif url.endswith("/check"):
                    check = browser.get(url, "submission: check your answers")
                    done = browser.post(
                        url.removesuffix("/check") + "/submit",
                        [("csrf_token", token(check))],
                        "submission: submit",
                    )
                    browser.get(done, "submission: confirmation")
                    RECEIPTS.append(done.split("/applications/")[1].split("/")[0])
                    return
                else:
                    raise Failed(f"unexpected page {url}")
            raise Failed("the form never reached check your answers")
        except Failed:
            return  # counted as a failure by the request that went wrong


class SigningIn(FastHttpUser):
    """Citizens signing in through the form, one account per sign-in (a code of an
    authenticator app is accepted once), each from an address of its own."""

    connection_timeout = network_timeout = 10.0
    accounts: list[list[str]] = FIXTURE.get("sign_ins", [])
    #: This run's share of the accounts (each run its own: a code is accepted once).
    taken = itertools.count(int(os.environ.get("BENCH_FIRST_ACCOUNT", "0")))
    end = int(os.environ.get("BENCH_END_ACCOUNT", len(accounts)))
    full = os.environ.get("BENCH_SIGN_IN", "full") == "full"

    @task
    def sign_in(self) -> None:
        n = next(self.taken)
        if n >= self.end:
            raise StopUser  # every account of this run has signed in once
        email, secret = self.accounts[n]
        browser = Browsing(self, new_jar(), _address(n % 65_000 + 1))
        try:
            form = browser.get("/es/account/sign-in", "sign-in: form")
            code_page = browser.post(
                "/es/account/sign-in",
                [("csrf_token", token(form)), ("email", email), ("password", FIXTURE["password"])],
                "sign-in: password",
            )
            if not code_page.endswith("/sign-in/code"):
                raise Failed(f"the password step led to {code_page}")
            if not self.full:
                return
            page = browser.get(code_page, "sign-in: code form")
            signed_in = browser.post(
                code_page,
                [("csrf_token", token(page)), ("code", pyotp.TOTP(secret).now())],
                "sign-in: code",
            )
            if "/sign-in" in signed_in:
                raise Failed(f"the code step led to {signed_in}")
        except Failed:
            return
