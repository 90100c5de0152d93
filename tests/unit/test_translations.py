"""The catalogues: current with the code, complete, and faithful to placeholders and markup.

A stale ``messages.pot`` (a string added in code but not extracted), an
untranslated or fuzzy entry, a translation that is the English copied, or one
that drops or renames a ``%(placeholder)s`` or an HTML tag, each fails here.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from tests.conftest import ROOT

TRANSLATIONS = ROOT / "translations"
TRANSLATED_LANGUAGES = ["es", "ca", "gl", "eu", "ar"]  # English is the source language
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%%")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")

#: Strings that are rightly the same in a language as in English.
_PLACEHOLDERS_ONLY = {"%(event)s: %(name)s", "%(kind)s: %(title)s"}
SAME_AS_SOURCE = {
    "es": {"Portal Ciudadano", "Error:", "Cookies", "No", *_PLACEHOLDERS_ONLY},
    "ca": {
        "Portal Ciudadano",
        "Error:",
        "No",
        "Cost",
        "Document",
        "Documents",
        *_PLACEHOLDERS_ONLY,
    },
    "gl": {"Portal Ciudadano", "Error:", "Cookies", *_PLACEHOLDERS_ONLY},
    "eu": {"Portal Ciudadano", *_PLACEHOLDERS_ONLY},
    "ar": {"Portal Ciudadano", *_PLACEHOLDERS_ONLY},
}


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def _ids(catalog: Catalog) -> set[str]:
    return {str(message.id) for message in catalog if message.id}


def _strings(message) -> list[tuple[str, str]]:
    """(source, translation) pairs, one per plural form."""
    if isinstance(message.id, tuple | list):
        sources = [message.id[0]] + [message.id[1]] * (len(message.string) - 1)
        return list(zip(sources, message.string, strict=True))
    return [(message.id, message.string)]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    output = tmp_path_factory.mktemp("pot") / "messages.pot"
    command = [
        sys.executable,
        "-m",
        "babel.messages.frontend",
        "extract",
        "-F",
        "babel.cfg",
        "--sort-by-file",
        "--add-location=file",
        "-k",
        "_l",
        "-k",
        "lazy_gettext",
        "-k",
        "ngettext:1,2",
        "-o",
        str(output),
        ".",
    ]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)  # noqa: S603
    return _read(output)


def test_the_pot_file_is_current_with_the_code(extracted: Catalog) -> None:
    committed = _read(TRANSLATIONS / "messages.pot")
    missing = _ids(extracted) - _ids(committed)
    stale = _ids(committed) - _ids(extracted)
    assert not missing, f"run `make messages`: not extracted yet: {sorted(missing)[:5]}"
    assert not stale, f"run `make messages`: no longer in the code: {sorted(stale)[:5]}"


@pytest.mark.parametrize("lang", TRANSLATED_LANGUAGES)
def test_catalogue_has_every_message_of_the_pot(lang: str) -> None:
    template = _read(TRANSLATIONS / "messages.pot")
    catalogue = _read(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po")
    assert _ids(template) - _ids(catalogue) == set(), "run `make messages` and translate"
    obsolete = _ids(catalogue) - _ids(template)
    assert not obsolete, f"obsolete entries: {sorted(obsolete)[:5]}"


@pytest.mark.parametrize("lang", TRANSLATED_LANGUAGES)
def test_catalogue_is_fully_and_faithfully_translated(lang: str) -> None:
    catalogue = _read(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po")
    problems = []
    for message in catalogue:
        if not message.id:
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        for source, translation in _strings(message):
            if not translation:
                problems.append(f"untranslated: {source!r}")
                continue
            if translation == source and source not in SAME_AS_SOURCE[lang]:
                problems.append(f"copied from English: {source!r}")
            if Counter(PLACEHOLDER.findall(source)) != Counter(PLACEHOLDER.findall(translation)):
                problems.append(f"placeholders differ: {source!r} → {translation!r}")
            if Counter(TAG.findall(source)) != Counter(TAG.findall(translation)):
                problems.append(f"HTML tags differ: {source!r} → {translation!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", TRANSLATED_LANGUAGES)
def test_catalogue_passes_babels_own_checks(lang: str) -> None:
    catalogue = _read(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po")
    errors = [(message.id, error) for message, errs in catalogue.check() for error in errs]
    assert not errors


def test_the_checker_catches_what_it_must() -> None:
    """The checks above cannot pass vacuously: each kind of mistake is caught."""
    source = 'Go <a href="%(url)s">home</a>.'
    assert Counter(PLACEHOLDER.findall(source)) != Counter(PLACEHOLDER.findall("Ir a casa."))
    assert Counter(TAG.findall(source)) != Counter(TAG.findall('Ir <a href="%(link)s">casa</a>.'))
    assert Counter(TAG.findall(source)) != Counter(TAG.findall('Ir <b href="%(url)s">casa</b>.'))
