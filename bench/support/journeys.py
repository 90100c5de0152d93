"""Citizens using the portal while faults happen, each request and each submission kept.

Threads play citizens as their browsers would: every page read for its CSRF token, each
form posted, redirects followed one by one, cookies kept, and each citizen from an address
of their own (``X-Forwarded-For``, believed by a portal behind one proxy). A new
connection per request, as gunicorn sees requests behind the README's nginx.

- :class:`Applicant` threads fill in and submit whole applications, one citizen after
  another: procedure page, start, every question, check your answers, submit, the
  confirmation with its registry number. When a step fails they do what a citizen does:
  wait a moment and go back to the application (``/applications/<reference>/`` leads to
  the first question left, to check your answers, or to the confirmation if it was sent).
  So a submission whose answer was lost is finished or found sent, never guessed at.
- :class:`AccountEmails` signs new people up and asks password resets for existing ones:
  actions whose only visible result is an email.
- :class:`Readiness` reads ``/readyz`` four times a second: when the portal said it could
  not serve, and when it said it could again.

Nothing here decides what is an outage: the requests carry their times, and the report
compares them with the faults' windows.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

TOKEN = re.compile(r'<input[^>]*\bname="csrf_token"[^>]*\bvalue="([^"]+)"')
CONTINUE = re.compile(r'href="(/es/applications/[A-Z0-9-]+/)"')
REGISTRY_NUMBER = re.compile(r"\bREG-\d{4}-\d{6}\b")
APPLICATION = re.compile(r"^/es/applications/([A-Z0-9-]+)/(.*)$")
#: Connect, then read: gunicorn gives up on a request after 30 s.
TIMEOUT = (5, 20)
#: How long a citizen waits after a failed step before going back to the application.
RETRY_PAUSE = 0.5
#: How long a citizen keeps trying to finish one application before giving up on it.
PERSEVERANCE = 90.0


@dataclass(frozen=True)
class Request:
    client: str
    name: str
    started: float
    ended: float
    #: None when no answer came (connection refused or cut, time-out).
    status: int | None
    #: Empty when the answer was the one a browser goes on with; otherwise what went wrong.
    error: str = ""
    #: An error answered with the portal's own page (its layout), not a bare gunicorn or
    #: proxy error.
    portal_page: bool = False
    #: The answer carried the portal's request id: its after-request hooks ran.
    request_id: bool = True


@dataclass
class Submission:
    client: str
    email: str
    started: float
    ended: float = 0.0
    reference: str = ""
    #: The registry number on the confirmation page; empty if it was never shown.
    number: str = ""
    #: Every number any confirmation page showed for it: one, if the receipt holds.
    numbers: set[str] = field(default_factory=set)
    receipt_at: float = 0.0
    #: Steps that failed on the way, and why.
    failures: list[str] = field(default_factory=list)
    #: A POST to submit got no usable answer: the citizen could not know if it was sent.
    submit_unanswered: bool = False


@dataclass(frozen=True)
class AccountEmail:
    """An action that emails ``email`` once, if the portal accepted it (``accepted``); if
    the request failed, the citizen cannot know whether it was done (``accepted`` None)."""

    action: str
    email: str
    at: float
    accepted: bool | None


class Failed(Exception):
    """A step got something other than what a browser goes on with."""


class Journal:
    """What every client did, shared by the threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        self.submissions: list[Submission] = []
        self.account_emails: list[AccountEmail] = []
        self.readiness: list[tuple[float, int | None]] = []

    def add(self, kind: str, item: Any) -> None:
        with self._lock:
            getattr(self, kind).append(item)


