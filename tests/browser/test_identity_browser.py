"""The identity journeys in a real browser: passkeys, security keys and authenticator apps.

Chromium's virtual authenticator (WebDriver's WebAuthn extension) stands in for a
phone, a laptop's fingerprint reader or a USB key, so static/js/webauthn.js,
the browser's WebAuthn API and identity/webauthn.py are all exercised together.

The driver and the live server are shared by the whole session: every test uses
an email address of its own, and leaves no authenticator and no cookie behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from uuid import uuid4

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.virtual_authenticator import VirtualAuthenticatorOptions
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from identity import totp
from tests.browser.conftest import (
    LiveServer,
    click_and_wait_for_page,
    run_axe,
    violations_report,
)
from tests.support import mailbox
from tests.support.citizen import PASSWORD
from tests.support.translations import translate

pytestmark = pytest.mark.browser

#: WebAuthn answers come after asynchronous JavaScript (fetch, then the authenticator).
WEBAUTHN_WAIT = 20


# --- Fixtures ---------------------------------------------------------------------------


@pytest.fixture
def browser(driver: webdriver.Chrome) -> Iterator[webdriver.Chrome]:
    """The shared driver, handed back clean: no virtual authenticator, no cookies."""
    driver.delete_all_cookies()
    try:
        yield driver
    finally:
        if driver.virtual_authenticator_id is not None:
            try:
                driver.remove_all_credentials()
            finally:
                driver.remove_virtual_authenticator()
        driver.delete_all_cookies()


def passkey_authenticator() -> VirtualAuthenticatorOptions:
    """A platform authenticator (fingerprint, face, screen lock) that keeps passkeys."""
    options = VirtualAuthenticatorOptions()
    options.protocol = VirtualAuthenticatorOptions.Protocol.CTAP2
    options.transport = VirtualAuthenticatorOptions.Transport.INTERNAL
    options.has_resident_key = True
    options.has_user_verification = True
    options.is_user_verified = True
    options.is_user_consenting = True
    return options


def usb_security_key() -> VirtualAuthenticatorOptions:
    """A plain USB key: touch it to prove presence; no PIN, no stored accounts."""
    options = VirtualAuthenticatorOptions()
    options.protocol = VirtualAuthenticatorOptions.Protocol.CTAP2
    options.transport = VirtualAuthenticatorOptions.Transport.USB
    options.has_resident_key = False
    options.has_user_verification = False
    options.is_user_consenting = True
    return options


# --- Steps the journeys share -----------------------------------------------------------


def new_email() -> str:
    return f"{uuid4().hex[:8]}@example.es"


def main_submit(driver: webdriver.Chrome) -> WebElement:
    """The first form's button in the main content (the header's "Sign out" is outside it)."""
    return driver.find_element(By.CSS_SELECTOR, "#main form button[type=submit]")


def path_of(driver: webdriver.Chrome) -> str:
    return "/" + driver.current_url.split("/", 3)[3]


def wait_for_path(driver: webdriver.Chrome, path: str, timeout: float = WEBAUTHN_WAIT) -> None:
    WebDriverWait(driver, timeout, ignored_exceptions=(WebDriverException,)).until(
        lambda d: (
            path_of(d) == path and d.execute_script("return document.readyState") == "complete"
        ),
        message=f"expected {path}",
    )
    assert path_of(driver) == path


def heading(driver: webdriver.Chrome) -> str:
    return driver.find_element(By.TAG_NAME, "h1").text


def create_account_and_confirm_email(
    driver: webdriver.Chrome, live_server: LiveServer, email: str
) -> None:
    """Create an account, then open the emailed link in the same browser: on to the set-up."""
    driver.get(live_server + "/en/account/create")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    click_and_wait_for_page(driver, main_submit(driver))
    assert path_of(driver) == "/en/account/create/check-email"

    message = mailbox.last(live_server.app, email)
    driver.get(live_server + mailbox.link_in(message, "/verify/"))
    assert path_of(driver) == "/en/account/set-up"


def choose_method(driver: webdriver.Chrome, method: str) -> None:
    """Pick one of the radios ("passkey", "security-key", "authenticator-app") and continue."""
    radio = driver.find_element(By.CSS_SELECTOR, f"input[name=method][value='{method}']")
    driver.find_element(By.CSS_SELECTOR, f"label[for='{radio.get_attribute('id')}']").click()
    assert radio.is_selected()
    click_and_wait_for_page(driver, main_submit(driver))
    assert path_of(driver) == f"/en/account/set-up/{method}"


def webauthn_button(driver: webdriver.Chrome, button_id: str) -> WebElement:
    """The WebAuthn form's button, once webauthn.js has revealed the form."""
    return WebDriverWait(driver, 10).until(
        lambda d: (element := d.find_element(By.ID, button_id)).is_displayed() and element
    )


