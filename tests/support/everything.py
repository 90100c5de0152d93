"""Citizens with a history: a busy folder (the folder and notification tests), and a row
in every table that can refer to them (the export and leaving tests)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, g
from sqlalchemy import select

from identity import record
from identity.models import AccountSession, utcnow
from identity.oidc import authorize, clients
from identity.oidc.models import OidcAuthorizationCode, OidcToken
from portal import notifications, suggestions
from portal.backoffice import cases, contacts, staff
from portal.backoffice.models import CaseRoute, Opinion
from portal.extensions import db
from portal.folder import demo
from tests.support.citizen import Citizen
from tests.support.testing_routes import _appointment


def busy(citizen: Citizen, lang: str = "en") -> demo.History:
    """Register the citizen and give them portal.folder.demo's busy history."""
    citizen.lang = lang
    citizen.register()
    with citizen.app.test_request_context(f"/{lang}/"):
        history = demo.busy(citizen.account(), lang)
        db.session.commit()
    return history


def give_everything(site: Flask, citizen: Citizen) -> int:
    """Give the citizen a row in every table that can refer to them; return their id."""
    citizen.lang = "en"
    citizen.register()
    with site.test_request_context("/en/"):
        g.lang = "en"
        account = citizen.account()
        history = demo.busy(account, "en")
        assert suggestions.dismiss(account.id, "bulky-waste-collection", history.waiting)
        record.record(account, "phone", "600 123 456", "citizen")
        notifications.set_email_preferences(account.id, {"request"})
        _appointment(account, {})
        # Citizens may work for an agency too; their case gets a holder and an internal
        # note, which are the back office's and stay out of their export.
        member = staff.make_staff(account, "city-council", "Padrón", "caseworker")
        me = staff.Staff(member, account)
        waiting = cases.locate(me, history.waiting)
        assert waiting is not None
        cases.claim(me, waiting[0])
        # A call they made to the council (theirs), and an opinion asked on their case and
        # the unit it was routed to (the back office's, kept out like the holder).
        contacts.record(
            me,
            citizen_id=account.id,
            channel="phone",
            topic="Padrón",
            summary="Asked how to register a newborn.",
            outcome="answered",
        )
        db.session.add(
            Opinion(
                application_id=waiting[0],
                agency="city-council",
                from_unit="Padrón",
                to_unit="Servicios Sociales",
                question="¿Consta en vuestro registro?",
                asked_by_account_id=account.id,
            )
        )
        db.session.add(CaseRoute(application_id=waiting[0], unit="Padrón"))
        registered = clients.create(
            f"Agencia {account.id}", ["https://agency.example/cb"], sector="agency.example"
        )
        authorize.record_consent(account, registered.client, ["openid", "email"], True)
        session = db.session.scalar(
            select(AccountSession).where(AccountSession.account_id == account.id)
        )
        now = utcnow()
        code = OidcAuthorizationCode(
            code_hash=f"{account.id:064d}",
            client_pk=registered.client.id,
            account_id=account.id,
            session_id=session.id,
            redirect_uri="https://agency.example/cb",
            scope="openid email",
            code_challenge="x" * 43,
            auth_time=int(now.timestamp()),
            acr="low",
            expires_at=now + timedelta(minutes=1),
        )
        db.session.add(code)
        db.session.flush()
        db.session.add(
            OidcToken(
                client_pk=registered.client.id,
                account_id=account.id,
                session_id=session.id,
                code_id=code.id,
                family=f"family-{account.id}",
                access_token_hash=f"a{account.id:063d}",
                refresh_token_hash=f"r{account.id:063d}",
                scope="openid email",
                auth_time=int(now.timestamp()),
                acr="low",
                access_expires_at=now + timedelta(hours=1),
            )
        )
        db.session.commit()
        return account.id
