"""``make run``'s demo data: a citizen who can sign in with what the command prints."""

from __future__ import annotations

import pytest

from identity import demo, totp
from tests.support.citizen import Citizen

pytestmark = pytest.mark.database


def test_the_demo_citizen_signs_in_with_the_printed_password_and_app_code(site) -> None:
    site.config["PORTAL_ENV"] = "development"
    runner = site.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    again = runner.invoke(args=["demo", "load"])  # safe to run twice
    assert first.exit_code == 0 and again.exit_code == 0, first.output
    assert demo.EMAIL in first.output and demo.PASSWORD in first.output
    printed = runner.invoke(args=["users", "code", demo.EMAIL]).output.strip()
    assert printed == totp.current_code(demo.TOTP_SECRET)

    citizen = Citizen(site, site.test_client(), demo.EMAIL, password=demo.PASSWORD, lang="es")
    citizen.totp_secret = demo.TOTP_SECRET
    citizen.sign_in_password()
    response = citizen.post("/sign-in/code", {"code": printed})
    assert response.headers["Location"].endswith("/es/account/")


def test_demo_data_is_refused_in_production(site, monkeypatch) -> None:
    monkeypatch.setitem(site.config, "PORTAL_ENV", "production")
    result = site.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0 and "production" in result.output


def test_the_demo_supervisor_finds_a_sorted_inbox_with_an_overdue_case(site) -> None:
    from portal.backoffice import demo as staff_demo

    site.config["PORTAL_ENV"] = "development"
    loaded = site.test_cli_runner().invoke(args=["demo", "load"])
    assert staff_demo.EMAIL in loaded.output, loaded.output
    supervisor = Citizen(
        site, site.test_client(), staff_demo.EMAIL, password=demo.PASSWORD, lang="en"
    )
    supervisor.totp_secret = demo.TOTP_SECRET
    supervisor.sign_in()
    inbox = supervisor.text("/en/staff/")
    assert "1 case is past its legal deadline." in inbox
    listed = inbox.split("the nearest legal deadline first.")[1]
    assert listed.index("change your address") < listed.index("bulky items")
    # The desk's Monday: a complaint to route, a call to return today, an opinion asked.
    unrouted = supervisor.text("/en/staff/complaints?unit=unrouted")
    assert "1 message, the nearest reply date first." in unrouted
    assert "1 follow-up is due." in supervisor.text("/en/staff/contacts/")
    assert "Waiting for your unit" in supervisor.text("/en/staff/opinions")