def register_key(driver: webdriver.Chrome) -> None:
    """Press the set-up page's button: the script asks the authenticator, then posts its answer."""
    webauthn_button(driver, "key-start").click()
    wait_for_path(driver, "/en/account/recovery-codes/new")


def save_recovery_codes(driver: webdriver.Chrome) -> list[str]:
    """Note the recovery codes, confirm they are saved, and arrive at the account page."""
    codes = [item.text for item in driver.find_elements(By.CSS_SELECTOR, "#recovery-codes li code")]
    assert len(codes) >= 8
    driver.find_element(By.CSS_SELECTOR, "label[for=saved]").click()
    assert driver.find_element(By.ID, "saved").is_selected()
    click_and_wait_for_page(driver, main_submit(driver))
    assert path_of(driver) == "/en/account/"
    assert heading(driver) == "Your account"
    return codes


def sign_in_methods(driver: webdriver.Chrome) -> list[tuple[str, str]]:
    """The account page's list of methods, as (name, type) pairs."""
    items = driver.find_elements(By.CSS_SELECTOR, "#main .session-list__item")
    return [
        (
            item.find_element(By.TAG_NAME, "h3").text,
            item.find_element(By.CSS_SELECTOR, ".summary-list__value").text,
        )
        for item in items
    ]


def sign_out(driver: webdriver.Chrome) -> None:
    button = driver.find_element(By.XPATH, "//header//form//button[normalize-space()='Sign out']")
    click_and_wait_for_page(driver, button)
    assert not driver.find_elements(By.CSS_SELECTOR, "header form button"), "still signed in"


def sign_in_with_password(driver: webdriver.Chrome, live_server: LiveServer, email: str) -> None:
    driver.get(live_server + "/en/account/sign-in")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    click_and_wait_for_page(driver, main_submit(driver))


def set_up_passkey_account(driver: webdriver.Chrome, live_server: LiveServer) -> str:
    """A new account whose second factor is a passkey, signed out at the end."""
    email = new_email()
    driver.add_virtual_authenticator(passkey_authenticator())
    create_account_and_confirm_email(driver, live_server, email)
    choose_method(driver, "passkey")
    register_key(driver)
    save_recovery_codes(driver)
    sign_out(driver)
    return email


def errors_on_page(driver: webdriver.Chrome) -> str:
    return " / ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, ".error-summary"))


def active_element_is(driver: webdriver.Chrome, element_id: str) -> Callable:
    return lambda d: d.execute_script(
        "return document.activeElement && document.activeElement.id === arguments[0]", element_id
    )


# --- Journeys ---------------------------------------------------------------------------


def test_a_passkey_set_up_at_registration_signs_in_without_email_or_password(
    browser: webdriver.Chrome, live_server: LiveServer
) -> None:
    """The easiest way in: a passkey made while creating the account is all a citizen needs
    afterwards; the authenticator names the account, so no email address is typed."""
    browser.add_virtual_authenticator(passkey_authenticator())
    create_account_and_confirm_email(browser, live_server, new_email())

    choose_method(browser, "passkey")
    assert browser.find_element(By.ID, "name").get_attribute("value") == "My passkey"
    register_key(browser)
    save_recovery_codes(browser)
    assert ("My passkey", "Passkey") in sign_in_methods(browser)

    sign_out(browser)
    browser.get(live_server + "/en/account/sign-in")
    webauthn_button(browser, "passkey-start").click()
    wait_for_path(browser, "/en/account/")
    assert heading(browser) == "Your account"

    [credential] = browser.get_credentials()
    assert credential.is_resident_credential, "a passkey is a discoverable credential"


