"""Every staff read of a citizen's data is recorded with its purpose, or it does not happen.

A guarded blueprint (as the back office will be) that loads a citizen's application
without ``audit.record_access`` fails; with it, the read succeeds and the citizen sees
the row in "Who used your data"."""

from __future__ import annotations

import pytest
from flask import Blueprint, Flask
from sqlalchemy import select

from identity.models import Account
from portal import audit
from portal.extensions import db
from portal.folder import demo
from procedures.models import Application
from tests.conftest import make_test_app
from tests.support.citizen import Citizen

pytestmark = pytest.mark.database


def _staff_area() -> Blueprint:
    area = Blueprint("fake_staff", __name__, url_prefix="/<lang:lang>/staff/fake")

    @area.get("/forgetful/<reference>")
    def forgetful(reference: str) -> str:
        application = db.session.scalar(
            select(Application).where(Application.reference == reference)
        )
        return application.reference

    @area.get("/careful/<reference>")
    def careful(reference: str) -> str:
        owner = db.session.scalar(
            select(Application.account_id).where(Application.reference == reference)
        )
        audit.record_access(
            viewer_account_id=None,
            citizen_account_id=owner,
            agency="city-council",
            unit="Padrón",
            role="supervisor",
            what="case",
            reference=reference,
            purpose="other",
            purpose_detail="Checking a complaint about this case",
        )
        db.session.commit()
        application = db.session.scalar(
            select(Application).where(Application.reference == reference)
        )
        return application.reference

    audit.guard(area)
    return area


@pytest.fixture
def guarded_site(_migrated: str, tmp_path) -> Flask:
    app = make_test_app(_migrated, tmp_path / "instance")
    app.register_blueprint(_staff_area())
    return app


def test_a_staff_view_that_reads_without_recording_why_fails(guarded_site) -> None:
    citizen = Citizen(guarded_site, guarded_site.test_client(), "ana@example.es", lang="en")
    citizen.register()
    with guarded_site.test_request_context("/en/"):
        history = demo.busy(citizen.account(), "en")
        db.session.commit()
    staff = guarded_site.test_client()
    refused = staff.get(f"/en/staff/fake/forgetful/{history.waiting}")
    assert refused.status_code == 500  # fails closed: the error page, not the data
    assert refused.get_data(as_text=True) != history.waiting

    assert staff.get(f"/en/staff/fake/careful/{history.waiting}").data.decode() == history.waiting
    text = citizen.text("/en/folder/data-use?by=staff")
    assert "Villanueva City Council · Padrón · Supervisor" in text
    assert "Checking a complaint about this case" in text
    # The citizen's own pages are not staff views: they read freely.
    assert citizen.client.get(f"/en/folder/cases/{history.waiting}").status_code == 200


def test_record_access_refuses_an_unknown_purpose_or_an_unexplained_other(app) -> None:
    with app.app_context():
        account = db.session.scalar(select(Account).limit(1))
        owner = account.id if account else 1
        common = {
            "viewer_account_id": None,
            "citizen_account_id": owner,
            "agency": "city-council",
            "unit": "Padrón",
            "role": "caseworker",
            "what": "record",
        }
        with pytest.raises(ValueError, match="unknown"):
            audit.record_access(**common, purpose="curiosity")
        with pytest.raises(ValueError, match="own words"):
            audit.record_access(**common, purpose="other", purpose_detail="  ")
        db.session.rollback()


def test_every_staff_area_of_the_portal_is_guarded(app) -> None:
    """A new blueprint under /<lang>/staff/ must call audit.guard() when it is registered."""
    staff = {
        rule.endpoint.split(".")[0]
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/<lang:lang>/staff")
    }
    assert staff <= audit.GUARDED_BLUEPRINTS, staff - audit.GUARDED_BLUEPRINTS
