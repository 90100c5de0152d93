"""Every GET route of the inventory with its URL taken apart: path values of the wrong
shape (references, ids, tokens, slugs, codes: empty, huge, negative, beyond 64 bits,
traversal, NUL, unicode, bytes that are not UTF-8), a language the portal does not
serve, and query strings with every parameter the views read set to nonsense
(``page=-1``, ``page=99999999999``, repeated, unknown). Never a 5xx; an HTML answer is the
portal's own page, in the URL's language when it serves it; nothing stored that
PostgreSQL would refuse.

Each state of the inventory (signed in, a busy folder, staff...) is set up once, and every
route that needs it is then asked for from that browser: the values are wrong anyway.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote_from_bytes

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import ROOT, empty_tables, make_test_app
from tests.support import hostile
from tests.support.fuzzing import assert_portal_answer, finished, fuzz_settings, visitor
from tests.support.html_forms import urlencoded
from tests.support.inventory import INVENTORY, LANGUAGE_CODES, Page, path
from tests.support.stored import watching

_READ = re.compile(r"""request\.args(?:\.get|\.getlist)?[\[(]\s*["']([\w-]+)["']""")


def query_keys() -> list[str]:
    """Every query parameter a view reads (found in the source, so a new one is fuzzed
    without being listed) and every one the inventory sends."""
    found = {
        name
        for package in ("portal", "identity", "procedures")
        for source in (ROOT / package).rglob("*.py")
        for name in _READ.findall(source.read_text())
    }
    found |= {key for page in INVENTORY for key in page.values}
    return sorted(found)


QUERY_KEYS = query_keys()
#: The states of the inventory, each set up once: signed-in states first reach the
#: account page, the others the page the inventory names first.
STATES = sorted({page.state or "" for page in INVENTORY})

#: Path values of the wrong shape, beside the hostile text every fuzz test sends.
PATH_VALUES = (
    b"",
    b"0",
    b"-1",
    b"99999999999999999999",
    b"9223372036854775808",
    b"AAAA-BBBB-CCCC",
    b"aaaa-bbbb-cccc-dddd-eeee",
    b"..",
    b"../../../../etc/passwd",
    b"%2e%2e",
    b"\x00",
    b"x" * 5000,
)
LANGS_NOT_SERVED = (b"xx", b"ES", b"es-ES", b"en_GB", b"e\x00s", b"\xd8\xb9", b"static")
PAGE_NUMBERS = (b"-1", b"0", b"99999999999", b"1e3", b"1.5", b"abc", b"", b"\xd9\xa3")

_VARIABLE = re.compile(r"<(?:[^<>]*:)?(\w+)>")


@pytest.fixture(scope="module")
def portal(_migrated: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    app = make_test_app(_migrated, tmp_path_factory.mktemp("fuzz-urls"), METRICS_TOKEN="t" * 32)
    yield app
    with app.app_context():
        empty_tables()


def _routes(state: str) -> list[Page]:
    """One inventory page per GET route that needs ``state`` (the first listed)."""
    seen: set[str] = set()
    pages = []
    for page in INVENTORY:
        if (page.state or "") == state and page.endpoint not in seen:
            seen.add(page.endpoint)
            pages.append(page)
    return pages


def _enter(app: Flask, state: str) -> FlaskClient:
    """A browser in ``state``, through the inventory's test-only route."""
    browser = visitor(app)
    if state:
        first = _routes(state)[0]
        with app.test_request_context():
            url = path(first, "es")
        response = finished(browser.get(url, follow_redirects=True))
        assert response.status_code == first.status, f"{url}: {response.status_code}"
    return browser


def _segment(value: bytes) -> str:
    return quote_from_bytes(value, safe="")


@st.composite
def urls(draw: st.DrawFn, app: Flask, page: Page) -> str:
    """The route's URL with some path values, perhaps its language, and its query wrong."""
    rule = next(rule for rule in app.url_map.iter_rules(page.endpoint) if "GET" in rule.methods)
    names = _VARIABLE.findall(rule.rule)
    wrong = draw(st.sets(st.sampled_from(names), max_size=len(names))) if names else set()
    lang = draw(st.sampled_from(LANGUAGE_CODES))

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "lang":
            if name in wrong:
                return _segment(draw(st.sampled_from(LANGS_NOT_SERVED) | hostile.hostile_text))
            return lang
        if name in wrong:
            return _segment(draw(st.sampled_from(PATH_VALUES) | hostile.hostile_text))
        return _segment(str(page.values.get(name, "1")).encode())

    route = _VARIABLE.sub(value, rule.rule)
    shown = [
        (key.encode(), str(value).encode())
        for key, value in page.values.items()
        if f"<{key}>" not in rule.rule and not re.search(rf":{key}>", rule.rule)
    ]
    keys = st.sampled_from(QUERY_KEYS).map(str.encode) | hostile.hostile_text
    values = st.sampled_from(PAGE_NUMBERS) | hostile.hostile_text
    extra = draw(st.lists(st.tuples(keys, values), max_size=4))
    query = urlencoded(shown + extra).decode()
    return f"{route}?{query}" if query else route


def _fuzz_route(app: Flask, browser: FlaskClient, page: Page) -> None:
    with app.app_context():
        from portal.extensions import db

        engine = db.engine

    @fuzz_settings(examples=4)
    @given(urls(app, page))
    def hostile_urls(url: str) -> None:
        with watching(engine) as watch:
            watch.active = True
            response = finished(browser.get(url))
        lang = url.split("/")[1]
        if not (response.status_code == 200 and page.kind != "html"):  # files, JSON: as served
            assert_portal_answer(response, lang if lang in LANGUAGE_CODES else None, url)
        assert watch.problems == [], f"{url}: {watch.problems}"

    hostile_urls()


@pytest.mark.parametrize("state", STATES, ids=lambda state: state or "anonymous")
def test_every_get_route_survives_wrong_path_values_and_queries(portal: Flask, state: str) -> None:
    browser = _enter(portal, state)
    for page in _routes(state):
        _fuzz_route(portal, browser, page)
