"""The demo back office for ``make run``: a supervisor of the City Council, a few more
citizens' cases so the inbox has something to sort (one past its legal deadline), and
what a citizen-service desk finds on a Monday (``_desk``).

The supervisor signs in with the demo citizen's published password and authenticator key,
so one code generator serves both (``flask --app wsgi users code``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from identity import accounts, encryption
from identity import demo as identity_demo
from identity.models import Account, Factor, FactorKind, utcnow
from portal.backoffice import cases, contacts, demo_figures, opinions, staff
from portal.backoffice.models import StaffMember
from portal.extensions import db
from portal.folder.demo import submitted
from procedures.models import Application

EMAIL = "marta@demo.portal.example"
#: Other citizens' cases for the inbox: (email, procedure, days since they applied).
CASES = (
    ("luis@demo.portal.example", "bulky-waste-collection", 2),
    ("sara@demo.portal.example", "residents-parking-permit", 12),
    ("omar@demo.portal.example", "change-of-address", 95),
)


def _desk(marta: staff.Staff, now: datetime) -> None:
    """What a citizen-service desk has on a Monday: a complaint not yet routed (and Parks
    to route it to), a call whose follow-up is due today, and an opinion the census office
    asked of Marta's unit on a case it holds."""
    parks = _colleague("jorge@demo.portal.example", "Parques y Jardines", "caseworker")
    census = _colleague("irene@demo.portal.example", "Padrón", "caseworker")
    luis = accounts.find_by_email("luis@demo.portal.example")
    sara = accounts.find_by_email("sara@demo.portal.example")
    omar = accounts.find_by_email("omar@demo.portal.example")
    assert luis and sara and omar and parks and census  # noqa: S101 - made just above
    submitted(luis, "complaint-or-suggestion", "es", now - timedelta(days=3))
    contacts.record(
        marta,
        citizen_id=sara.id,
        channel="phone",
        topic="Permiso de aparcamiento para residentes",
        summary="Pregunta si puede aparcar con el permiso en la zona azul del centro. "
        "Le digo que lo comprobamos y la llamamos.",
        outcome="follow_up",
        follow_up_on=now.date(),
        purpose="enquiry",
        at=now - timedelta(days=2),
    )
    census_member = db.session.scalar(
        select(StaffMember).where(StaffMember.account_id == census.id)
    )
    omar_case = db.session.scalar(select(Application).where(Application.account_id == omar.id))
    if census_member is not None and omar_case is not None:
        cases.claim(staff.Staff(census_member, census), omar_case.id)
        found = cases.load(omar_case.id)
        opinions.ask(
            staff.Staff(census_member, census),
            found,
            marta.unit,
            "¿Consta en atención ciudadana alguna visita o llamada de esta persona sobre el "
            "cambio de domicilio?",
        )


def _colleague(email: str, unit: str, role: str) -> Account | None:
    account = accounts.find_by_email(email) or accounts.create_account(
        email, identity_demo.PASSWORD, "es"
    )
    if account is not None:
        accounts.mark_email_verified(account)
        staff.make_staff(account, "city-council", unit, role)
    return account


def load() -> list[str]:
    if accounts.find_by_email(EMAIL) is None:
        account = accounts.create_account(EMAIL, identity_demo.PASSWORD, "es")
        if account is None:
            return []
        accounts.mark_email_verified(account)
        account.factors.append(
            Factor(
                kind=FactorKind.TOTP,
                name="Aplicación del móvil",
                totp_secret_encrypted=encryption.encrypt(identity_demo.TOTP_SECRET),
            )
        )
        staff.make_staff(account, "city-council", "Atención ciudadana", "supervisor")
        now = utcnow()
        with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
            for email, slug, days in CASES:
                citizen = accounts.find_by_email(email) or accounts.create_account(
                    email, identity_demo.PASSWORD, "es"
                )
                accounts.mark_email_verified(citizen)
                has_cases = db.session.scalar(
                    select(func.count()).where(Application.account_id == citizen.id)
                )
                if not has_cases:
                    submitted(citizen, slug, "es", now - timedelta(days=days))
            demo_figures.load(account, now)
            _desk(
                staff.Staff(
                    db.session.scalar(
                        select(StaffMember).where(StaffMember.account_id == account.id)
                    ),
                    account,
                ),
                now,
            )
        db.session.commit()
    return [
        "Demo staff member (the staff area is at /es/staff/):",
        f"  email:     {EMAIL} (supervisor at the City Council)",
        "  password and app code: the demo citizen's",
    ]
