"""Every staff URL, tried by those who must not get through: a citizen, staff of another
agency, and a caseworker trying what only supervisors or administrators may do.

The URLs come from the app's own routes, so a new staff page is tried here the day it
exists; one whose URL takes a value this test does not know how to fill fails until it
is added below.
"""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from portal.backoffice import contacts, staff
from portal.backoffice.models import Opinion, StaffMember
from portal.extensions import db
from procedures.models import Application
from tests.support.citizen import Citizen
from tests.support.everything import busy
from tests.support.forms import csrf_token
from tests.support.staff import staff_member

pytestmark = pytest.mark.database

#: Endpoints only supervisors (and administrators) may use: a caseworker gets 403.
SUPERVISORS = {"backoffice.assign", "backoffice.figures", "backoffice.figures_csv"}
#: Endpoints only administrators may use.
ADMINISTRATORS = {
    "backoffice.team_list",
    "backoffice.member_new",
    "backoffice.member",
    "backoffice.member_access",
}
#: Endpoints whose URL names none of the council's objects: another agency's staff get
#: their own (empty) page, which must not show the council's case.
AGENCY_WIDE = {
    "backoffice.inbox",
    "backoffice.citizens",
    "backoffice.contact_list",
    "backoffice.record_contact",
    "backoffice.complaints_queue",
    "backoffice.opinions_queue",
    "backoffice.figures",
    "backoffice.figures_csv",
    "backoffice.team_list",
    "backoffice.member_new",
}


def _council(site: Flask) -> tuple[Citizen, dict[str, str]]:
    """A citizen with a case at the City Council, a call the council recorded, an opinion
    asked on the case and a council staff member: the values every staff URL takes."""
    citizen = Citizen(site, site.test_client(), "ana@example.es")
    history = busy(citizen)
    clerk = staff_member(site, "clerk@villanueva.example", unit="Registro")
    with site.test_request_context("/en/"):
        account = db.session.merge(citizen.account())
        member = db.session.scalar(
            select(StaffMember).where(StaffMember.account_id == clerk.account().id)
        )
        me = staff.Staff(member, db.session.merge(clerk.account()))
        call = contacts.record(
            me, citizen_id=account.id, channel="phone", topic="x", summary="y", outcome="answered"
        )
        application_id = db.session.scalar(
            select(Application.id).where(Application.reference == history.waiting)
        )
        opinion = Opinion(
            application_id=application_id,
            agency="city-council",
            from_unit="Registro",
            to_unit="Padrón",
            question="¿?",
        )
        db.session.add(opinion)
        db.session.commit()
        values = {
            "reference": history.waiting,
            "account_id": str(account.id),
            "contact_id": str(call.id),
            "opinion_id": str(opinion.id),
            "member_id": str(member.id),
            "file_id": "1",  # the case is out of reach before any file is looked for
        }
    return citizen, values


def _urls(site: Flask, values: dict[str, str]) -> list[tuple[str, str, str]]:
    """(endpoint, method, path) of every staff route, filled with ``values``."""
    found = []
    for rule in site.url_map.iter_rules():
        if not rule.endpoint.startswith("backoffice."):
            continue
        missing = set(rule.arguments) - {"lang"} - set(values)
        assert not missing, f"{rule.endpoint}: teach this test to fill {missing}"
        path = rule.rule.replace("<lang:lang>", "en")
        for name in rule.arguments - {"lang"}:
            path = path.replace(f"<{name}>", values[name]).replace(f"<int:{name}>", values[name])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, path))
    assert len(found) >= 30
    return found


def _try(person: Citizen, method: str, path: str) -> int:
    if method == "GET":
        return person.client.get(path).status_code
    token = csrf_token(person.client, "/en/account/") if person.email else ""
    return person.client.post(
        path, data={"csrf_token": token}, headers={"Referer": f"https://localhost{path}"}
    ).status_code


def test_a_citizen_finds_no_staff_url_at_all(site) -> None:
    _citizen, values = _council(site)
    outsider = Citizen(site, site.test_client(), "vecino@example.es")
    outsider.register()
    for endpoint, method, path in _urls(site, values):
        assert _try(outsider, method, path) == 404, (endpoint, method, path)


def test_staff_of_another_agency_reach_none_of_the_councils_data(site) -> None:
    _citizen, values = _council(site)
    tax = staff_member(
        site, "pau@hacienda.example", agency="tax-office", unit="Recaudación", role="supervisor"
    )
    # They look the citizen up for a purpose of their own, as they may; still no council data.
    tax.client.post(
        "/en/staff/citizens",
        data={
            "csrf_token": csrf_token(tax.client, "/en/staff/citizens"),
            "query": "ana@example.es",
            "purpose": "enquiry",
        },
        headers={"Referer": "https://localhost/en/staff/citizens"},
    )
    for endpoint, method, path in _urls(site, values):
        status = _try(tax, method, path)
        if endpoint in ADMINISTRATORS:
            assert status == 403, (endpoint, method, path)
        elif endpoint in AGENCY_WIDE or endpoint.startswith(
            ("backoffice.citizen", "backoffice.counter")
        ):
            assert status in (200, 302, 400), (endpoint, method, path, status)
            if method == "GET" and status == 200:
                page = tax.client.get(path).get_data(as_text=True)
                assert values["reference"] not in page, (endpoint, path)
        else:
            assert status == 404, (endpoint, method, path, status)


def test_a_caseworker_is_refused_what_supervisors_and_administrators_do(site) -> None:
    _citizen, values = _council(site)
    worker = staff_member(site, "marta@villanueva.example")
    for endpoint, method, path in _urls(site, values):
        if endpoint not in SUPERVISORS | ADMINISTRATORS:
            continue
        assert _try(worker, method, path) == 403, (endpoint, method, path)
