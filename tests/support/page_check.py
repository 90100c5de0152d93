"""The checks every rendered page must pass (after GOV.UK Notify's test fixture).

The HTML parses without errors; there is exactly one ``h1`` and the ``<title>``
starts with it (after "Error:" when the page has errors); ids are unique; every
form control has a label; every form says where it posts; ``<html lang dir>``
match the page's language; the page links its other-language versions.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

import html5lib

from portal.i18n import LANGUAGES

LABELLED_BY_ATTRIBUTE = ("aria-label", "aria-labelledby")
NOT_LABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


def _text(element: Element) -> str:
    return re.sub(r"\s+", " ", "".join(element.itertext())).strip()


def parse(html: str) -> Element:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    return parser.parse(html)


def check_page(html: str, lang: str, error_prefix: str | None = None) -> Element:
    """Assert the page checks; returns the parsed document for further asserts."""
    document = parse(html)
    root = document
    assert root.tag == "html"
    assert root.get("lang") == lang, f"<html lang> is {root.get('lang')!r}, expected {lang!r}"
    assert root.get("dir") == LANGUAGES[lang].direction

    headings = document.findall(".//h1")
    assert len(headings) == 1, f"expected exactly one h1, found {len(headings)}"
    h1 = _text(headings[0])
    assert h1, "the h1 is empty"
    title_element = document.find("./head/title")
    assert title_element is not None, "no <title>"
    title = _text(title_element)
    expected = [h1] + ([f"{error_prefix} {h1}"] if error_prefix else [])
    assert any(title.startswith(start) for start in expected), (
        f"<title> {title!r} does not start with the h1 {h1!r}"
    )

    ids = [element.get("id") for element in document.iter() if element.get("id")]
    duplicates = {value for value in ids if ids.count(value) > 1}
    assert not duplicates, f"duplicate ids: {duplicates}"

    labelled_for = {label.get("for") for label in document.iter("label")}
    for control in document.iter():
        if control.tag not in {"input", "select", "textarea"}:
            continue
        if control.tag == "input" and control.get("type", "text") in NOT_LABELLED_TYPES:
            continue
        if control.get("hidden") is not None:
            continue  # not presented (the username a password manager needs beside a password)
        assert control.get("id") in labelled_for or any(
            control.get(name) for name in LABELLED_BY_ATTRIBUTE
        ), f"{control.tag} {control.get('name')!r} has no label"

    for form in document.iter("form"):
        assert form.get("action") is not None, "a form without an action attribute"
        assert form.get("method"), "a form without a method"

    alternates = {
        link.get("hreflang") for link in document.findall("./head/link[@rel='alternate']")
    }
    assert set(LANGUAGES) | {"x-default"} <= alternates, f"hreflang links: {alternates}"
    return document
