"""The example agency's site signs a citizen in through the portal in Chromium, and out again.

This is the path a real browser takes, with the portal's real Content Security
Policy: after the citizen's own forms (sign-in, consent), Chromium must still
reach the agency's redirect URI (``form-action`` applies to the redirects a
form submission follows), and signing out at the agency must sign out here.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.virtual_authenticator import Credential
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from examples.agency.app import create_app as create_agency
from identity import accounts, totp
from identity.models import Factor, FactorKind
from identity.oidc import clients
from portal.extensions import db
from tests.browser.conftest import LiveServer
from tests.browser.test_identity_browser import usb_security_key
from tests.support.agency import PASSWORD, Person, make_citizen

pytestmark = pytest.mark.browser

CLIENT_ID = "browser-agency"
SECRET = "browser-agency-secret-for-tests"


@pytest.fixture(scope="module")
def agency(live_server: LiveServer) -> Iterator[str]:
    """The example agency app on its own port, registered as a client of the portal."""
    holder: dict[str, Any] = {}
    server = make_server(
        "localhost", 0, lambda environ, start: holder["app"](environ, start), threaded=True
    )
    base = f"http://localhost:{server.server_port}"
    holder["app"] = create_agency(
        {
            "PORTAL_URL": live_server.base,
            "AGENCY_URL": base,
            "AGENCY_CLIENT_ID": CLIENT_ID,
            "AGENCY_CLIENT_SECRET": SECRET,
        }
    )
    with live_server.app.app_context():
        if clients.find(CLIENT_ID) is None:
            clients.create(
                "Agencia de prueba",
                [f"{base}/callback"],
                client_id=CLIENT_ID,
                secret=SECRET,
                post_logout_redirect_uris=[f"{base}/"],
                backchannel_logout_uri=f"{base}/backchannel-logout",
            )
            db.session.commit()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    thread.join()


def submit(driver: webdriver.Chrome, text: str | None = None) -> None:
    buttons = driver.find_elements(By.CSS_SELECTOR, "#main form button[type=submit]")
    button = next(b for b in buttons if text is None or b.text.strip() == text)
    button.click()


def sign_in(driver: webdriver.Chrome, person: Person, at: float | None = None) -> None:
    """On the portal's sign-in page: the password, then the app's code (for time ``at``)."""
    driver.find_element(By.ID, "email").send_keys(person.email)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    submit(driver)
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "code"))
    driver.find_element(By.ID, "code").send_keys(totp.current_code(person.totp_secret, at))
    submit(driver)


def wait_for(driver: webdriver.Chrome, start: str) -> None:
    WebDriverWait(driver, 10).until(lambda d: d.current_url.startswith(start))


def test_a_citizen_signs_in_to_an_agency_and_out_again(
    driver: webdriver.Chrome, live_server: LiveServer, agency: str
) -> None:
    person = make_citizen(live_server.app)
    driver.delete_all_cookies()
    driver.get(agency + "/")
    driver.find_element(By.LINK_TEXT, "Identificarse con Portal Ciudadano").click()
    wait_for(driver, live_server.base)
    assert "/account/sign-in" in driver.current_url
    sign_in(driver, person)
    WebDriverWait(driver, 10).until(lambda d: "/account/connect?" in d.current_url)
    assert "Agencia de prueba" in driver.find_element(By.TAG_NAME, "h1").text
    driver.find_element(By.CSS_SELECTOR, "label[for=remember]").click()
    submit(driver, driver.find_element(By.CSS_SELECTOR, "button[value=allow]").text.strip())
    wait_for(driver, agency)
    WebDriverWait(driver, 10).until(lambda d: "Lucía Martín Ruiz" in d.page_source)

    submit_agency = driver.find_element(By.XPATH, "//button[normalize-space()='Cerrar sesión']")
    submit_agency.click()
    wait_for(driver, agency + "/")
    WebDriverWait(driver, 10).until(
        lambda d: d.find_elements(By.LINK_TEXT, "Identificarse con Portal Ciudadano")
    )
    driver.get(live_server.base + "/es/account/")
    assert "/account/sign-in" in driver.current_url  # signed out of the portal too

    # Consent remembered: after signing in, the portal hands over at once. The last
    # form was the portal's own (the code), so it moves on with a page, not a redirect.
    driver.get(agency + "/")
    driver.find_element(By.LINK_TEXT, "Identificarse con Portal Ciudadano").click()
    wait_for(driver, live_server.base)
    sign_in(driver, person, time.time() + 30)  # this step's code was spent a moment ago
    wait_for(driver, agency)
    WebDriverWait(driver, 10).until(lambda d: "Lucía Martín Ruiz" in d.page_source)


def _security_key(live_server: LiveServer, email: str) -> Credential:
    """A USB security key held by Chromium's virtual authenticator and enrolled on the
    citizen's account (the key pair made here, its public half stored as COSE)."""
    private = ec.generate_private_key(ec.SECP256R1())
    numbers = private.public_key().public_numbers()
    cose = cbor2.dumps(
        {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
    )
    credential_id = secrets.token_bytes(32)
    with live_server.app.app_context():
        account = accounts.find_by_email(email)
        account.factors.append(
            Factor(
                kind=FactorKind.SECURITY_KEY,
                name="Llave azul",
                credential_id=credential_id,
                public_key=cose,
                sign_count=0,
                transports=["usb"],
                backup_eligible=False,
            )
        )
        db.session.commit()
    pkcs8 = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return Credential.create_non_resident_credential(credential_id, "localhost", pkcs8, 0)


def test_an_agency_asking_for_a_phishing_resistant_sign_in_makes_the_citizen_step_up(
    driver: webdriver.Chrome, live_server: LiveServer, agency: str
) -> None:
    person = make_citizen(live_server.app)
    credential = _security_key(live_server, person.email)
    driver.delete_all_cookies()
    driver.add_virtual_authenticator(usb_security_key())
    try:
        driver.add_credential(credential)
        driver.get(agency + "/login?level=phishing-resistant")
        wait_for(driver, live_server.base)
        sign_in(driver, person)
        # The code gave a second factor, not a phishing-resistant one: now the key.
        WebDriverWait(driver, 10).until(lambda d: "/sign-in/key" in d.current_url)
        WebDriverWait(driver, 10).until(
            lambda d: (button := d.find_element(By.ID, "key-start")).is_displayed() and button
        ).click()
        WebDriverWait(driver, 10).until(lambda d: "/account/connect?" in d.current_url)
        submit(driver, driver.find_element(By.CSS_SELECTOR, "button[value=allow]").text.strip())
        wait_for(driver, agency)
        WebDriverWait(driver, 10).until(
            lambda d: "urn:portal-ciudadano:acr:phishing-resistant" in d.page_source
        )
        assert "hwk" in driver.page_source
    finally:
        driver.remove_all_credentials()
        driver.remove_virtual_authenticator()
        driver.delete_all_cookies()