def test_a_security_key_is_the_second_step_after_the_password(
    browser: webdriver.Chrome, live_server: LiveServer
) -> None:
    """A USB key without a PIN cannot sign in alone: it confirms a password sign-in."""
    email = new_email()
    browser.add_virtual_authenticator(usb_security_key())
    create_account_and_confirm_email(browser, live_server, email)

    choose_method(browser, "security-key")
    assert browser.find_element(By.ID, "name").get_attribute("value") == "My security key"
    register_key(browser)
    save_recovery_codes(browser)
    assert ("My security key", "Security key") in sign_in_methods(browser)

    sign_out(browser)
    sign_in_with_password(browser, live_server, email)
    assert path_of(browser) == "/en/account/sign-in/key"
    webauthn_button(browser, "key-start").click()
    wait_for_path(browser, "/en/account/")
    assert heading(browser) == "Your account"

    [credential] = browser.get_credentials()
    assert not credential.is_resident_credential, "a security key need not store the account"


def test_a_passkey_the_device_does_not_verify_shows_a_focused_error_in_the_citizens_language(
    browser: webdriver.Chrome, live_server: LiveServer
) -> None:
    """When the fingerprint or PIN check fails, the page says so at once, without reloading:
    the error summary takes focus so a screen reader announces it, in Spanish here."""
    app = live_server.app
    set_up_passkey_account(browser, live_server)
    browser.set_user_verified(False)

    browser.get(live_server + "/es/account/sign-in")
    browser.execute_script("window.__portalSamePage = true")
    webauthn_button(browser, "passkey-start").click()

    summary = WebDriverWait(browser, WEBAUTHN_WAIT).until(
        lambda d: d.find_elements(By.ID, "webauthn-error-summary")
    )[0]
    assert browser.execute_script("return window.__portalSamePage === true"), "the page reloaded"
    assert path_of(browser) == "/es/account/sign-in"
    WebDriverWait(browser, 5).until(active_element_is(browser, "webauthn-error-summary"))
    assert browser.switch_to.active_element == summary
    assert "error-summary" in summary.get_attribute("class").split()
    assert summary.find_elements(By.CSS_SELECTOR, "[role=alert]")
    message = translate(
        app,
        "es",
        "Your device did not confirm it is you, or the request was cancelled or timed out."
        " Try again",
    )
    assert message in summary.text
    assert browser.title.startswith(translate(app, "es", "Error:"))
    assert browser.find_element(By.ID, "passkey-start").is_enabled(), "the citizen can try again"

    results = run_axe(browser)
    assert not results["violations"], violations_report(results)


def test_an_authenticator_app_code_confirms_a_password_sign_in_after_a_wrong_one(
    browser: webdriver.Chrome, live_server: LiveServer
) -> None:
    """The app's 6-digit code is the second step; a wrong code is explained in a focused
    error summary, and the next code the app shows lets the citizen in."""
    email = new_email()
    create_account_and_confirm_email(browser, live_server, email)

    choose_method(browser, "authenticator-app")
    secret = browser.find_element(By.CSS_SELECTOR, "p.secret code").text.replace(" ", "")
    browser.find_element(By.ID, "code").send_keys(totp.current_code(secret))
    click_and_wait_for_page(browser, main_submit(browser))
    assert path_of(browser) == "/en/account/recovery-codes/new"
    save_recovery_codes(browser)
    assert ("My authenticator app", "Authenticator app") in sign_in_methods(browser)

    sign_out(browser)
    sign_in_with_password(browser, live_server, email)
    assert path_of(browser) == "/en/account/sign-in/code"

    browser.find_element(By.ID, "code").send_keys("000000")
    click_and_wait_for_page(browser, main_submit(browser))
    assert path_of(browser) == "/en/account/sign-in/code"
    WebDriverWait(browser, 5).until(
        lambda d: d.execute_script(
            "return document.activeElement.classList.contains('error-summary')"
        ),
        message="the error summary should take focus",
    )
    assert browser.title.startswith("Error:")

    # The set-up used the current time step, and a code is never accepted twice.
    next_code = totp.current_code(secret, time.time() + totp.STEP_SECONDS)
    code_field = browser.find_element(By.ID, "code")
    code_field.clear()  # the page keeps what was typed, so it can be corrected
    code_field.send_keys(next_code)
    click_and_wait_for_page(browser, main_submit(browser))
    assert path_of(browser) == "/en/account/", errors_on_page(browser)
    assert heading(browser) == "Your account"
