"""Leaving: a citizen with a busy history deletes their account. What is theirs alone goes;
what the law makes the administration keep stays, pointing at a pseudonym that leads
nowhere; and nothing of it ever reaches a new account."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from identity.models import Account, AccountSession, CitizenAttribute, Factor
from identity.oidc.models import OidcConsent, OidcToken
from portal.audit import DataAccess
from portal.backoffice.models import StaffMember
from portal.extensions import db
from portal.notifications import Notification, NotificationPreference
from portal.suggestions import DismissedSuggestion
from procedures import documents
from procedures.models import DRAFT, Application, Appointment, IssuedDocument
from tests.support import mailbox
from tests.support.citizen import Citizen
from tests.support.everything import give_everything

pytestmark = pytest.mark.database


def _count(model, **where) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.session.scalar(query) or 0


def _delete(citizen: Citizen) -> None:
    url = "/en/account/delete"
    response = citizen.post(url.removeprefix("/en/account"), {"confirm": "y"})
    assert response.headers["Location"].endswith("/en/account/deleted")


def test_leaving_keeps_what_the_law_requires_behind_a_pseudonym(site, citizen) -> None:
    account_id = give_everything(site, citizen)
    with site.app_context():
        kept_applications = _count(Application, account_id=account_id) - _count(
            Application, account_id=account_id, status=DRAFT
        )
        certificate = db.session.scalar(
            select(IssuedDocument.csv).where(
                IssuedDocument.account_id == account_id, IssuedDocument.kind == "certificate"
            )
        )
        reads = _count(DataAccess, citizen_account_id=account_id)
    _delete(citizen)

    with site.app_context():
        account = db.session.get(Account, account_id)
        assert account.email.endswith("@deleted.invalid")
        assert account.password_hash is None and account.email_verified_at is None
        assert not account.is_active
        for model in (
            Factor,
            AccountSession,
            CitizenAttribute,
            OidcConsent,
            OidcToken,
            Notification,
            NotificationPreference,
            DismissedSuggestion,
            StaffMember,
        ):
            assert _count(model, account_id=account_id) == 0, model.__name__
        assert _count(Application, account_id=account_id, status=DRAFT) == 0
        assert _count(Application, account_id=account_id) == kept_applications > 0
        assert _count(DataAccess, citizen_account_id=account_id) == reads > 0
        booked = db.session.scalars(
            select(Appointment).where(Appointment.account_id == account_id)
        ).all()
        assert booked and all(one.status == "cancelled" and one.seat is None for one in booked)

    # The certificate still verifies for whoever holds it.
    code = documents.grouped(certificate)
    assert site.test_client().get("/en/verify/", query_string={"code": code}).status_code == 200
    # The old session is gone; the old address can start afresh, with nothing of the old.
    assert citizen.client.get("/en/folder/").status_code == 302
    again = Citizen(site, site.test_client(), citizen.email)
    again.lang = "en"
    again.register()
    assert "You have not sent any application yet" in again.text("/en/folder/cases")
    with site.app_context():
        assert again.account().id != account_id


def test_leaving_is_all_or_nothing(site, citizen, monkeypatch) -> None:
    """A failure half-way (here, the database refusing the last step) leaves the account
    exactly as it was."""
    account_id = give_everything(site, citizen)
    with site.app_context():
        before = {
            model.__name__: _count(model, account_id=account_id)
            for model in (Factor, Notification, Application, CitizenAttribute)
        }

    from identity import accounts

    def refuse(*_args, **_kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(accounts.db.session, "flush", refuse)
    assert citizen.post("/delete", {"confirm": "y"}).status_code == 500
    monkeypatch.undo()
    with site.app_context():
        after = {
            model.__name__: _count(model, account_id=account_id)
            for model in (Factor, Notification, Application, CitizenAttribute)
        }
        assert after == before
        assert db.session.get(Account, account_id).deleted_at is None
    subjects = [m["Subject"] for m in mailbox.messages(site, citizen.email)]
    assert "Your account was deleted" not in subjects  # never announced when it failed


def test_the_reauthentication_guard_protects_leaving(site, citizen) -> None:
    give_everything(site, citizen)
    with site.app_context():
        for row in db.session.scalars(select(AccountSession)):
            row.authenticated_at -= timedelta(minutes=16)
        db.session.commit()
    response = citizen.client.get("/en/account/delete")
    assert "/en/account/reauthenticate" in response.headers["Location"]
