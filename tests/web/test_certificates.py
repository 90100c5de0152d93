"""A procedure's own certificate, end to end: a caseworker approves the case and issues the
certificate, and the applicant downloads from their folder, in the language they applied in,
a PDF saying what was granted, with their answers; what the application was never asked is
left out rather than printed as a gap."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from procedures import applications, catalogue, samples
from procedures.models import Application, IssuedDocument
from tests.support.citizen import Citizen
from tests.support.forms import csrf_token
from tests.support.pdf import pdf_text
from tests.support.staff import staff_member
from tests.support.translations import translate

pytestmark = pytest.mark.database


def _post(person: Citizen, url: str, data: dict[str, object], form_url: str) -> None:
    token = csrf_token(person.client, form_url)
    response = person.client.post(
        url,
        data={"csrf_token": token, **data},
        headers={"Referer": f"https://localhost{form_url}"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def _apply(site: Flask, citizen: Citizen, slug: str) -> str:
    """Apply with valid sample answers (choosing the first option of every question)."""
    with site.test_request_context(f"/{citizen.lang}/"):
        procedure = catalogue.get(slug)
        application = applications.start(citizen.account(), procedure, citizen.lang)
        samples.fill(application, procedure)
        applications.submit(application, procedure)
        db.session.commit()
        return application.reference


def _approve_with_certificate(worker: Citizen, reference: str) -> None:
    """Claim, open, review, decide favourably and issue the certificate, as the case page does."""
    case = f"/en/staff/cases/{reference}"
    _post(worker, f"{case}/claim", {}, "/en/staff/")
    _post(worker, f"{case}/open", {"purpose": "case_handling", "detail": ""}, f"{case}/open")
    _post(worker, f"{case}/review", {}, case)
    decision = {"outcome": "resolved_favourable", "ground": "meets_requirements", "extra": ""}
    _post(worker, f"{case}/decide", decision, f"{case}/decide")
    _post(worker, f"{case}/documents", {"kind": "certificate"}, case)


def _downloaded(site: Flask, citizen: Citizen, reference: str) -> tuple[IssuedDocument, str, str]:
    """The issued certificate, the registry number, and the PDF's text as the citizen's
    folder hands it over."""
    with site.app_context():
        document = db.session.scalar(
            select(IssuedDocument)
            .join(Application, Application.id == IssuedDocument.application_id)
            .where(IssuedDocument.kind == "certificate", Application.reference == reference)
        )
        number = document.application.registry_entry.number
        db.session.expunge(document)
    listed = citizen.text(f"/{citizen.lang}/folder/documents")
    assert document.title[citizen.lang] in listed
    pdf = citizen.client.get(f"/{citizen.lang}/folder/documents/{document.csv}/document.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    return document, number, pdf_text(pdf.data)


def test_a_resident_parking_permit_granted_in_basque_names_the_plate_and_address(site) -> None:
    citizen = Citizen(site, site.test_client(), "miren@example.eus", lang="eu").register()
    reference = _apply(site, citizen, "residents-parking-permit")
    _approve_with_certificate(staff_member(site, "marta@villanueva.example"), reference)

    document, number, text = _downloaded(site, citizen, reference)
    assert document.language == "eu"
    assert document.title["eu"] == "Aparkamendu arautuko egoiliar txartela"
    assert document.title["es"] == "Tarjeta de residente de estacionamiento regulado"
    assert "Aparkamendu arautuko egoiliar txartela" in text
    # The permit says to whom it was granted, for which car and where, in Basque.
    assert (
        "Villanuevako Udala erakundeak ziurtatzen du egoiliar txartela eman diola "
        "Texto de prueba Texto de prueba interesdunari (NAN edo AIZ: 12345678Z)"
    ) in text
    assert "Helbidea: Calle Nueva 7 1º A, 28999 Villanueva, Madrid." in text
    assert "1234 BCD matrikuladun ibilgailuari lotuta dago" in text
    assert f"{reference} eskaeran eman zen; eskaera {number} zenbakiarekin" in text


def test_a_tax_certificate_asked_for_oneself_names_no_company(site) -> None:
    citizen = Citizen(site, site.test_client(), "xoan@example.gal", lang="gl").register()
    reference = _apply(site, citizen, "tax-clearance-certificate")  # "for me": no company pages
    worker = staff_member(site, "luis@hacienda.example", agency="tax-office", unit="Recaudación")
    _approve_with_certificate(worker, reference)

    document, number, text = _downloaded(site, citizen, reference)
    title = "Certificado de estar ao corrente de pagamento coa Facenda municipal"
    assert document.title["gl"] == title and title in text
    assert "A Oficina de Xestión Tributaria de Villanueva certifica que" in text
    assert (
        "Pediuno Texto de prueba Texto de prueba, con DNI ou NIE 12345678Z, que é a persoa "
        "titular se non actúa en representación dunha entidade."
    ) in text
    # The paragraph naming the company the applicant acts for is left out whole.
    assert "en representación da entidade" not in text and "CIF" not in text
    assert translate(site, "gl", "Not answered") not in text
    assert number in text
