"""The back office, as caseworkers and supervisors use it: the inbox, opening a case with a
purpose the citizen then reads, and a case's whole life from submission to certificate.
And, as a citizen or staff of another agency, reaching none of it."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from flask import Flask, url_for
from sqlalchemy import func, select

from identity.models import utcnow
from portal.audit import DataAccess
from portal.backoffice import figures
from portal.backoffice.models import Assignment, Opinion
from portal.backoffice.period import Period
from portal.extensions import db
from portal.folder.satisfaction import Answer
from procedures import applications, catalogue, samples
from procedures.models import Application, ApplicationFile, IssuedDocument, TimelineEvent
from tests.support.citizen import Citizen
from tests.support.everything import busy
from tests.support.forms import csrf_token
from tests.support.pdf import pdf_text
from tests.support.staff import staff_member

pytestmark = pytest.mark.database


def _post(person: Citizen, url: str, data: dict[str, object], form_url: str | None = None):
    token = csrf_token(person.client, form_url or url)
    return person.client.post(
        url,
        data={"csrf_token": token, **data},
        headers={"Referer": f"https://localhost{form_url or url}"},
    )


def _apply(site: Flask, citizen: Citizen, slug: str = "change-of-address") -> str:
    with site.test_request_context(f"/{citizen.lang}/"):
        procedure = catalogue.get(slug)
        application = applications.start(citizen.account(), procedure, citizen.lang)
        samples.fill(application, procedure)
        applications.submit(application, procedure)
        db.session.commit()
        return application.reference


def _accesses(site: Flask, reference: str) -> list[DataAccess]:
    with site.app_context():
        rows = list(
            db.session.scalars(
                select(DataAccess).where(DataAccess.reference == reference).order_by(DataAccess.id)
            )
        )
        db.session.expunge_all()
        return rows


def _staff_reads(site: Flask, reference: str) -> list[DataAccess]:
    """The reads of staff signed in here (demo.busy's history has one of its own)."""
    return [row for row in _accesses(site, reference) if row.viewer_account_id is not None]


def _open(person: Citizen, reference: str, purpose: str = "case_handling", detail: str = ""):
    url = f"/en/staff/cases/{reference}/open"
    return _post(person, url, {"purpose": purpose, "detail": detail})


def test_a_case_from_the_inbox_to_a_verified_certificate(site) -> None:
    citizen = Citizen(site, site.test_client(), "lucia@example.es", lang="ca")
    citizen.register()
    reference = _apply(site, citizen)
    worker = staff_member(site, "marta@villanueva.example")

    inbox = worker.text("/en/staff/")
    assert reference in inbox and "No one yet" in inbox
    assert _post(worker, f"/en/staff/cases/{reference}/claim", {}, "/en/staff/").status_code == 302
    assert "marta@villanueva.example" in worker.text("/en/staff/?assigned=mine")

    # Opening the case asks why; the answer is what the citizen reads.
    asked = worker.client.get(f"/en/staff/cases/{reference}")
    assert asked.status_code == 302 and "/open" in asked.headers["Location"]
    assert _accesses(site, reference) == []
    empty = _open(worker, reference, purpose="")
    assert empty.status_code == 200 and "Select why you are opening this case" in empty.text
    assert "Select why you are opening" in _open(worker, reference, purpose="curiosity").text
    assert _open(worker, reference).status_code == 302
    case = worker.text(f"/en/staff/cases/{reference}")
    assert "Catalan" in case  # the applicant's language, named in the staff member's
    assert len(_accesses(site, reference)) == 1  # later pages of the same sitting reuse it

    # Ask for information: the clock pauses, the citizen is told in their folder.
    _post(worker, f"/en/staff/cases/{reference}/review", {}, f"/en/staff/cases/{reference}")
    request_url = f"/en/staff/cases/{reference}/request"
    assert "Write what the applicant must send" in _post(worker, request_url, {"message": " "}).text
    assert _post(worker, request_url, {"message": "Envieu el contracte signat."}).status_code == 302
    with site.app_context():
        application = db.session.scalar(
            select(Application).where(Application.reference == reference)
        )
        assert application.clock_paused_at is not None
    folder = citizen.client.get(f"/ca/folder/cases/{reference}").get_data(as_text=True)
    assert "Envieu el contracte signat." in folder

    # An internal note never reaches the citizen.
    note_url = f"/en/staff/cases/{reference}/note"
    assert _post(worker, note_url, {"text": "Llamó por teléfono"}).status_code == 302
    assert "Llamó por teléfono" in worker.text(f"/en/staff/cases/{reference}")
    assert "Llamó" not in citizen.client.get(f"/ca/folder/cases/{reference}").text

    # The citizen answers; the case comes back and the clock runs again.
    answer_url = f"/ca/folder/cases/{reference}/answer"
    assert _post(citizen, answer_url, {"message": "Adjunt."}).status_code == 302
    with site.app_context():
        application = db.session.scalar(
            select(Application).where(Application.reference == reference)
        )
        assert application.clock_paused_at is None

    decide_url = f"/en/staff/cases/{reference}/decide"
    mismatched = _post(
        worker, decide_url, {"outcome": "resolved_favourable", "ground": "out_of_time"}
    )
    assert "Select grounds that match the decision" in mismatched.text
    tampered = _post(worker, decide_url, {"outcome": "granted", "ground": "because"})
    assert "Select the decision" in tampered.text
    assert "Select the grounds for the decision" in tampered.text
    decided = _post(
        worker,
        decide_url,
        {"outcome": "resolved_favourable", "ground": "meets_requirements", "extra": "Tot bé."},
    )
    assert decided.status_code == 302
    case_url = f"/en/staff/cases/{reference}"
    issued = _post(
        worker, f"/en/staff/cases/{reference}/documents", {"kind": "certificate"}, case_url
    )
    assert issued.status_code == 302
    with site.app_context():
        document = db.session.scalar(
            select(IssuedDocument)
            .join(Application, Application.id == IssuedDocument.application_id)
            .where(IssuedDocument.kind == "certificate", Application.reference == reference)
        )
        assert document.language == "ca"
        # The census office's own certificate, in Catalan, naming the new address.
        assert document.title["ca"] == "Certificat d'empadronament"
        assert document.title["ar"] == "شهادة التسجيل في السجل البلدي للسكان"
        text = pdf_text(document.content)
        assert "consta al Padró Municipal d'Habitants, amb domicili a Calle Nueva 7" in text
        assert "12345678Z" in text and document.application.registry_entry.number in text
        csv = document.csv
    # Anyone holding the paper checks it, signed out.
    verified = site.test_client().get(f"/en/verify/?code={csv}")
    assert verified.status_code == 200 and "Certificate" in verified.text

    assert _post(worker, f"/en/staff/cases/{reference}/close", {"reason": ""}).status_code == 302
    assert "Closed" in worker.text(case_url)

    # The citizen reads the decision's grounds in Catalan, and who opened the case and why.
    folder = citizen.client.get(f"/ca/folder/cases/{reference}").text
    assert "Tot bé." in folder
    # Closing asks the citizen how we did; the rating reaches the figures, not the case.
    survey_url = f"/ca/folder/cases/{reference}/satisfaction"
    assert survey_url in folder
    assert _post(citizen, survey_url, {"rating": "4"}).status_code == 302
    with site.app_context():
        assert db.session.scalars(
            select(Answer.rating).where(Answer.procedure_slug == "change-of-address")
        ).all() == [4]
    # The supervisor's figures count the case received and resolved, and the answer (kept
    # from view while fewer than five have answered).
    with site.test_request_context("/en/"):
        today = utcnow().date()
        seen = figures.compute(
            "city-council", Period(today, today), "en", ZoneInfo("Europe/Madrid")
        )
        line = next(one for one in seen.procedures if one.key == "change-of-address")
        assert (line.measures.received, line.measures.resolved) == (1, 1)
        assert line.measures.within_deadline == 1.0
        assert seen.satisfaction_total.answers == 1 and seen.satisfaction_total.hidden
    citizen.lang = "en"
    uses = citizen.text("/en/folder/data-use?by=staff")
    assert "Villanueva City Council · Padrón · Caseworker" in uses
    assert "To handle your application" in uses


def test_every_opening_is_one_row_and_each_file_is_another(site) -> None:
    citizen = Citizen(site, site.test_client(), "ana@example.es")
    history = busy(citizen)
    worker = staff_member(site, "pablo@villanueva.example", role="supervisor")
    _open(worker, history.waiting, purpose="other", detail="")
    assert _staff_reads(site, history.waiting) == []  # "other" needs words
    _open(worker, history.waiting, purpose="other", detail="Checking a complaint")
    page = worker.client.get(f"/en/staff/cases/{history.waiting}").text
    files = re.findall(rf"/en/staff/cases/{history.waiting}/files/(\d+)", page)
    assert files
    with worker.client.get(f"/en/staff/cases/{history.waiting}/files/{files[0]}") as download:
        assert download.status_code == 200
    assert [(row.what, row.purpose_detail) for row in _staff_reads(site, history.waiting)] == [
        ("case", "Checking a complaint"),
        ("file", "Checking a complaint"),
    ]


def test_no_one_outside_the_agency_reaches_a_case(site) -> None:
    citizen = Citizen(site, site.test_client(), "ana@example.es")
    history = busy(citizen)
    other = staff_member(site, "luis@hacienda.example", agency="tax-office", unit="Recaudación")
    worker = staff_member(site, "marta@villanueva.example")
    # A citizen finds no staff pages at all.
    for url in ("/en/staff/", f"/en/staff/cases/{history.waiting}"):
        assert citizen.client.get(url).status_code == 404
    # Staff of another agency do not see the council's case.
    assert history.waiting not in other.text("/en/staff/")
    assert other.client.get(f"/en/staff/cases/{history.waiting}/open").status_code == 404
    # A caseworker cannot give cases out.
    with site.app_context():
        marta = worker.account().id
    assign = _post(
        worker, f"/en/staff/cases/{history.waiting}/assign", {"to": str(marta)}, "/en/staff/"
    )
    assert assign.status_code == 403
    with site.app_context():
        held = select(func.count()).where(
            Assignment.application_id == Application.id,
            Application.reference == history.waiting,
        )
        assert db.session.scalar(held) == 0


def test_staff_without_a_second_factor_in_this_session_are_stopped(site) -> None:
    worker = staff_member(site, "marta@villanueva.example")
    worker.sign_out()
    assert worker.sign_in_password().headers["Location"].endswith("/sign-in/code")
    # Half-signed-in is not signed in.
    assert worker.client.get("/en/staff/").status_code == 302


def test_a_caseworker_acts_only_on_cases_they_hold(site) -> None:
    citizen = Citizen(site, site.test_client(), "ana@example.es")
    history = busy(citizen)
    holder = staff_member(site, "marta@villanueva.example")
    colleague = staff_member(site, "pedro@villanueva.example")
    _post(holder, f"/en/staff/cases/{history.waiting}/claim", {}, "/en/staff/")
    _open(colleague, history.waiting)
    refused = _post(
        colleague,
        f"/en/staff/cases/{history.waiting}/request",
        {"message": "x"},
        f"/en/staff/cases/{history.waiting}/note",
    )
    assert refused.status_code == 403
    with site.app_context():
        events = db.session.scalar(
            select(func.count()).where(
                TimelineEvent.kind == "claimed",
                TimelineEvent.application_id == Application.id,
                Application.reference == history.waiting,
            )
        )
        assert events == 1


def test_no_staff_page_reads_a_case_before_its_purpose_is_recorded(site) -> None:
    """Every inventoried staff page, asked for by staff who never said why: each either asks
    for the purpose or shows nothing of the citizen's; none writes an audit row by itself
    (the guard would turn a forgetful view into a 500 here)."""
    from tests.support.inventory import INVENTORY

    citizen = Citizen(site, site.test_client(), "ana@example.es")
    history = busy(citizen)
    worker = staff_member(site, "marta@villanueva.example", role="supervisor")
    before = len(_staff_reads(site, history.waiting))
    with site.app_context():
        file_id = db.session.scalar(
            select(ApplicationFile.id)
            .join(Application, Application.id == ApplicationFile.application_id)
            .where(Application.reference == history.waiting)
        )
    # A colleague took a call from the citizen (a contact the worker has no purpose for).
    colleague = staff_member(site, "pedro@villanueva.example")
    with site.test_request_context("/en/"):
        from portal.backoffice import contacts, staff

        member = staff.membership(colleague.account().id)
        call = contacts.record(
            staff.Staff(member, db.session.merge(colleague.account())),
            citizen_id=citizen.account().id,
            channel="phone",
            topic="Padrón",
            summary="Pregunta por su expediente.",
            outcome="answered",
        )
        waiting_id = db.session.scalar(
            select(Application.id).where(Application.reference == history.waiting)
        )
        asked = Opinion(
            application_id=waiting_id,
            agency="city-council",
            from_unit="Padrón",
            to_unit="Padrón",
            question="¿Consta?",
        )
        db.session.add(asked)
        db.session.commit()
        call_id, opinion_id = call.id, asked.id
    checked = 0
    for page in INVENTORY:
        if not page.endpoint.startswith("backoffice.") or page.state != "staff":
            continue
        if page.status != 200:  # a page this supervisor may not see at all (403)
            continue
        values = {**page.values}
        if "contact_id" in values:
            values["contact_id"] = str(call_id)
        if "opinion_id" in values:
            values["opinion_id"] = str(opinion_id)
        if "citizen" in values:
            values["citizen"] = str(citizen.account().id)
        if "reference" in values:
            values["reference"] = history.waiting
        if "file_id" in values:
            values["file_id"] = str(file_id)
        if "account_id" in values:
            values["account_id"] = str(citizen.account().id)
        with site.test_request_context():
            url = url_for(page.endpoint, lang="en", **values)
        with worker.client.get(url) as response:
            assert response.status_code in (200, 302), url
            if response.status_code == 302:  # to say why: the case's purpose, or a search
                assert response.headers["Location"].endswith(("/open", "/citizens")) or (
                    "/open?" in response.headers["Location"]
                ), url
        checked += 1
    assert checked >= 10
    assert len(_staff_reads(site, history.waiting)) == before
    with site.app_context():
        worker_id = worker.account().id
        assert not db.session.scalars(
            select(DataAccess).where(DataAccess.viewer_account_id == worker_id)
        ).all()
