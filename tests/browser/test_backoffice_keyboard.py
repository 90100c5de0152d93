"""Keyboard only, on a phone-width screen: a caseworker goes from the inbox to a case,
says why they open it, and records a decision, with Tab, Space and Enter."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import page_scrolls_sideways, set_viewport
from tests.browser.conftest import press as _press
from tests.browser.conftest import tab_to as _tab_to

pytestmark = pytest.mark.browser


def _arrive(driver, path_test) -> None:
    """Wait until the page Enter asked for has loaded: a key press does not wait for it,
    and reading the old page while it unloads fails at random."""
    WebDriverWait(driver, 10).until(
        lambda d: (
            path_test(d.current_url)
            and d.execute_script("return document.readyState") == "complete"
        )
    )


def _value(wanted: str):
    return lambda element: element.get_attribute("value") == wanted


def test_inbox_to_case_to_decision_by_keyboard_at_320_px(driver, live_server) -> None:
    set_viewport(driver, 320)
    driver.delete_all_cookies()
    # The caseworker's own cases: earlier tests' cases of the same agency share the inbox.
    driver.get(
        live_server + "/en/_test/state/staff?endpoint=backoffice.inbox&case=reviewed&assigned=mine"
    )
    assert not page_scrolls_sideways(driver)
    _tab_to(driver, lambda e: "/staff/cases/" in (e.get_attribute("href") or ""))
    _press(driver, Keys.ENTER)

    # First, why: the citizen will read it.
    _arrive(driver, lambda url: "/open" in url)
    assert not page_scrolls_sideways(driver)
    _tab_to(driver, _value("case_handling"))
    _press(driver, Keys.SPACE)
    _tab_to(driver, lambda e: e.tag_name == "button" and "button" in e.get_attribute("class"))
    _press(driver, Keys.ENTER)

    _arrive(driver, lambda url: "/open" not in url)
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith("Apply for")
    assert not page_scrolls_sideways(driver)
    _tab_to(driver, lambda e: (e.get_attribute("href") or "").endswith("/decide"))
    _press(driver, Keys.ENTER)

    _arrive(driver, lambda url: url.endswith("/decide"))
    _tab_to(driver, _value("resolved_favourable"))
    _press(driver, Keys.SPACE)
    _tab_to(driver, _value("meets_requirements"))
    _press(driver, Keys.SPACE)
    _tab_to(driver, lambda e: e.tag_name == "textarea")
    _press(driver, "All documents checked.")
    _tab_to(driver, lambda e: e.tag_name == "button" and "button" in e.get_attribute("class"))
    _press(driver, Keys.ENTER)

    _arrive(driver, lambda url: not url.endswith("/decide"))
    banner = driver.find_element(By.CSS_SELECTOR, ".notification-banner--success")
    assert "Decision recorded" in banner.text
    main = driver.find_element(By.ID, "main").text
    assert "Resolved: favourable" in main and "All documents checked." in main
    assert not page_scrolls_sideways(driver)
    set_viewport(driver, 1280)
