"""Contacts from every channel, as staff at a town hall take them: a call from a person
they look up, a question from someone who gives no name, the follow-ups the team owes."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select, text

from identity import record
from portal.audit import DataAccess
from portal.backoffice.models import Contact
from portal.extensions import db
from procedures import applications, catalogue, samples
from tests.support.citizen import Citizen
from tests.support.forms import csrf_token
from tests.support.staff import staff_member

pytestmark = pytest.mark.database

NEW = "/en/staff/contacts/new"
NO_DATE = {"follow_up_on-day": "", "follow_up_on-month": "", "follow_up_on-year": ""}
SUMMARY = "Asked why her census certificate shows her old address; told her to apply again."


def _lucia(site: Flask) -> tuple[Citizen, int, str]:
    person = Citizen(site, site.test_client(), "lucia.fernandez@example.es")
    person.register()
    with site.test_request_context("/en/"):
        account = db.session.merge(person.account())
        record.record(account, "given_name", "Lucía", "police", verified=True)
        record.record(account, "family_name", "Fernández Núñez", "police", verified=True)
        record.record(account, "national_id", "12345678Z", "police", verified=True)
        procedure = catalogue.get("change-of-address")
        application = applications.start(account, procedure, "en")
        samples.fill(application, procedure)
        applications.submit(application, procedure)
        db.session.commit()
        return person, account.id, application.reference


def _post(worker: Citizen, url: str, data: dict[str, object]):
    return worker.client.post(
        url,
        data={"csrf_token": csrf_token(worker.client, url), **data},
        headers={"Referer": f"https://localhost{url}"},
    )


def _call(**changes: object) -> dict[str, object]:
    today = date.today()
    return {
        "channel": "phone",
        "topic": "Census certificate",
        "procedure": "change-of-address",
        "summary": SUMMARY,
        "outcome": "follow_up",
        "follow_up_on-day": str(today.day),
        "follow_up_on-month": str(today.month),
        "follow_up_on-year": str(today.year),
        **changes,
    }


def test_a_call_from_a_person_is_recorded_and_shown_where_the_next_colleague_looks(
    site,
) -> None:
    person, person_id, reference = _lucia(site)
    worker = staff_member(site, "marta@villanueva.example")
    _post(worker, "/en/staff/citizens", {"query": "12345678Z", "purpose": "enquiry"})
    url = f"{NEW}?citizen={person_id}"

    # Each missing answer says what to do, and what was typed stays.
    empty = _post(worker, url, {"summary": SUMMARY})
    assert empty.status_code == 200
    for message in (
        "Select how the person contacted us",
        "Write what the contact was about",
        "Select the outcome",
    ):
        assert message in empty.text
    assert SUMMARY in empty.text
    no_date = _post(worker, url, _call(**NO_DATE))
    assert "Enter a date for “Come back to them by”" in no_date.text
    half = _post(worker, url, _call(**{"follow_up_on-month": ""}))
    assert "“Come back to them by” must include a month" in half.text
    past = _post(worker, url, _call(**{"follow_up_on-year": "2020"}))
    assert "must be today or in the future" in past.text
    # A case that is not this person's is refused, and nothing is written.
    _other, _other_id, other_reference = _other_case(site)
    wrong = _post(worker, url, _call(reference=other_reference))
    assert "Enter the reference of one of this person" in wrong.text
    with site.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Contact)) == 0

    done = _post(worker, url, _call(reference=reference.lower()))
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/citizens/{person_id}")
    record_page = worker.text(f"/en/staff/citizens/{person_id}")
    assert "Phone call: Census certificate" in record_page
    assert SUMMARY in record_page and "We must come back to them" in record_page

    with site.app_context():
        contact = db.session.scalar(select(Contact))
        assert contact.reference == reference and contact.channel == "phone"
        # The summary is encrypted at rest: the raw column holds no plaintext.
        raw = db.session.scalar(text("SELECT summary_encrypted FROM contacts"))
        assert "census" not in raw.lower()
        rows = db.session.scalars(
            select(DataAccess.what).where(DataAccess.citizen_account_id == person_id)
        ).all()
        assert rows.count("contact") == 1

    # Lucía reads that it was recorded, and finds it among her data.
    person.lang = "en"
    assert "A note of your contact with us" in person.text("/en/folder/data-use?by=staff")


def _other_case(site: Flask) -> tuple[Citizen, int, str]:
    other = Citizen(site, site.test_client(), "otro@example.es")
    other.register()
    with site.test_request_context("/en/"):
        account = db.session.merge(other.account())
        procedure = catalogue.get("bulky-waste-collection")
        application = applications.start(account, procedure, "en")
        samples.fill(application, procedure)
        applications.submit(application, procedure)
        db.session.commit()
        return other, account.id, application.reference


def test_the_list_plans_follow_ups_without_showing_who_or_what(site) -> None:
    _person, person_id, _reference = _lucia(site)
    worker = staff_member(site, "marta@villanueva.example")
    _post(worker, "/en/staff/citizens", {"query": "Lucía", "purpose": "enquiry"})
    _post(worker, f"{NEW}?citizen={person_id}", _call())
    # Someone who gives no name: no purpose needed, nothing about anyone written.
    anonymous = _post(
        worker,
        NEW,
        _call(
            channel="counter",
            topic="Opening hours",
            procedure="",
            summary="Asked when the office opens.",
            outcome="answered",
            **NO_DATE,
        ),
    )
    assert anonymous.status_code == 302

    listing = worker.text("/en/staff/contacts/")
    assert "1 follow-up is due." in listing
    assert "Phone call: Census certificate" in listing
    assert "Visit to an office: Opening hours" in listing
    assert "Lucía" not in listing and SUMMARY not in listing
    due = worker.text("/en/staff/contacts/?due=1")
    assert "Census certificate" in due and "Opening hours" not in due

    # A colleague opens the call: asked why first, then reads it; Lucía sees that too.
    colleague = staff_member(site, "pedro@villanueva.example")
    with site.app_context():
        call_id = db.session.scalar(select(Contact.id).where(Contact.channel == "phone"))
        question_id = db.session.scalar(select(Contact.id).where(Contact.channel == "counter"))
    asked = colleague.client.get(f"/en/staff/contacts/{call_id}")
    assert asked.status_code == 302 and asked.headers["Location"].endswith("/open")
    assert "Why are you reading this contact?" in colleague.text(
        f"/en/staff/contacts/{call_id}/open"
    )
    opened = _post(colleague, f"/en/staff/contacts/{call_id}/open", {"purpose": "enquiry"})
    assert opened.status_code == 302
    page = colleague.text(f"/en/staff/contacts/{call_id}")
    assert SUMMARY in page and "Lucía Fernández Núñez" in page
    assert "Asked when the office opens." in colleague.text(f"/en/staff/contacts/{question_id}")

    # The follow-up done, none is due.
    _post(colleague, f"/en/staff/contacts/{call_id}/done", {})
    assert "No follow-up is due." in worker.text("/en/staff/contacts/")
    with site.app_context():
        readers = db.session.scalars(
            select(DataAccess.viewer_account_id).where(
                DataAccess.citizen_account_id == person_id, DataAccess.what == "contact"
            )
        ).all()
        assert len(readers) == 2  # recorded by one, read by the other


def test_another_agency_sees_none_of_it(site) -> None:
    person, person_id, _reference = _lucia(site)
    worker = staff_member(site, "marta@villanueva.example")
    _post(worker, "/en/staff/citizens", {"query": "Lucía", "purpose": "enquiry"})
    _post(worker, f"{NEW}?citizen={person_id}", _call())
    with site.app_context():
        call_id = db.session.scalar(select(Contact.id))
    tax = staff_member(site, "pau@hacienda.example", agency="tax-office", unit="Recaudación")
    assert "Census certificate" not in tax.text("/en/staff/contacts/")
    assert tax.client.get(f"/en/staff/contacts/{call_id}").status_code == 404
    assert tax.client.get(f"/en/staff/contacts/{call_id}/open").status_code == 404
    assert person.client.get(f"/en/staff/contacts/{call_id}").status_code == 404  # not staff
    # A record opened without a search first cannot be written to either.
    refused = tax.client.get(f"{NEW}?citizen={person_id}")
    assert refused.status_code == 302 and refused.headers["Location"].endswith("/citizens")
