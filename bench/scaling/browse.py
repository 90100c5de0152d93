"""Browsing the portal as its users do: signing in through the real forms (password, then
the code from the authenticator app), then asking for pages, over HTTP or through Flask's
test client. Both kinds of browser answer the same three calls, so the same sign-in and
the same pages are timed over HTTP and counted in process.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests
from flask import Flask
from sqlalchemy import event

from identity import totp
from portal.extensions import db

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass(frozen=True)
class Answer:
    status: int
    location: str
    text: str


class Browser(Protocol):
    def get(self, path: str) -> Answer: ...

    def post(self, path: str, data: dict[str, str]) -> Answer: ...


class HttpBrowser:
    """A browser talking to a running server, keeping its connection and cookies."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()

    def _answer(self, response: requests.Response) -> Answer:
        return Answer(response.status_code, response.headers.get("Location", ""), response.text)

    def get(self, path: str) -> Answer:
        return self._answer(self.session.get(self.base + path, allow_redirects=False, timeout=600))

    def post(self, path: str, data: dict[str, str]) -> Answer:
        response = self.session.post(
            self.base + path, data=data, allow_redirects=False, timeout=600
        )
        return self._answer(response)


class ClientBrowser:
    """The same, through Flask's test client: the app runs in this process, so the
    statements each page sends can be watched."""

    def __init__(self, app: Flask) -> None:
        self.client = app.test_client()

    def get(self, path: str) -> Answer:
        response = self.client.get(path)
        return Answer(
            response.status_code, response.headers.get("Location", ""), response.get_data(True)
        )

    def post(self, path: str, data: dict[str, str]) -> Answer:
        response = self.client.post(path, data=data)
        return Answer(
            response.status_code, response.headers.get("Location", ""), response.get_data(True)
        )


def csrf_token(browser: Browser, path: str) -> str:
    page = browser.get(path)
    found = CSRF.search(page.text)
    if page.status != 200 or found is None:
        raise RuntimeError(f"{path}: {page.status}, no form to post")
    return found.group(1)


def sign_in(browser: Browser, email: str, password: str, secret: str) -> None:
    """Password, then the app's current code; ``RuntimeError`` if either is refused."""
    token = csrf_token(browser, "/es/account/sign-in")
    answer = browser.post(
        "/es/account/sign-in", {"csrf_token": token, "email": email, "password": password}
    )
    if answer.status != 302 or not answer.location.endswith("/sign-in/code"):
        raise RuntimeError(f"{email}: password refused ({answer.status} {answer.location})")
    token = csrf_token(browser, "/es/account/sign-in/code")
    answer = browser.post(
        "/es/account/sign-in/code", {"csrf_token": token, "code": totp.current_code(secret)}
    )
    if answer.status != 302:
        raise RuntimeError(f"{email}: code refused ({answer.status})")


@dataclass(frozen=True)
class Page:
    """One page to time: who asks for it, and how (a GET, or a form posted)."""

    name: str
    who: str
    path: str
    form: dict[str, str] | None = None
    #: The path of the page whose form is posted (for its CSRF token).
    form_page: str = ""

    def ask(self, browser: Browser, token: str | None) -> Answer:
        if self.form is None:
            return browser.get(self.path)
        return browser.post(self.path, {"csrf_token": token or "", **self.form})

    def token(self, browser: Browser) -> str | None:
        return csrf_token(browser, self.form_page or self.path) if self.form else None


@dataclass
class Timing:
    samples: list[float] = field(default_factory=list)
    #: CPU milliseconds per request, server and database together (None: not measured).
    cpu: float | None = None

    def percentile(self, share: float) -> float:
        ordered = sorted(self.samples)
        rank = share * (len(ordered) - 1)
        low = int(rank)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def time_page(
    page: Page,
    browser: Browser,
    repeat: int,
    budget: float,
    cpu: Callable[[], float] | None = None,
    warm_up: int = 3,
) -> Timing:
    """Milliseconds per request, ``repeat`` times or until ``budget`` seconds have gone
    (at least five), after ``warm_up`` requests that fill the caches; and the CPU time
    per request that ``cpu`` (cumulative seconds) says was spent meanwhile."""
    token = page.token(browser)
    for _ in range(warm_up):
        _check(page, page.ask(browser, token))
    timing = Timing()
    cpu_before = cpu() if cpu else 0.0
    started = time.perf_counter()
    while len(timing.samples) < repeat:
        before = time.perf_counter()
        answer = page.ask(browser, token)
        timing.samples.append((time.perf_counter() - before) * 1000)
        _check(page, answer)
        if time.perf_counter() - started > budget and len(timing.samples) >= 5:
            break
    if cpu:
        timing.cpu = (cpu() - cpu_before) * 1000 / len(timing.samples)
    return timing


def _check(page: Page, answer: Answer) -> None:
    if answer.status != 200:
        raise RuntimeError(f"{page.name} ({page.path}): {answer.status} {answer.location}")


@dataclass(frozen=True)
class Statement:
    sql: str
    parameters: Any
    milliseconds: float


@contextmanager
def watching(app: Flask) -> Iterator[list[Statement]]:
    """Every statement the app sends meanwhile, with its parameters and time taken."""
    seen: list[Statement] = []
    started: list[float] = []

    def before(*_args: Any) -> None:
        started.append(time.perf_counter())

    def after(_connection: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        spent = (time.perf_counter() - started.pop()) * 1000 if started else 0.0
        seen.append(Statement(statement, parameters, spent))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def statements_of(page: Page, browser: Browser, app: Flask) -> list[Statement]:
    """The statements one request for ``page`` sends (after one that fills the caches)."""
    token = page.token(browser)
    _check(page, page.ask(browser, token))
    with watching(app) as seen:
        _check(page, page.ask(browser, token))
    return seen


def explain(app: Flask, statement: Statement) -> str:
    """PostgreSQL's plan for ``statement``, with the time and buffers it really took."""
    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(
                f"EXPLAIN (ANALYZE, BUFFERS) {statement.sql}",
                statement.parameters,
            )
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            connection.rollback()
            connection.close()
