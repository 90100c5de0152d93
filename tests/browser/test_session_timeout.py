"""The idle time-out warning (WCAG 2.2.1): it opens two minutes before the end, takes focus,
and one click (or Escape) keeps the citizen signed in. The session's idle limit is shortened
here (``SESSION_IDLE_TIMEOUT``) so the warning comes in seconds instead of 28 minutes."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from identity.models import AccountSession
from portal.extensions import db
from tests.browser.conftest import open_page, run_axe, violations_report
from tests.support.inventory import Page

pytestmark = pytest.mark.browser

ACCOUNT = Page("identity.account", state="signed_in")


@pytest.fixture
def idle_after(live_server):
    """Set the idle limit (seconds) for one test."""

    def set_limit(seconds: int) -> None:
        live_server.app.config["SESSION_IDLE_TIMEOUT"] = seconds

    yield set_limit
    live_server.app.config.pop("SESSION_IDLE_TIMEOUT", None)


def _last_seen(live_server):
    with live_server.app.app_context():
        row = db.session.scalar(select(AccountSession).order_by(AccountSession.id.desc()))
        return row.last_seen_at


def _open_dialog(driver):
    dialog = driver.find_element(By.ID, "session-timeout")
    WebDriverWait(driver, 15).until(lambda _: dialog.get_attribute("open") is not None)
    return dialog


@pytest.mark.parametrize("lang", ["es", "ar"])
def test_the_warning_takes_focus_and_stay_signed_in_extends_the_session(
    driver, live_server, idle_after, lang
) -> None:
    idle_after(123)  # the warning opens 3 seconds after the page
    open_page(driver, live_server, ACCOUNT, lang)
    dialog = _open_dialog(driver)
    stay = dialog.find_element(By.CSS_SELECTOR, "[data-stay]")
    assert driver.switch_to.active_element == stay
    assert dialog.find_element(By.CSS_SELECTOR, "[data-countdown]").text
    results = run_axe(driver)
    assert not results["violations"], violations_report(results)
    before = _last_seen(live_server)
    stay.click()
    WebDriverWait(driver, 10).until(lambda _: _last_seen(live_server) > before)
    assert dialog.get_attribute("open") is None
    assert driver.current_url.endswith(f"/{lang}/account/")  # no page change, nothing lost


def test_escape_also_keeps_the_citizen_signed_in(driver, live_server, idle_after) -> None:
    idle_after(122)
    open_page(driver, live_server, ACCOUNT, "en")
    _open_dialog(driver)
    before = _last_seen(live_server)
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    WebDriverWait(driver, 10).until(lambda _: _last_seen(live_server) > before)


def test_when_time_runs_out_the_sign_in_page_says_why(driver, live_server, idle_after) -> None:
    idle_after(6)
    open_page(driver, live_server, ACCOUNT, "en")
    # The page leaves by itself: reads may meet a document half-way through navigating.
    WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,)).until(
        lambda browser: (
            "reason=inactive" in browser.current_url
            and browser.execute_script("return document.readyState") == "complete"
            and "inactive for 30 minutes" in browser.find_element(By.ID, "main").text
        ),
        "the page did not go to the sign-in page by itself",
    )


def test_no_warning_while_there_is_plenty_of_time(driver, live_server) -> None:
    open_page(driver, live_server, ACCOUNT, "en")
    dialog = driver.find_element(By.ID, "session-timeout")
    assert dialog.get_attribute("open") is None
    assert not dialog.is_displayed()
