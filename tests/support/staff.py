"""Staff members for the back-office tests: registered like anyone (with an authenticator
app, so their session reaches AAL2), then given a membership."""

from __future__ import annotations

from flask import Flask

from portal.backoffice import staff
from portal.extensions import db
from tests.support.citizen import Citizen


def staff_member(
    site: Flask,
    email: str,
    agency: str = "city-council",
    unit: str = "Padrón",
    role: str = "caseworker",
    lang: str = "en",
) -> Citizen:
    person = Citizen(site, site.test_client(), email, lang=lang)
    person.register()
    with site.app_context():
        staff.make_staff(person.account(), agency, unit, role)
        db.session.commit()
    return person
