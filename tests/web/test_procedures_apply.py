"""Applying online, as a citizen: every shipped procedure from its start page to its receipt,
and the change of address in detail (prefill, errors, a draft resumed, a double submit)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from identity import record
from identity.models import utcnow
from portal.extensions import db
from procedures import catalogue
from procedures.models import Application, RegistryEntry, TimelineEvent
from tests.support import mailbox
from tests.support.applicant import PDF, apply_until_check, fill_page
from tests.support.forms import csrf_token, post_form, post_from

pytestmark = pytest.mark.database


def _signed_in(citizen, lang="es"):
    citizen.lang = lang
    citizen.register()
    with citizen.app.app_context():
        account = citizen.account()
        record.record(account, "given_name", "Ana", "police", verified=True)
        record.record(account, "family_name", "López Ruiz", "police", verified=True)
        record.record(account, "national_id", "12345678Z", "police", verified=True)
        record.record(account, "birth_date", "1985-03-27", "police", verified=True)
        record.record(
            account,
            "address",
            {
                "street": "Calle Mayor",
                "number": "5",
                "floor_door": "",
                "postcode": "28999",
                "municipality": "Villanueva",
                "province": "Madrid",
            },
            "municipal_census",
            verified=True,
        )
        db.session.commit()
    return citizen


def _start(client, lang, slug):
    start_page = f"/{lang}/procedures/{slug}"
    response = post_from(client, start_page, f"/{lang}/applications/start/{slug}", {})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


def _submit(client, check_url):
    return post_from(client, check_url, check_url.replace("/check", "/submit"), {})


def _procedures(site):
    with site.app_context():
        return [p for p in catalogue.current() if p.form is not None]


def test_every_procedure_with_a_form_can_be_applied_for_end_to_end(site, citizen) -> None:
    _signed_in(citizen)
    client = citizen.client
    procedures = _procedures(site)
    assert len(procedures) >= 11
    numbers = set()
    for procedure in procedures:
        check_url = apply_until_check(client, _start(client, "es", procedure.slug), procedure)
        assert client.get(check_url).status_code == 200
        response = _submit(client, check_url)
        assert response.status_code == 302
        confirmation = client.get(response.headers["Location"]).get_data(as_text=True)
        number = re.search(r"REG-\d{4}-\d{6}", confirmation).group(0)
        numbers.add(number)
    assert len(numbers) == len(procedures)


def test_change_of_address_prefills_what_we_hold_and_says_where_it_came_from(site, citizen) -> None:
    _signed_in(citizen, "en")
    client = citizen.client
    first = _start(client, "en", "change-of-address")
    assert first.endswith("/pages/applicant")
    html = client.get(first).get_data(as_text=True)
    assert 'value="Ana"' in html and 'value="12345678Z"' in html
    assert "From the National Police (DNI)" in html
    assert 'autocomplete="given-name"' in html and 'autocomplete="bday-day"' in html


def test_errors_are_listed_and_what_was_typed_stays(site, citizen) -> None:
    _signed_in(citizen, "en")
    client = citizen.client
    url = _start(client, "en", "change-of-address")
    response = post_from(
        client,
        url,
        url,
        {
            "given_name": "Ana",
            "family_name": "",
            "national_id": "123",
            "birth_date-day": "31",
            "birth_date-month": "2",
            "birth_date-year": "1985",
        },
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "There is a problem" in html
    assert "Enter a valid DNI or NIE" in html
    assert "must be a real date" in html
    assert 'value="123"' in html and 'value="31"' in html  # as typed


def test_a_draft_is_resumed_on_the_first_unanswered_page(site, citizen) -> None:
    _signed_in(citizen, "es")
    client = citizen.client
    url = _start(client, "es", "change-of-address")
    with site.app_context():
        procedure = catalogue.get("change-of-address")
    assert fill_page(client, url, procedure).status_code == 302  # applicant
    again = _start(client, "es", "change-of-address")  # Start again: same draft
    assert again.endswith("/pages/move_type")
    with site.app_context():
        assert db.session.scalar(select(func.count()).select_from(Application)) == 1
    page = client.get("/es/procedures/change-of-address").get_data(as_text=True)
    assert f'href="/es/applications/{again.split("/")[3]}/"' in page  # continue, not start


def test_a_double_submit_gives_one_receipt_one_email_and_one_registry_entry(site, citizen) -> None:
    _signed_in(citizen, "es")
    client = citizen.client
    with site.app_context():
        procedure = catalogue.get("change-of-address")
    check_url = apply_until_check(client, _start(client, "es", "change-of-address"), procedure)
    before = len(mailbox.messages(site))
    token = csrf_token(client, check_url)  # one page, its button pressed twice
    submit_url = check_url.replace("/check", "/submit")
    headers = {"Referer": f"https://localhost{check_url}"}
    first = client.post(submit_url, data={"csrf_token": token}, headers=headers)
    second = client.post(submit_url, data={"csrf_token": token}, headers=headers)
    assert first.headers["Location"] == second.headers["Location"]
    with site.app_context():
        assert db.session.scalar(select(func.count()).select_from(RegistryEntry)) == 1
        kinds = db.session.scalars(select(TimelineEvent.kind)).all()
        assert kinds.count("submitted") == 1
    messages = mailbox.messages(site)[before:]
    assert len(messages) == 1 and "REG-" in messages[0]["Subject"]
    receipt = client.get(first.headers["Location"].replace("/confirmation", "/receipt.pdf"))
    assert receipt.status_code == 200 and receipt.data.startswith(b"%PDF")
    content = _pdf_objects(receipt.data)
    assert b"/StructTreeRoot" in content and b"/Lang (es)" in content  # tagged, in Spanish


def _pdf_objects(data: bytes) -> bytes:
    """The PDF with its compressed object streams inflated, to look for its structure."""
    import zlib

    parts = [data]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            parts.append(zlib.decompress(stream))
        except zlib.error:
            continue
    return b"\n".join(parts)


def test_a_file_that_is_not_a_document_is_refused_and_other_answers_stay(site, citizen) -> None:
    import io

    _signed_in(citizen, "en")
    client = citizen.client
    with site.app_context():
        procedure = catalogue.get("change-of-address")
    url = _start(client, "en", "change-of-address")
    for _ in range(6):  # applicant, move_type, new_address, move_date, tenure (tenant)
        if "/pages/proof_of_address" in url:
            break
        response = fill_page(client, url, procedure, {"tenure": 1})
        url = response.headers["Location"]
    assert url.endswith("/pages/proof_of_address")
    response = post_from(
        client,
        url,
        url,
        {
            "proof_of_address__how": "upload",
            "proof_of_address": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "contract.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "must be a PDF, JPG or PNG" in response.get_data(as_text=True)
    response = post_from(
        client,
        url,
        url,
        {"proof_of_address__how": "upload", "proof_of_address": (io.BytesIO(PDF), "contract.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    html = client.get(url).get_data(as_text=True)
    assert "contract.pdf" in html


def test_another_citizen_cannot_open_a_draft(site, citizen) -> None:
    _signed_in(citizen, "en")
    url = _start(citizen.client, "en", "change-of-address")
    stranger = site.test_client()
    assert stranger.get(url).status_code in (302, 401)  # signed out: to the sign-in page
    with site.app_context():
        application = db.session.scalar(select(Application))
        assert application.expires_at > utcnow()


def test_a_citizen_withdraws_an_application_before_the_decision(site, citizen) -> None:
    _signed_in(citizen, "en")
    client = citizen.client
    with site.app_context():
        procedure = catalogue.get("general-application")
    check_url = apply_until_check(client, _start(client, "en", procedure.slug), procedure)
    confirmation = _submit(client, check_url).headers["Location"]
    withdraw_url = confirmation.replace("/confirmation", "/withdraw")
    assert citizen.page(confirmation).find(f".//a[@href='{withdraw_url}']") is not None

    too_long = post_form(client, withdraw_url, {"reason": "x" * 2001})
    assert too_long.status_code == 200
    assert 'class="error-summary"' in too_long.get_data(as_text=True)
    assert "x" * 2001 in too_long.get_data(as_text=True)  # what was typed stays

    done = post_form(client, withdraw_url, {"reason": "  I found the answer elsewhere.  "})
    assert done.headers["Location"] == confirmation
    page = " ".join(citizen.page(confirmation).itertext())
    assert "You have withdrawn your application." in page
    with site.app_context():
        application = db.session.scalar(select(Application))
        assert application.status == "withdrawn"
        event = application.events[-1]
        assert (event.from_state, event.to_state, event.actor) == (
            "submitted",
            "withdrawn",
            "citizen",
        )
        assert event.reason == "I found the answer elsewhere."
    # Withdrawn is final: the page is gone and posting again changes nothing.
    assert client.get(withdraw_url).headers["Location"] == confirmation
    token = csrf_token(client, confirmation)
    again = client.post(
        withdraw_url,
        data={"csrf_token": token, "reason": "again"},
        headers={"Referer": f"https://localhost{confirmation}"},
    )
    assert again.headers["Location"] == confirmation
    with site.app_context():
        kinds = db.session.scalars(select(TimelineEvent.to_state)).all()
        assert kinds.count("withdrawn") == 1