class Browser:
    """One person's browser: their cookies, their address."""

    def __init__(self, base: str, address: str, journal: Journal, client: str) -> None:
        self.base = base
        self.address = address
        self.journal = journal
        self.client = client
        #: The cookies the portal set, sent back as they are: its cookies are ``Secure`` (for
        #: the TLS in front of it in production) and this client talks plain HTTP to
        #: 127.0.0.1, where a cookie jar would keep them to itself.
        self.cookies: dict[str, str] = {}

    def set_cookie(self, name: str, value: str) -> None:
        self.cookies[name] = value

    def request(
        self, method: str, path: str, name: str, expect: tuple[int, ...], data: Any = None
    ) -> requests.Response:
        started = time.monotonic()
        try:
            response = requests.request(
                method,
                self.base + path,
                data=data,
                headers={
                    "X-Forwarded-For": self.address,
                    "Connection": "close",
                    "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
                },
                allow_redirects=False,
                timeout=TIMEOUT,
            )
            self.cookies.update(response.cookies.get_dict())
        except requests.RequestException as error:
            what = f"{type(error).__name__}"
            self.journal.add(
                "requests", Request(self.client, name, started, time.monotonic(), None, what)
            )
            raise Failed(f"{name}: {what}") from error
        ok = response.status_code in expect
        own_page = "<html lang=" in response.text
        self.journal.add(
            "requests",
            Request(
                self.client,
                name,
                started,
                time.monotonic(),
                response.status_code,
                "" if ok else str(response.status_code),
                own_page and not ok,
                "X-Request-ID" in response.headers,
            ),
        )
        if not ok:
            raise Failed(f"{name}: {response.status_code}")
        return response

    def get(self, path: str, name: str, expect: tuple[int, ...] = (200,)) -> requests.Response:
        return self.request("GET", path, name, expect)

    def post(self, path: str, fields: list[tuple[str, str]], name: str) -> str:
        """Post a form; where the portal sends the browser next."""
        return location(self.request("POST", path, name, (302, 303), fields))


def location(response: requests.Response) -> str:
    target = urlsplit(response.headers.get("Location", ""))
    return target.path + (f"?{target.query}" if target.query else "")


def token(html: str) -> str:
    found = TOKEN.search(html)
    if found is None:
        raise Failed("no CSRF token on the page")
    return found.group(1)


@dataclass
class Citizen:
    email: str
    address: str
    session: str


