"""The catalogue search gives the same top results on SQLite (FTS5) and PostgreSQL
(tsvector): the expected results below are asserted in both of ``.ci/run``'s passes.

Every query is typed the way citizens do: without accents, in capitals, in the plural.
"""

from __future__ import annotations

import pytest

from procedures import catalogue, search

pytestmark = pytest.mark.database

EXPECTED = [
    ("es", "PADRÓN", ["change-of-address"]),
    ("es", "padron", ["change-of-address"]),
    ("es", "Cambio de DOMICILIO", ["change-of-address"]),
    ("es", "certificado nacimiento", ["civil-registry-certificate"]),
    ("es", "becas escolares", ["school-grant"]),
    ("es", "queja", ["complaint-or-suggestion", "general-application"]),
    ("es", "aparcamiento", ["accessibility-parking-card", "residents-parking-permit"]),
    ("en", "Change of ADDRESS", ["change-of-address"]),
    ("en", "birth certificate", ["civil-registry-certificate"]),
    ("en", "parking", ["accessibility-parking-card", "residents-parking-permit"]),
    ("en", "school grants", ["school-grant", "change-of-address"]),
    ("en", "complaint", ["complaint-or-suggestion", "general-application"]),
    ("ca", "padró", ["change-of-address"]),
    ("ca", "PADRO", ["change-of-address"]),
    ("ca", "beques", ["school-grant"]),
    ("ca", "queixa", ["complaint-or-suggestion", "general-application"]),
    ("ca", "naixement", ["child-birth-benefit", "civil-registry-certificate"]),
    ("gl", "padrón", ["change-of-address"]),
    ("gl", "bolsas", ["school-grant"]),
    ("gl", "aparcamento", ["accessibility-parking-card"]),
    ("gl", "nacemento", ["child-birth-benefit", "civil-registry-certificate"]),
    ("eu", "ERROLDA", ["change-of-address", "residents-parking-permit", "emergency-social-grant"]),
    ("eu", "beka", ["school-grant"]),
    ("eu", "aparkalekua", ["residents-parking-permit"]),
    ("eu", "jaiotza", ["civil-registry-certificate", "child-birth-benefit"]),
    ("ar", "عنوان", ["change-of-address"]),
    ("ar", "شَهَادَة", ["tax-clearance-certificate", "civil-registry-certificate"]),
    ("ar", "شكوى", ["complaint-or-suggestion", "general-application"]),
    ("ar", "مولود", ["child-birth-benefit"]),
]


def test_both_engines_give_the_same_top_results(db_app) -> None:
    found = {
        (lang, query): [p.slug for p in search.search(catalogue.current(), query, lang)][:3]
        for lang, query, _top in EXPECTED
    }
    assert found == {(lang, query): top for lang, query, top in EXPECTED}


def test_a_word_must_begin_a_word_not_hide_inside_one(db_app) -> None:
    # "dron" is inside "padrón" but begins no word of any procedure.
    assert search.search(catalogue.current(), "dron", "es") == []
