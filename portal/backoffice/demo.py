"""The demo back office for ``make run``: a supervisor of the City Council, and a few more
citizens' cases so the inbox has something to sort (one past its legal deadline).

The supervisor signs in with the demo citizen's published password and authenticator key,
so one code generator serves both (``flask --app wsgi users code``).
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from identity import accounts, encryption
from identity import demo as identity_demo
from identity.models import Factor, FactorKind, utcnow
from portal.backoffice import demo_figures, staff
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
        db.session.commit()
    return [
        "Demo staff member (the staff area is at /es/staff/):",
        f"  email:     {EMAIL} (supervisor at the City Council)",
        "  password and app code: the demo citizen's",
    ]
