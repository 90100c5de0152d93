"""Counter mode, as a caseworker at a town-hall desk would use it: find the person who
came in, say why, start their application and fill it in with them; the application is
theirs (folder, receipt, email in their language) and records that it was assisted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from identity import record
from identity.models import utcnow
from portal.audit import DataAccess
from portal.backoffice.models import StaffMember
from portal.extensions import db
from procedures import catalogue
from procedures.models import Application, RegistryEntry
from tests.support import mailbox
from tests.support.applicant import apply_until_check
from tests.support.citizen import Citizen
from tests.support.forms import csrf_token, post_from
from tests.support.staff import staff_member
from tests.support.translations import translate

pytestmark = pytest.mark.database

SEARCH = "/en/staff/citizens"


def _lucia(site: Flask) -> tuple[Citizen, int]:
    person = Citizen(site, site.test_client(), "lucia.fernandez@example.es")
    person.register()
    with site.app_context():
        account = db.session.merge(person.account())
        account.language = "ca"
        record.record(account, "given_name", "Lucía", "police", verified=True)
        record.record(account, "family_name", "Fernández Núñez", "police", verified=True)
        record.record(account, "national_id", "12345678Z", "police", verified=True)
        db.session.commit()
        return person, account.id


def _post(worker: Citizen, url: str, data: dict[str, object]):
    return worker.client.post(
        url,
        data={"csrf_token": csrf_token(worker.client, url), **data},
        headers={"Referer": f"https://localhost{url}"},
    )


def _found(worker: Citizen, query: str, purpose: str = "counter") -> None:
    response = _post(worker, SEARCH, {"query": query, "purpose": purpose})
    assert response.status_code == 200 and "Lucía Fernández Núñez" in response.text


def _application(site: Flask, person_id: int) -> Application:
    with site.app_context():
        found = db.session.scalar(select(Application).where(Application.account_id == person_id))
        db.session.expunge_all()
        return found


def test_a_caseworker_fills_in_an_application_with_the_citizen_at_the_desk(site) -> None:
    person, person_id = _lucia(site)
    worker = staff_member(site, "marta@villanueva.example")
    _found(worker, "12345678Z")
    counter = f"/en/staff/citizens/{person_id}/counter"

    # Nothing chosen: every question says what to do, and nothing is started.
    empty = _post(worker, counter, {"language": ""})
    assert empty.status_code == 200
    for message in (
        "Select the procedure",
        "Select the language of the application",
        "Confirm that you have seen the person&#39;s identity document",
    ):
        assert message in empty.text
    assert _application(site, person_id) is None
    # Only the agency's own procedures are offered; another agency's is refused.
    page = worker.client.get(counter).text
    assert 'value="change-of-address"' in page
    assert 'value="school-grant"' not in page
    refused = _post(
        worker,
        counter,
        {"procedure": "school-grant", "language": "ca", "identity_checked": "y"},
    )
    assert "Select the procedure" in refused.text
    # The language offered first is the citizen's own.
    assert 'value="ca" checked' in page

    started = _post(
        worker,
        counter,
        {"procedure": "change-of-address", "language": "ca", "identity_checked": "y"},
    )
    assert started.status_code == 302
    resume = worker.client.get(started.headers["Location"])
    assert resume.status_code == 302
    first_page = resume.headers["Location"]
    question = worker.text(first_page)
    assert "You are filling this in for Lucía Fernández Núñez" in question

    with site.app_context():
        procedure = catalogue.get("change-of-address")
    check = apply_until_check(worker.client, first_page, procedure)
    sent = post_from(worker.client, check, check.replace("/check", "/submit"), {})
    assert sent.status_code == 302
    confirmation = worker.text(sent.headers["Location"])
    assert "You are filling this in for Lucía Fernández Núñez" in confirmation
    # A second press of Send (the same session's token) creates nothing more.
    again = worker.client.post(
        check.replace("/check", "/submit"),
        data={"csrf_token": csrf_token(worker.client, counter)},
        headers={"Referer": f"https://localhost{check}"},
    )
    assert again.status_code == 302

    application = _application(site, person_id)
    with site.app_context():
        worker_id = worker.account().id
        events = db.session.merge(application).events
        submitted = next(e for e in events if e.kind == "submitted")
        assert (submitted.actor, submitted.actor_account_id) == ("staff", worker_id)
        entries = db.session.scalars(
            select(RegistryEntry).where(RegistryEntry.application_id == application.id)
        ).all()
        assert len(entries) == 1
        purposes = db.session.scalars(
            select(DataAccess.purpose).where(
                DataAccess.citizen_account_id == person_id,
                DataAccess.reference == application.reference,
            )
        ).all()
        assert purposes == ["counter"]
    assert (application.channel, application.assisted_by_account_id) == ("counter", worker_id)
    assert application.language == "ca"

    # The receipt goes to the citizen, in the language chosen for them; not to staff.
    number = entries[0].number
    subject = translate(site, "ca", "Application received: %(number)s", number=number)
    assert str(mailbox.last(site, person.email)["Subject"]) == subject
    assert not any(number in str(m["Subject"]) for m in mailbox.messages(site, worker.email))

    # The citizen sees it in their folder as sent at an office, and who helped, and why.
    person.lang = "en"
    case = person.text(f"/en/folder/cases/{application.reference}")
    assert "At one of our offices, with the help of our staff" in case
    uses = person.text("/en/folder/data-use?by=staff")
    assert "To help you at an office, with you present" in uses

    # Staff reading the case see how it came in, and who filled it in.
    supervisor = staff_member(site, "jefa@villanueva.example", role="supervisor")
    opened = f"/en/staff/cases/{application.reference}/open"
    _post(supervisor, opened, {"purpose": "case_handling"})
    staff_case = supervisor.text(f"/en/staff/cases/{application.reference}")
    assert "At a counter, filled in by marta@villanueva.example with the applicant" in staff_case


def test_only_the_assisting_staff_member_fills_it_in_and_only_while_their_purpose_holds(
    site,
) -> None:
    person, person_id = _lucia(site)
    worker = staff_member(site, "marta@villanueva.example")
    _found(worker, "Lucía Fernández")
    counter = f"/en/staff/citizens/{person_id}/counter"
    started = _post(
        worker,
        counter,
        {"procedure": "bulky-waste-collection", "language": "es", "identity_checked": "y"},
    )
    application = _application(site, person_id)
    resume = f"/en/applications/{application.reference}/"
    assert worker.client.get(resume).status_code == 302
    assert started.status_code == 302

    # A colleague who did not start it, or anyone else, finds nothing there.
    colleague = staff_member(site, "pedro@villanueva.example")
    assert colleague.client.get(resume).status_code == 404
    # The citizen can finish it themselves.
    assert person.client.get(resume).status_code == 302

    # The purpose holds for the sitting at the desk (two hours), then the draft is theirs alone.
    with site.app_context():
        db.session.execute(
            update(DataAccess)
            .where(DataAccess.reference == application.reference)
            .values(at=utcnow() - timedelta(hours=2, minutes=1))
        )
        db.session.commit()
    assert worker.client.get(resume).status_code == 404
    assert person.client.get(resume).status_code == 302


def test_counter_mode_needs_a_search_for_the_person_and_active_staff(site) -> None:
    person, person_id = _lucia(site)
    worker = staff_member(site, "marta@villanueva.example")
    counter = f"/en/staff/citizens/{person_id}/counter"
    # No search for a purpose first: sent to the search, nothing read or written.
    response = worker.client.get(counter)
    assert response.status_code == 302 and response.headers["Location"].endswith("/citizens")
    assert person.client.get(counter).status_code == 404  # not staff
    _found(worker, "12345678Z")
    _post(
        worker,
        counter,
        {"procedure": "bulky-waste-collection", "language": "es", "identity_checked": "y"},
    )
    application = _application(site, person_id)
    resume = f"/en/applications/{application.reference}/"
    assert worker.client.get(resume).status_code == 302
    # Staff no longer (moved, retired): the counter draft is closed to them at once.
    with site.app_context():
        db.session.execute(
            update(StaffMember)
            .where(StaffMember.account_id == worker.account().id)
            .values(disabled_at=utcnow())
        )
        db.session.commit()
    assert worker.client.get(resume).status_code == 404