class Applicant(threading.Thread):
    """Submits applications for its citizens in turn until told to stop; the application
    in hand is finished first."""

    def __init__(
        self,
        name: str,
        base: str,
        cookie: str,
        citizens: list[Citizen],
        form: dict[str, Any],
        journal: Journal,
        stopping: threading.Event,
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.journal = journal
        self.stopping = stopping
        self.slug: str = form["procedure"]
        self.answers: dict[str, list[list[str]]] = form["pages"]
        self.browsers: list[tuple[Citizen, Browser]] = []
        for citizen in citizens:
            browser = Browser(base, citizen.address, journal, name)
            browser.set_cookie(cookie, citizen.session)
            self.browsers.append((citizen, browser))

    def run(self) -> None:
        for citizen, browser in itertools.cycle(self.browsers):
            if self.stopping.is_set():
                return
            self.journal.add("submissions", self.submit(citizen, browser))

    def submit(self, citizen: Citizen, browser: Browser) -> Submission:
        made = Submission(self.name, citizen.email, time.monotonic())
        give_up = made.started + PERSEVERANCE
        url: str | None = None  # None: from the procedure's page
        while not made.number and time.monotonic() < give_up:
            try:
                url = self._step(browser, made, url)
            except Failed as failed:
                made.failures.append(str(failed))
                time.sleep(RETRY_PAUSE)
                url = f"/es/applications/{made.reference}/" if made.reference else None
        made.ended = time.monotonic()
        return made

    def _step(self, browser: Browser, made: Submission, url: str | None) -> str | None:
        """One page: read it, and post its form if it has one. Where to go next."""
        if url is None:
            page = browser.get(f"/es/procedures/{self.slug}", "procedure page").text
            draft = CONTINUE.search(page)  # an application left half-way: carry on with it
            if draft:
                return draft.group(1)
            return browser.post(
                f"/es/applications/start/{self.slug}", [("csrf_token", token(page))], "start"
            )
        found = APPLICATION.match(url.split("?")[0])
        if found is None:
            raise Failed(f"unexpected page {url}")
        made.reference, rest = found.groups()
        if rest == "":
            return location(browser.get(url, "back to the application", (302,)))
        if rest.startswith("pages/"):
            response = browser.get(url, "question", (200, 302))
            if response.status_code == 302:
                return location(response)
            fields = [("csrf_token", token(response.text))]
            fields += [(key, value) for key, value in self.answers[rest.removeprefix("pages/")]]
            return browser.post(url, fields, "answer")
        if rest == "check":
            response = browser.get(url, "check your answers", (200, 302))
            if response.status_code == 302:
                return location(response)
            try:
                return browser.post(
                    url.removesuffix("/check") + "/submit",
                    [("csrf_token", token(response.text))],
                    "submit",
                )
            except Failed:
                made.submit_unanswered = True
                raise
        if rest == "confirmation":
            response = browser.get(url, "confirmation", (200, 302))
            if response.status_code == 302:
                return location(response)
            number = REGISTRY_NUMBER.search(response.text)
            if number is None:
                raise Failed("a confirmation page without a registry number")
            made.numbers.add(number.group(0))
            made.number, made.receipt_at = number.group(0), time.monotonic()
            return None
        raise Failed(f"unexpected page {url}")


class AccountEmails(threading.Thread):
    """Signs up new people and asks password resets for the given accounts, alternately,
    one action every ``pause`` seconds, each from an address of its own: each accepted
    action is one email to one address."""

    def __init__(
        self,
        base: str,
        reset_emails: list[str],
        password: str,
        journal: Journal,
        stopping: threading.Event,
        addresses: Iterator[str],
        pause: float = 1.0,
    ) -> None:
        super().__init__(name="accounts", daemon=True)
        self.base = base
        self.resets = iter(reset_emails)  # each once: no address's email limit is reached
        self.password = password
        self.journal = journal
        self.stopping = stopping
        self.addresses = addresses
        self.pause = pause

    def run(self) -> None:
        for n in itertools.count():
            if self.stopping.is_set():
                return
            if n % 2 == 0:
                self._act("sign-up", f"signup-{n}@bench.portal.example", "/es/account/create")
            else:
                email = next(self.resets, None)
                if email is not None:
                    self._act("password reset", email, "/es/account/forgot-password")
            self.stopping.wait(self.pause)

    def _act(self, action: str, email: str, path: str) -> None:
        browser = Browser(self.base, next(self.addresses), self.journal, self.name)
        at = time.monotonic()
        try:
            form = browser.get(path, f"{action}: form").text
        except Failed:
            return  # nothing was asked: nothing is owed
        fields = [("csrf_token", token(form)), ("email", email)]
        if action == "sign-up":
            fields.append(("password", self.password))
        try:
            browser.post(path, fields, f"{action}: send")
        except Failed:
            self.journal.add("account_emails", AccountEmail(action, email, at, None))
            return
        self.journal.add("account_emails", AccountEmail(action, email, at, True))


class Readiness(threading.Thread):
    """``/readyz``, four times a second."""

    def __init__(self, base: str, journal: Journal, stopping: threading.Event) -> None:
        super().__init__(name="readyz", daemon=True)
        self.base = base
        self.journal = journal
        self.stopping = stopping

    def run(self) -> None:
        while not self.stopping.is_set():
            at = time.monotonic()
            try:
                status: int | None = requests.get(
                    f"{self.base}/readyz", headers={"Connection": "close"}, timeout=2
                ).status_code
            except requests.RequestException:
                status = None
            self.journal.add("readiness", (at, status))
            self.stopping.wait(0.25)
