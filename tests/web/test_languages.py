"""The language lives in the URL; / finds the citizen's language; every page links the others."""

from __future__ import annotations

import pytest

from portal.i18n import LANGUAGES
from tests.support.page_check import parse


def test_root_sends_a_newcomer_to_spanish(client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/es/"
    assert {"Accept-Language", "Cookie"} <= set(response.vary)


def test_root_follows_the_browsers_languages(client) -> None:
    response = client.get("/", headers={"Accept-Language": "fr;q=1, eu;q=0.8, en;q=0.5"})
    assert response.headers["Location"] == "/eu/"


def test_root_prefers_the_language_cookie_to_the_browser(client) -> None:
    client.set_cookie("lang", "gl")
    response = client.get("/", headers={"Accept-Language": "en"})
    assert response.headers["Location"] == "/gl/"


def test_a_bad_language_cookie_is_ignored(client) -> None:
    client.set_cookie("lang", "xx")
    assert client.get("/", headers={"Accept-Language": "ar"}).headers["Location"] == "/ar/"


def test_reading_a_page_remembers_its_language_for_next_time(client) -> None:
    response = client.get("/ca/")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lang=ca;")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert client.get("/").headers["Location"] == "/ca/"


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_html_lang_and_dir_are_right(client, lang) -> None:
    document = parse(client.get(f"/{lang}/").get_data(as_text=True))
    assert document.get("lang") == lang
    assert document.get("dir") == ("rtl" if lang == "ar" else "ltr")


def test_every_page_links_its_other_language_versions(client) -> None:
    document = parse(client.get("/en/privacy").get_data(as_text=True))
    alternates = {
        link.get("hreflang"): link.get("href")
        for link in document.findall("./head/link[@rel='alternate']")
    }
    assert alternates == {
        "es": "/es/privacy",
        "en": "/en/privacy",
        "ca": "/ca/privacy",
        "gl": "/gl/privacy",
        "eu": "/eu/privacy",
        "ar": "/ar/privacy",
        "x-default": "/",
    }


def test_the_switcher_names_each_language_in_itself_with_its_own_lang(client) -> None:
    document = parse(client.get("/es/cookies").get_data(as_text=True))
    switcher = document.find(".//nav[@class='language-switcher']")
    entries = {
        element.get("lang"): ("".join(element.itertext()), element.tag, element.get("href"))
        for element in switcher.iter()
        if element.get("lang")
    }
    assert entries == {
        "es": ("Español", "span", None),
        "en": ("English", "a", "/en/cookies"),
        "ca": ("Català", "a", "/ca/cookies"),
        "gl": ("Galego", "a", "/gl/cookies"),
        "eu": ("Euskara", "a", "/eu/cookies"),
        "ar": ("العربية", "a", "/ar/cookies"),
    }
    assert switcher.find(".//span[@aria-current='true']") is not None
    assert switcher.find(".//img") is None, "no flags"
    assert switcher.find(".//a[@hreflang='ar']").get("dir") == "rtl"


def test_an_unknown_language_is_not_found(client) -> None:
    assert client.get("/fr/").status_code == 404
    assert client.get("/ES/").status_code == 404


def test_a_path_without_a_language_is_sent_to_the_readers_language(client) -> None:
    response = client.get("/privacy", headers={"Accept-Language": "eu"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/eu/privacy"
    assert client.get("/no-such-page").status_code == 404


@pytest.mark.parametrize(
    "path", ["//evil.example/", "/\\evil.example", "/%2F%2Fevil.example", "/https://evil.example"]
)
def test_language_redirects_never_leave_the_site(client, path) -> None:
    response = client.get(path)
    location = response.headers.get("Location", "")
    assert not location or (location.startswith("/") and not location.startswith("//"))


def test_the_switcher_keeps_the_query_but_not_url_building_options(client) -> None:
    html = client.get("/es/privacy?q=padron&_external=1&_scheme=javascript").get_data(as_text=True)
    document = parse(html)
    link = document.find(".//nav[@class='language-switcher']//a[@hreflang='en']")
    assert link.get("href") == "/en/privacy?q=padron"


def test_a_query_named_like_url_fors_own_arguments_is_just_a_query(client) -> None:
    response = client.get("/es/privacy?endpoint=pages.home&values=1")
    assert response.status_code == 200
    link = parse(response.get_data(as_text=True)).find(
        ".//nav[@class='language-switcher']//a[@hreflang='en']"
    )
    assert link.get("href") == "/en/privacy?endpoint=pages.home&values=1"
