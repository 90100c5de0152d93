"""Every page, in every language, passes the page check and says what it should."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import empty_tables, make_test_app
from tests.support.forms import post_form
from tests.support.inventory import ERROR_PATHS, FORM_PAGES, HTML_PAGES, LANGUAGE_CODES, path
from tests.support.testing_routes import SIGNED_IN_STATES
from tests.web.conftest import GetPage

_VISITORS = itertools.count(1)


@pytest.fixture(scope="module")
def portal(_migrated: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One portal for the inventory's thousands of page checks: building the app for each
    cost more than the check itself (minutes in all). Each check comes as a new visitor
    (``visitor``) and each state makes an account of its own, so no check sees another's
    session, rate limits or rows."""
    app = make_test_app(_migrated, tmp_path_factory.mktemp("pages-instance"))
    yield app
    with app.app_context():
        empty_tables()


@pytest.fixture
def visitor(portal: Flask) -> FlaskClient:
    """A new browser, from an address of its own (rate limits are counted per address)."""
    client = portal.test_client()
    number = next(_VISITORS)
    client.environ_base["REMOTE_ADDR"] = (
        f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"
    )
    return client


@pytest.mark.parametrize("lang", LANGUAGE_CODES)
@pytest.mark.parametrize("page", HTML_PAGES, ids=lambda page: page.id)
def test_page_passes_the_page_check_in_every_language(portal: Flask, visitor, page, lang) -> None:
    """Every HTML page of the inventory answers as listed, in every language, and passes."""
    from tests.support.page_check import check_page
    from tests.web.conftest import error_prefix

    with portal.test_request_context():
        url = path(page, lang)
    response = visitor.get(url, follow_redirects=page.state is not None)
    assert response.status_code == page.status, f"{url}: {response.status_code}"
    assert response.mimetype == "text/html"
    if page.state in SIGNED_IN_STATES and page.status == 200:
        assert "/account/sign-in" not in response.request.path, f"{url} asked to sign in"
    document = check_page(response.get_data(as_text=True), lang, error_prefix(portal, lang))
    skip_link = document.find(".//body/a")
    assert skip_link is not None and skip_link.get("href") == "#main"
    assert document.find(".//main[@id='main']") is not None
    footer_links = {a.get("href") for a in document.findall(".//footer//a")}
    assert {
        f"/{lang}/accessibility",
        f"/{lang}/privacy",
        f"/{lang}/cookies",
        f"/{lang}/contact",
    } <= footer_links


@pytest.mark.parametrize("lang", LANGUAGE_CODES)
@pytest.mark.parametrize("page", FORM_PAGES, ids=lambda page: page.id)
def test_form_posted_empty_shows_its_errors_in_every_language(
    portal: Flask, visitor, page, lang
) -> None:
    """The error state: a summary first in main, linked to fields, and "Error:" in the title."""
    from tests.support.forms import csrf_token
    from tests.support.page_check import check_page
    from tests.web.conftest import error_prefix

    with portal.test_request_context():
        url = path(page, lang)
    response = visitor.get(url, follow_redirects=page.state is not None)
    form_url = response.request.path + (
        "?" + response.request.query_string.decode() if response.request.query_string else ""
    )
    token = csrf_token(visitor, form_url)
    response = visitor.post(
        form_url, data={"csrf_token": token}, headers={"Referer": f"https://localhost{form_url}"}
    )
    assert response.status_code in (200, 400), form_url
    document = check_page(response.get_data(as_text=True), lang, error_prefix(portal, lang))
    summary = document.find(".//main/div[@class='error-summary']")
    assert summary is not None, f"{form_url}: no error summary"
    title = "".join(document.find("./head/title").itertext())
    assert title.startswith(error_prefix(portal, lang))


@pytest.mark.parametrize("lang", LANGUAGE_CODES)
@pytest.mark.parametrize("code", sorted(ERROR_PATHS))
def test_error_pages_are_translated_pages_with_a_way_forward(get_page: GetPage, code, lang) -> None:
    document = get_page(ERROR_PATHS[code].format(lang=lang), lang, status=int(code))
    links = {a.get("href") for a in document.findall(".//main//a")}
    assert f"/{lang}/" in links, "an error page must lead somewhere"


def test_pages_are_translated_not_english(client) -> None:
    english = client.get("/en/accessibility").get_data(as_text=True)
    for lang in ("es", "ca", "gl", "eu", "ar"):
        translated = client.get(f"/{lang}/accessibility").get_data(as_text=True)
        assert "Accessibility statement" not in translated, lang
        assert translated != english


def test_the_statement_dates_are_formatted_by_babel_in_each_language(client) -> None:
    assert "21 de noviembre de 2026" in client.get("/es/accessibility").get_data(as_text=True)
    assert "November 21, 2026" in client.get("/en/accessibility").get_data(as_text=True)
    assert "21 de novembre del 2026" in client.get("/ca/accessibility").get_data(as_text=True)


def test_the_phone_hours_use_each_languages_time_format(client) -> None:
    assert "9:00" in client.get("/es/contact").get_data(as_text=True)
    assert "9:00\u202fAM" in client.get("/en/contact").get_data(as_text=True)


def test_form_with_errors_has_error_title_summary_and_inline_errors(
    client, get_page: GetPage
) -> None:
    response = post_form(client, "/en/_test/form", {"email": "not-an-email"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    from tests.support.page_check import check_page

    document = check_page(html, "en", "Error:")
    assert document.find("./head/title").text.startswith("Error: Example form")
    summary_links = [a.get("href") for a in document.findall(".//div[@class='error-summary']//a")]
    assert summary_links == ["#full_name", "#email", "#contact"]
    email = document.find(".//input[@id='email']")
    assert email.get("value") == "not-an-email", "what the user typed is kept"
    assert email.get("aria-describedby") == "email-error"
    assert email.get("autocomplete") == "email"
    assert "Enter a valid email" in "".join(document.find(".//p[@id='email-error']").itertext())


def test_component_gallery_renders_every_component(get_page: GetPage) -> None:
    for lang in LANGUAGE_CODES:
        document = get_page(f"/{lang}/_test/components", lang)
        assert document.find(".//dl[@class='summary-list']") is not None
        assert document.find(".//ul[@class='task-list']") is not None
        assert document.find(".//ol[@class='timeline']") is not None
        assert document.find(".//nav[@class='pagination']") is not None
