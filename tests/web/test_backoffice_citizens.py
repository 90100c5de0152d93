"""Finding a citizen and seeing them whole, as a caseworker at the counter would: search by
what the person says, say why first, and every person shown learns of it."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from identity import lookup, record
from portal.audit import DataAccess
from portal.extensions import db
from procedures import applications, catalogue, samples
from tests.support.citizen import Citizen
from tests.support.forms import csrf_token
from tests.support.staff import staff_member

pytestmark = pytest.mark.database

SEARCH = "/en/staff/citizens"


def _citizen_with_a_case(site: Flask) -> tuple[Citizen, str]:
    person = Citizen(site, site.test_client(), "lucia.fernandez@example.es")
    person.register()
    with site.test_request_context("/en/"):
        account = person.account()
        account = db.session.merge(account)
        record.record(account, "given_name", "Lucía", "police", verified=True)
        record.record(account, "family_name", "Fernández Núñez", "police", verified=True)
        record.record(account, "national_id", "12345678Z", "police", verified=True)
        record.record(account, "phone", "+34 600 111 222", "citizen")
        procedure = catalogue.get("change-of-address")
        application = applications.start(account, procedure, "en")
        samples.fill(application, procedure)
        applications.submit(application, procedure)
        db.session.commit()
        return person, application.reference


def _search(worker: Citizen, query: str, purpose: str = "enquiry", detail: str = ""):
    return worker.client.post(
        SEARCH,
        data={
            "csrf_token": csrf_token(worker.client, SEARCH),
            "query": query,
            "purpose": purpose,
            "detail": detail,
        },
        headers={"Referer": f"https://localhost{SEARCH}"},
    )


def _reads(site: Flask, citizen: Citizen) -> list[tuple[str, str]]:
    with site.app_context():
        account_id = citizen.account().id
        return [
            (row.what, row.purpose)
            for row in db.session.scalars(
                select(DataAccess)
                .where(DataAccess.citizen_account_id == account_id)
                .order_by(DataAccess.id)
            )
        ]


def test_a_caseworker_finds_a_citizen_by_what_they_say_and_sees_them_whole(site) -> None:
    person, reference = _citizen_with_a_case(site)
    worker = staff_member(site, "marta@villanueva.example")

    # Why comes first: without it nothing is searched and no one is named.
    empty = _search(worker, "Fernández", purpose="")
    assert "Select why you are looking for this person" in empty.text
    assert "Lucía" not in empty.text
    assert "Enter the person" in _search(worker, " ").text
    assert _reads(site, person) == []

    # As people say it: without accents or capitals, a DNI with dots, a phone without +34.
    for query in ("fernandez nunez", "LUCIA", "12.345.678-z", "600 111 222", person.email):
        found = _search(worker, query)
        assert found.status_code == 200 and "Lucía Fernández Núñez" in found.text, query
        assert "78Z" in found.text and "12345678Z" not in found.text, query
    assert "No one matches" in _search(worker, "Fernández Pérez").text
    assert _reads(site, person) == [("search", "enquiry")] * 5

    # Opening the record: one more row, with the search's purpose, once per sitting.
    with site.app_context():
        account_id = person.account().id
    page = worker.text(f"/en/staff/citizens/{account_id}")
    assert "12345678Z" in page and "+34 600 111 222" in page
    assert reference in page and "Application sent" in page
    worker.text(f"/en/staff/citizens/{account_id}")
    assert _reads(site, person)[-2:] == [("search", "enquiry"), ("record", "enquiry")]
    assert len(_reads(site, person)) == 6

    # The citizen reads who looked them up, and why.
    person.lang = "en"
    uses = person.text("/en/folder/data-use?by=staff")
    assert "Your name, shown in a staff search" in uses
    assert "Your personal record" in uses
    assert "To answer a question you asked us" in uses


def test_a_record_is_not_opened_without_a_search_for_a_purpose(site) -> None:
    person, _reference = _citizen_with_a_case(site)
    worker = staff_member(site, "marta@villanueva.example")
    with site.app_context():
        account_id = person.account().id
    response = worker.client.get(f"/en/staff/citizens/{account_id}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/citizens")
    assert _reads(site, person) == []
    citizen_url = f"/en/staff/citizens/{account_id}"
    assert person.client.get(citizen_url).status_code == 404  # not staff


def test_staff_of_another_agency_see_the_record_but_not_the_cases(site) -> None:
    person, reference = _citizen_with_a_case(site)
    worker = staff_member(site, "pau@hacienda.example", agency="tax-office", unit="Recaudación")
    _search(worker, "12345678Z", purpose="other", detail="Deuda pendiente")
    with site.app_context():
        account_id = person.account().id
    page = worker.text(f"/en/staff/citizens/{account_id}")
    assert "12345678Z" in page
    assert reference not in page and "No case with your agency." in page
    assert _reads(site, person) == [("search", "other"), ("record", "other")]


def test_the_index_holds_keyed_fingerprints_not_values(site) -> None:
    person, _reference = _citizen_with_a_case(site)
    with site.test_request_context("/en/"):
        account_id = person.account().id
        stored = set(
            db.session.scalars(
                select(lookup.LookupTerm.term).where(lookup.LookupTerm.account_id == account_id)
            )
        )
        expected = {"lucia", "fernandez", "nunez", "12345678z", "600111222"}
        assert stored == {lookup.fingerprint(term) for term in expected}
        assert not stored & expected
        # A change of record replaces the old terms.
        account = db.session.merge(person.account())
        record.record(account, "family_name", "Fernández", "citizen")
        db.session.commit()
        assert lookup.find("nunez") == []
        assert lookup.find("fernandez lucia") == [account_id]


def test_finding_several_people_reads_as_many_times_as_finding_one(db_app: Flask) -> None:
    """Each person shown is read with the others, not one by one. (Their "search" rows are
    written in one statement on PostgreSQL; SQLite's driver gets one per row.)"""
    from sqlalchemy import event

    from identity import accounts
    from portal.backoffice import citizens, staff

    def person(n: int, family: str) -> int:
        account = accounts.create_account(f"person{n}@example.es", "una clave bien larga", "es")
        assert account is not None
        accounts.mark_email_verified(account)
        record.record(account, "given_name", "Amaia", "police", verified=True)
        record.record(account, "family_name", family, "police", verified=True)
        record.record(account, "national_id", f"1000000{n}X", "police", verified=True)
        return account.id

    alone = person(0, "Otxoa Uria")
    namesakes = [person(n, "Zubizarreta Olano") for n in range(1, 7)]
    worker = accounts.create_account("marta@villanueva.example", "una clave bien larga", "es")
    assert worker is not None
    me = staff.Staff(staff.make_staff(worker, "city-council", "Padrón", "caseworker"), worker)
    db.session.commit()

    def search(query: str) -> tuple[list[citizens.Found] | None, int]:
        statements: list[str] = []

        def count(*args: object) -> None:
            if str(args[2]).lstrip().upper().startswith("SELECT"):
                statements.append(str(args[2]))

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            found = citizens.search(me, query, "enquiry", None)
            db.session.commit()
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return found, len(statements)

    one, for_one = search("Otxoa")
    six, for_six = search("Zubizarreta")
    assert [(f.account_id, f.name, f.identifier_end) for f in one or []] == [
        (alone, "Amaia Otxoa Uria", "00X")
    ]
    assert [f.account_id for f in six or []] == namesakes
    assert {f.identifier_end for f in six or []} == {f"0{n}X" for n in range(1, 7)}
    assert for_six == for_one
    reads = db.session.scalars(
        select(DataAccess.citizen_account_id).where(DataAccess.what == "search")
    ).all()
    assert sorted(reads) == sorted([alone, *namesakes])
