"""Every procedure's own certificate, read in every language as the back office fills it in:
whole sentences with nothing left to fill, the person and the registry number named, and
what depends on a condition left out without taking the certified fact with it."""

from __future__ import annotations

import string
from datetime import date

import pytest
from flask import Flask
from flask_babel import force_locale, format_date

from procedures import labels, samples
from procedures.definitions import LANGUAGES, Procedure, load_catalogue

#: Every shipped procedure whose favourable decision gives a document to keep or show.
#: General applications, complaints and appointments have none: their outcome is a reply
#: or a booking, not something certified.
WITH_CERTIFICATE = {
    "accessibility-parking-card",
    "bulky-waste-collection",
    "business-opening-notice",
    "change-of-address",
    "child-birth-benefit",
    "civil-registry-certificate",
    "emergency-social-grant",
    "residents-parking-permit",
    "school-grant",
    "sports-centre-membership",
    "tax-clearance-certificate",
}
NAME = "Lucía Fernández Soto"
NUMBER = "2026/000123"


def _procedures() -> list[Procedure]:
    return [procedure for procedure in load_catalogue() if procedure.certificate is not None]


def _values(procedure: Procedure, lang: str, every_answer: bool = True) -> dict[str, str]:
    """What ``portal.backoffice.decisions`` puts in, in ``lang``: each answer a valid sample
    formatted as on the receipt. With ``every_answer`` false, only the answers every
    application holds (required fields on pages always asked), and the name and DNI only
    when the form asks for them (else the citizen record may not hold them)."""
    assert procedure.form is not None
    asked = {one.id for _page, one in procedure.form.fields()}
    values = {
        "agency": procedure.agency.name(lang),
        "procedure": procedure.text(lang).title,
        "reference": "ABCD-EFGH-JKLM",
        "number": NUMBER,
        "sent": format_date(date(2026, 3, 1), "long"),
        "decided": format_date(date(2026, 3, 11), "long"),
    }
    if every_answer or {"given_name", "family_name"} <= asked:
        values["name"] = NAME
    if every_answer or "national_id" in asked:
        values["national_id"] = "12345678Z"
    for page, one in procedure.form.fields():
        if every_answer or (page.show_if is None and not one.optional):
            values[f"answer_{one.id}"] = labels.format_answer(one, samples.sample(one), lang)
    return values


def _read(
    app: Flask, procedure: Procedure, lang: str, every_answer: bool = True
) -> tuple[list[str], set[str]]:
    """The certificate's paragraphs in ``lang``, and the names of the values put in."""
    assert procedure.certificate is not None
    with app.test_request_context(f"/{lang}/"), force_locale(lang):
        values = _values(procedure, lang, every_answer)
        return procedure.certificate.paragraphs(lang, values), set(values)


def _parts(procedure: Procedure, lang: str) -> list[set[str]]:
    """What each paragraph of the body names, in order."""
    assert procedure.certificate is not None
    parts = [part.strip() for part in procedure.certificate.body(lang).split("\n\n")]
    return [
        {name for _text, name, _spec, _conversion in string.Formatter().parse(part) if name}
        for part in parts
        if part
    ]


def test_the_procedures_that_give_a_document_to_keep_have_their_own_certificate() -> None:
    assert {procedure.slug for procedure in _procedures()} == WITH_CERTIFICATE


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_certificate_reads_whole_with_every_answer(app: Flask, lang: str) -> None:
    for procedure in _procedures():
        assert procedure.certificate is not None
        title = procedure.certificate.title(lang)
        paragraphs, _held = _read(app, procedure, lang)
        where = f"{procedure.slug} [{lang}]"
        assert title.strip() and not {"{", "}"} & set(title), where
        # Nothing left out when everything is answered, nothing left to fill, no paragraph empty.
        assert len(paragraphs) == len(_parts(procedure, lang)), where
        for paragraph in paragraphs:
            assert paragraph.strip(), where
            assert "{" not in paragraph and "}" not in paragraph, f"{where}: {paragraph}"
        text = " ".join(paragraphs)
        assert NAME in text and NUMBER in text, where
        assert procedure.agency.name(lang) in paragraphs[0], where  # the agency certifies


@pytest.mark.parametrize("lang", LANGUAGES)
def test_what_depends_on_a_condition_is_left_out_but_never_what_is_certified(
    app: Flask, lang: str
) -> None:
    for procedure in _procedures():
        where = f"{procedure.slug} [{lang}]"
        whole, _every = _read(app, procedure, lang)
        least, held = _read(app, procedure, lang, every_answer=False)
        # The first paragraph says what is certified: it names only what every application holds.
        assert least[0] == whole[0], where
        assert NUMBER in " ".join(least), where
        # Exactly the paragraphs naming something not held are left out; the rest read the same.
        assert len(least) == sum(names <= held for names in _parts(procedure, lang)), where
        assert set(least) <= set(whole), where
