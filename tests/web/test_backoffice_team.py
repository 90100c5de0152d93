"""An agency's administrator manages its staff: adds a colleague who has an account, moves
them between units and roles, withdraws their access when they leave; never another
agency's staff, never their own access."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from identity import accounts
from identity.models import Factor, FactorKind, SecurityEvent
from portal.backoffice.models import StaffMember
from portal.extensions import db
from tests.support.citizen import Citizen
from tests.support.forms import csrf_token
from tests.support.staff import staff_member

pytestmark = pytest.mark.database


def _administrator(site: Flask) -> Citizen:
    """An administrator signed in with a security key (through the test state route)."""
    admin = Citizen(site, site.test_client(), "unused@example.es")
    response = admin.client.get("/en/_test/state/staff_admin?endpoint=backoffice.team_list")
    assert response.status_code == 302
    with site.app_context():
        member = db.session.scalar(
            select(StaffMember)
            .where(StaffMember.role == "administrator")
            .order_by(StaffMember.id.desc())
        )
        admin.email = db.session.get(accounts.Account, member.account_id).email
    return admin


def _post(person: Citizen, url: str, data: dict[str, object]):
    return person.client.post(
        url,
        data={"csrf_token": csrf_token(person.client, url), **data},
        headers={"Referer": f"https://localhost{url}"},
    )


def _member(site: Flask, email: str) -> StaffMember | None:
    with site.app_context():
        found = db.session.scalar(
            select(StaffMember)
            .join(accounts.Account, accounts.Account.id == StaffMember.account_id)
            .where(accounts.Account.email == email)
        )
        db.session.expunge_all()
        return found


def _events(site: Flask, email: str) -> list[str]:
    with site.app_context():
        account = db.session.scalar(select(accounts.Account).where(accounts.Account.email == email))
        return list(
            db.session.scalars(
                select(SecurityEvent.kind).where(SecurityEvent.account_id == account.id)
            )
        )


def test_an_administrator_adds_moves_and_withdraws_a_colleague(site) -> None:
    admin = _administrator(site)
    newcomer = Citizen(site, site.test_client(), "nuria@example.es")
    newcomer.register()
    new = "/en/staff/team/new"

    empty = _post(admin, new, {})
    for message in (
        "Enter the email address of the person",
        "Enter the unit the person works in",
        "Select a role",
    ):
        assert message in empty.text
    unknown = _post(
        admin, new, {"email": "nadie@example.es", "unit": "Padrón", "role": "caseworker"}
    )
    assert "There is no confirmed account with this email address" in unknown.text
    # An administrator must sign in with a passkey or key: not someone with an app only.
    weak = _post(admin, new, {"email": newcomer.email, "unit": "Padrón", "role": "administrator"})
    assert "An administrator needs a passkey or a security key" in weak.text
    assert _member(site, newcomer.email) is None

    added = _post(
        admin, new, {"email": "NURIA@example.es ", "unit": "Padrón", "role": "caseworker"}
    )
    assert added.status_code == 302
    member = _member(site, newcomer.email)
    assert (member.agency, member.unit, member.role) == ("city-council", "Padrón", "caseworker")
    assert "staff_access_changed" in _events(site, newcomer.email)
    listing = admin.text("/en/staff/team/")
    assert newcomer.email in listing and "Authenticator app only" in listing
    # The newcomer now reaches the inbox (they have an authenticator app).
    assert newcomer.client.get("/en/staff/").status_code == 200
    again = _post(admin, new, {"email": newcomer.email, "unit": "Padrón", "role": "caseworker"})
    assert "already a member of your agency" in again.text

    # Moved to another unit and made supervisor.
    page = f"/en/staff/team/{member.id}"
    moved = _post(admin, page, {"unit": "Servicios Sociales", "role": "supervisor"})
    assert moved.status_code == 302
    assert (_member(site, newcomer.email).unit, _member(site, newcomer.email).role) == (
        "Servicios Sociales",
        "supervisor",
    )
    # Withdrawn: the staff area is gone for them at once; given back, it returns.
    assert _post(admin, f"{page}/access", {}).status_code == 302
    assert _member(site, newcomer.email).disabled_at is not None
    assert newcomer.client.get("/en/staff/").status_code == 404
    assert "Withdrawn" in admin.text("/en/staff/team/")
    assert _post(admin, f"{page}/access", {}).status_code == 302
    assert newcomer.client.get("/en/staff/").status_code == 200
    # Each change is in the person's security history.
    assert _events(site, newcomer.email).count("staff_access_changed") == 4
    newcomer.lang = "en"
    assert "An administrator changed your staff access" in newcomer.text("/en/account/history")


def test_an_administrator_promotes_only_those_with_a_key_and_never_themselves(site) -> None:
    admin = _administrator(site)
    colleague = staff_member(site, "rosa@villanueva.example", unit="Padrón")
    member = _member(site, colleague.email)
    page = f"/en/staff/team/{member.id}"
    refused = _post(admin, page, {"unit": "Padrón", "role": "administrator"})
    assert "An administrator needs a passkey or a security key" in refused.text
    with site.app_context():
        account = db.session.scalar(
            select(accounts.Account).where(accounts.Account.email == colleague.email)
        )
        account.factors.append(
            Factor(
                kind=FactorKind.SECURITY_KEY,
                name="Key",
                credential_id=b"k" * 32,
                public_key=b"-",
                sign_count=0,
                backup_eligible=False,
            )
        )
        db.session.commit()
    assert _post(admin, page, {"unit": "Padrón", "role": "administrator"}).status_code == 302
    assert _member(site, colleague.email).role == "administrator"

    own = _member(site, admin.email)
    mine = admin.client.get(f"/en/staff/team/{own.id}").text
    assert "You cannot change your own staff access" in mine
    assert _post(admin, f"/en/staff/team/{own.id}/access", {}).status_code == 302
    assert _member(site, admin.email).disabled_at is None
    demoted = _post(admin, f"/en/staff/team/{own.id}", {"unit": "X", "role": "caseworker"})
    assert "You cannot change your own staff access" in demoted.text
    assert _member(site, admin.email).role == "administrator"


def test_only_administrators_of_the_agency_manage_its_staff(site) -> None:
    admin = _administrator(site)
    supervisor = staff_member(site, "jefa@villanueva.example", role="supervisor")
    assert supervisor.client.get("/en/staff/team/").status_code == 403
    assert supervisor.client.get("/en/staff/team/new").status_code == 403
    tax = staff_member(site, "pau@hacienda.example", agency="tax-office", unit="Recaudación")
    tax_member = _member(site, tax.email)
    # Another agency's staff member is not found, nor added, nor listed.
    assert admin.client.get(f"/en/staff/team/{tax_member.id}").status_code == 404
    assert _post(admin, f"/en/staff/team/{tax_member.id}/access", {}).status_code == 404
    taken = _post(
        admin, "/en/staff/team/new", {"email": tax.email, "unit": "Padrón", "role": "caseworker"}
    )
    assert "staff of another agency" in taken.text
    assert tax.email not in admin.text("/en/staff/team/")
    assert _member(site, tax.email).agency == "tax-office"
    citizen = Citizen(site, site.test_client(), "vecina@example.es")
    citizen.register()
    assert citizen.client.get("/en/staff/team/").status_code == 404
    assert re.search(r"Staff of your agency", admin.text("/en/staff/team/"))
