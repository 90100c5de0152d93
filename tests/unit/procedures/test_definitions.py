"""The definition loader: every shipped file is valid, and a broken one says where and why."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from procedures.definitions import (
    DEFINITIONS_DIR,
    DefinitionsInvalidError,
    load_catalogue,
    parse_source,
)


def test_every_shipped_definition_is_valid_in_all_six_languages() -> None:
    catalogue = load_catalogue()
    assert catalogue.errors == []
    assert len(catalogue) >= 12
    for procedure in catalogue:
        assert set(procedure.texts) == {"es", "en", "ca", "gl", "eu", "ar"}


def _copy(tmp_path: Path) -> Path:
    directory = tmp_path / "definitions"
    shutil.copytree(DEFINITIONS_DIR, directory)
    return directory


def test_a_broken_file_is_left_out_with_its_file_path_and_reason(tmp_path) -> None:
    directory = _copy(tmp_path)
    path = directory / "change-of-address.yaml"
    text = path.read_text(encoding="utf-8")
    broken = text.replace("type: radios", "type: slider", 1).replace(
        "  ar:\n    title:", "  ar:\n    titel:", 1
    )
    path.write_text(broken, encoding="utf-8")
    catalogue = load_catalogue(directory)
    assert catalogue.get("change-of-address") is None
    assert catalogue.get("school-grant") is not None  # the rest of the site goes on
    messages = [str(error) for error in catalogue.errors]
    assert any(
        m.startswith("change-of-address.yaml: form.pages[1].fields[0].type: must be one of")
        for m in messages
    ), messages
    assert "change-of-address.yaml: texts.ar.titel: unknown key" in " ".join(messages)


def test_a_file_that_is_not_yaml_says_the_line(tmp_path) -> None:
    directory = _copy(tmp_path)
    (directory / "general-application.yaml").write_text("slug: [unclosed\n", encoding="utf-8")
    errors = [str(e) for e in load_catalogue(directory).errors]
    assert any(e.startswith("general-application.yaml: line ") for e in errors), errors


def test_a_stored_copy_reads_back_as_the_same_definition() -> None:
    shipped = load_catalogue().get("change-of-address")
    again = parse_source("change-of-address", shipped.source)
    assert again.sha256 == shipped.sha256 and again.form == shipped.form
    with pytest.raises(DefinitionsInvalidError):
        parse_source(
            "change-of-address", re.sub(r"(?m)^version: \d+", "version: 0", shipped.source)
        )


def test_a_certificate_names_only_what_it_may_and_reads_in_every_language() -> None:
    shipped = load_catalogue().get("change-of-address")
    assert shipped.certificate is not None
    values = {
        "agency": "Ajuntament de Villanueva",
        "procedure": "x",
        "reference": "ABCD-EFGH-JKLM",
        "number": "2026/000001",
        "sent": "1 de març de 2026",
        "decided": "3 de març de 2026",
        "name": "Lucía Fernández",
        "national_id": "12345678Z",
        "answer_new_address": "Carrer Major 5, 28999 Villanueva",
        "answer_move_date": "1 de març de 2026",
    }
    first, *rest = shipped.certificate.paragraphs("ca", values)
    assert first.startswith("L'Ajuntament de Villanueva certifica que Lucía Fernández")
    assert "Carrer Major 5" in first and len(rest) == 2
    # A placeholder the engine does not fill, or an attribute lookup, is refused with its path.
    for bad in ("{answer_nowhere}", "{name.__class__}", "{name"):
        broken = shipped.source.replace("con DNI o NIE {national_id}", f"con {bad}")
        with pytest.raises(DefinitionsInvalidError) as refused:
            parse_source("change-of-address", broken)
        assert "certificate.body.es" in str(refused.value)
