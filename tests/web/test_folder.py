"""The personal folder, as a citizen with a busy history uses it: find what needs them,
answer a request with a file, download a certificate and check its CSV signed out, read
who used their data, ask for a correction; and, as another citizen, reach none of it."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from identity.models import utcnow
from portal.extensions import db
from procedures import applications, documents
from procedures.models import Application, ApplicationFile
from tests.support.applicant import PDF
from tests.support.citizen import Citizen
from tests.support.everything import busy
from tests.support.forms import csrf_token

pytestmark = pytest.mark.database


def _post(citizen: Citizen, url: str, data: dict[str, object], **kwargs: object):
    token = csrf_token(citizen.client, url)
    return citizen.client.post(
        url,
        data={"csrf_token": token, **data},
        headers={"Referer": f"https://localhost{url}"},
        **kwargs,
    )


def _application(site: Flask, reference: str) -> Application:
    return db.session.scalar(select(Application).where(Application.reference == reference))


def test_the_overview_puts_what_needs_the_citizen_first(site, citizen) -> None:
    history = busy(citizen)
    text = citizen.text("/en/folder/")
    assert text.index("What needs you now") < text.index("Your latest applications")
    assert "Answer our request about “Register in the census or change your address”" in text
    assert "Finish your application" in text  # the draft that expires in four days
    page = citizen.page("/en/folder/")
    links = [a.get("href") for a in page.iter("a")]
    assert f"/en/folder/cases/{history.waiting}/answer" in links
    assert "/en/folder/documents" in links


def test_an_empty_folder_says_what_to_do_next(site, citizen) -> None:
    citizen.lang = "en"
    citizen.register()
    for path, words in (
        ("/en/folder/", "Nothing needs you at the moment"),
        ("/en/folder/cases", "You have not sent any application yet"),
        ("/en/folder/documents", "You have no documents yet"),
        ("/en/folder/data-use", "Nobody has used your data yet"),
    ):
        assert words in citizen.text(path), path


def test_a_citizen_answers_a_request_with_a_file_and_the_clock_runs_again(site, citizen) -> None:
    history = busy(citizen)
    with site.app_context():
        before = _application(site, history.waiting)
        paused_at, due_before = before.clock_paused_at, before.due_at
    assert paused_at is not None
    case = citizen.text(f"/en/folder/cases/{history.waiting}")
    assert "We need information from you" in case
    assert "signed tenancy agreement" in case
    assert "Paused while we wait for you" in case

    url = f"/en/folder/cases/{history.waiting}/answer"
    # Nothing at all: an error, in the summary and at the field.
    response = _post(citizen, url, {"message": ""})
    assert response.status_code == 200
    assert "Write your answer or choose a file to send" in response.get_data(as_text=True)
    # A file that is not a PDF, JPG or PNG: refused, the words kept, nothing written.
    response = _post(
        citizen,
        url,
        {"message": "Here it is, signed.", "files": (io.BytesIO(b"MZ\x90\x00"), "virus.exe")},
        content_type="multipart/form-data",
    )
    body = response.get_data(as_text=True)
    assert "must be a PDF, JPG or PNG" in body
    assert "Here it is, signed." in body
    with site.app_context():
        assert _application(site, history.waiting).status == "needs_information"
    # The answer with a signed PDF.
    response = _post(
        citizen,
        url,
        {"message": "Here it is, signed.", "files": (io.BytesIO(PDF), "contrato firmado.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with site.app_context():
        after = _application(site, history.waiting)
        assert after.status == "in_review"
        assert after.clock_paused_at is None
        assert after.due_at > due_before  # moved later by the time it waited for the citizen
        names = [f.original_name for f in after.files if f.field_id == "_response"]
        assert names == ["contrato firmado.pdf"]
    case = citizen.text(f"/en/folder/cases/{history.waiting}")
    assert "You answered our request" in case
    assert "contrato firmado.pdf" in case
    assert "We need information from you" not in case
    # Answering again (a second tab, the back button) finds nothing left to answer.
    assert citizen.client.get(url).status_code == 302


def test_a_certificate_downloads_from_the_folder_and_verifies_signed_out(site, citizen) -> None:
    history = busy(citizen)
    documents_page = citizen.text("/en/folder/documents")
    assert "Certificate of being up to date with local taxes" in documents_page
    assert documents.grouped(history.certificate) in documents_page
    own = citizen.client.get(f"/en/folder/documents/{history.certificate}/document.pdf")
    assert own.status_code == 200 and own.data.startswith(b"%PDF")

    anyone = site.test_client()
    typed = documents.grouped(history.certificate).lower().replace("-", " ")
    response = anyone.get("/en/verify/", query_string={"code": typed})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "This document is authentic" in text and "Villanueva Local Tax Office" in text
    assert response.headers["Cache-Control"] == "no-store"
    download = anyone.get(f"/en/verify/{documents.grouped(history.certificate)}/document.pdf")
    assert download.status_code == 200
    assert download.data == own.data  # the very bytes issued


def test_a_receipt_carries_its_own_csv_that_verifies(site, citizen) -> None:
    history = busy(citizen)
    with site.app_context():
        application = _application(site, history.decided)
        receipt = documents.receipt_of(application)
        assert receipt is not None and receipt.content is None  # drawn from the registry entry
        code = documents.grouped(receipt.csv)
    response = site.test_client().get(f"/en/verify/{code}/document.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert "REG-" in response.headers["Content-Disposition"]


@pytest.mark.parametrize(
    ("typed", "status", "words"),
    [
        ("", 400, "Enter the secure verification code"),
        ("ABC", 400, "20 letters and numbers"),
        ("ABCD-EFGH-JKLM-NPQR-STU0", 400, "20 letters and numbers"),  # 0 is never printed
        ("ABCD-EFGH-JKLM-NPQR-STUV", 404, "We have no document with this code"),
    ],
)
def test_a_code_that_is_not_ours_is_told_apart_from_a_mistyped_one(
    site, typed, status, words
) -> None:
    response = site.test_client().get("/en/verify/", query_string={"code": typed})
    assert response.status_code == status
    assert words in response.get_data(as_text=True)


def test_guessing_codes_is_rate_limited_but_checking_real_ones_is_not(site, citizen) -> None:
    history = busy(citizen)
    anyone = site.test_client()
    real = documents.grouped(history.certificate)
    for _ in range(25):  # a bank checking many real documents
        assert anyone.get("/en/verify/", query_string={"code": real}).status_code == 200
    statuses = [
        anyone.get("/en/verify/", query_string={"code": documents.new_csv()}).status_code
        for _ in range(21)
    ]
    assert statuses[:20] == [404] * 20
    assert statuses[20] == 429


def test_csv_codes_are_long_and_random_enough_that_guessing_is_hopeless() -> None:
    codes = {documents.new_csv() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 20 and set(c) <= set(documents.ALPHABET) for c in codes)
    assert len(documents.ALPHABET) ** documents.LENGTH >= 2**100
    assert documents.normalise(" abcd-efgh jklm.npqr stuv ") == "ABCDEFGHJKLMNPQRSTUV"


def test_another_citizen_reaches_none_of_it(site, citizen) -> None:
    history = busy(citizen)
    with site.app_context():
        waiting = _application(site, history.waiting)
        file_id = db.session.scalar(
            select(ApplicationFile.id).where(ApplicationFile.application_id == waiting.id)
        )
    owner_urls = [
        f"/en/folder/cases/{history.waiting}",
        f"/en/folder/cases/{history.waiting}/answer",
        f"/en/folder/cases/{history.decided}",
        f"/en/folder/documents/{history.certificate}/document.pdf",
        f"/en/applications/{history.waiting}/confirmation",
        f"/en/applications/{history.waiting}/receipt.pdf",
        f"/en/applications/{history.waiting}/files/{file_id}",
    ]
    for url in owner_urls:
        with citizen.client.get(url) as response:
            assert response.status_code == 200, url
    other = Citizen(site, site.test_client(), "other@example.es", lang="en").register()
    for url in owner_urls:
        with other.client.get(url) as response:
            assert response.status_code == 404, url
    response = _post(other, "/en/folder/", {})  # not a form: nothing to post to
    assert response.status_code == 405
    answer = f"/en/folder/cases/{history.waiting}/answer"
    token = csrf_token(other.client, "/en/folder/my-data/address/correct")
    response = other.client.post(
        answer,
        data={"csrf_token": token, "message": "mine now"},
        headers={"Referer": f"https://localhost{answer}"},
    )
    assert response.status_code == 404
    for path in ("/en/folder/", "/en/folder/cases", "/en/folder/documents", "/en/folder/data-use"):
        text = other.text(path)
        assert history.waiting not in text and documents.grouped(history.certificate) not in text
    # Signed out, the folder asks to sign in first.
    response = site.test_client().get(f"/en/folder/cases/{history.waiting}")
    assert response.status_code == 302 and "/account/sign-in" in response.headers["Location"]


def test_who_used_my_data_lists_staff_reads_and_agency_sign_ins(site, citizen) -> None:
    history = busy(citizen)
    text = citizen.text("/en/folder/data-use")
    assert "Villanueva City Council · Padrón · Caseworker" in text
    assert "To handle your application" in text
    assert history.waiting in text
    assert "Agencia Tributaria de demostración" in text
    assert "Your email address" in text
    # Newest first: the agency (yesterday), the council (8 days ago), the tax office (36).
    assert (
        text.index("Agencia Tributaria")
        < text.index("City Council · Padrón")
        < text.index("Local Tax Office · Recaudación")
    )
    staff_only = citizen.text("/en/folder/data-use?by=staff")
    assert "Agencia Tributaria de demostración" not in staff_only
    assert "Padrón" in staff_only
    assert "Padrón" not in citizen.text("/en/folder/data-use?by=services")
    # An unknown filter shows everything rather than failing.
    assert "Padrón" in citizen.text("/en/folder/data-use?by=nonsense")


def test_my_data_shows_sources_and_a_wrong_value_becomes_a_correction_request(
    site, citizen
) -> None:
    citizen.lang = "en"
    citizen.register()
    with site.test_request_context("/en/"):
        from identity import record

        account = citizen.account()
        record.record(
            account,
            "address",
            {
                "street": "Calle Vieja",
                "number": "1",
                "postcode": "28999",
                "municipality": "Villanueva",
                "province": "Madrid",
            },
            "municipal_census",
            verified=True,
        )
        db.session.commit()
    text = citizen.text("/en/folder/my-data")
    assert "Calle Vieja 1, 28999 Villanueva, Madrid" in text
    assert "From the municipal census" in text
    assert "We do not hold this" in text  # no phone
    url = "/en/folder/my-data/address/correct"
    response = _post(citizen, url, {"correct": ""})
    assert "Write what it should be" in response.get_data(as_text=True)
    response = _post(citizen, url, {"correct": "Calle Nueva 7, 28999 Villanueva"})
    assert response.status_code == 302
    assert re.search(r"/en/applications/[A-Z0-9-]+/", response.headers["Location"])
    with site.app_context():
        draft = db.session.scalar(
            select(Application).where(Application.procedure_slug == "general-application")
        )
        assert draft.answers["subject"] == "Correct my data: home address"
        assert "Calle Nueva 7" in draft.answers["request"]
        assert "Calle Vieja 1" in draft.answers["request"]
    assert citizen.client.get("/en/folder/my-data/password/correct").status_code == 404


def test_the_case_list_pages_through_many_cases(site, citizen) -> None:
    busy(citizen)
    with site.test_request_context("/en/"):
        account = citizen.account()
        template = db.session.scalar(
            select(Application).where(
                Application.account_id == account.id, Application.status != "draft"
            )
        )
        for _ in range(25):
            db.session.add(
                Application(
                    reference=applications.new_reference(),
                    account_id=account.id,
                    procedure_slug=template.procedure_slug,
                    snapshot_id=template.snapshot_id,
                    status="submitted",
                    submitted_at=utcnow(),
                    due_at=template.due_at,
                )
            )
        db.session.commit()
        total = db.session.scalar(
            select(func.count())
            .select_from(Application)
            .where(Application.account_id == account.id, Application.status != "draft")
        )
    first = citizen.text("/en/folder/cases")
    assert f"{total} applications, the newest first" in first
    assert "Next page" in first
    assert "Previous page" in citizen.text("/en/folder/cases?page=2")
    assert citizen.client.get("/en/folder/cases?page=99").status_code == 404
    assert citizen.client.get("/en/folder/cases?page=x").status_code == 200
