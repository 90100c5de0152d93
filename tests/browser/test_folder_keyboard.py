"""Keyboard only, on a phone-width screen: from the folder's overview to a request for
information answered with a message and a file, with Tab, typing and Enter.

Choosing a file is the browser's own dialog; the test hands the file to the focused
input, as the dialog would once the citizen picked it with the keyboard.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.conftest import page_scrolls_sideways, set_viewport
from tests.browser.conftest import press as _press
from tests.browser.conftest import tab_to as _tab_to
from tests.support.applicant import PDF

pytestmark = pytest.mark.browser


def test_a_request_for_information_answered_by_keyboard_at_320_px(
    driver, live_server, tmp_path: Path
) -> None:
    set_viewport(driver, 320)
    driver.delete_all_cookies()
    driver.get(live_server + "/en/_test/state/folder?endpoint=folder.overview")
    assert not page_scrolls_sideways(driver)
    _tab_to(driver, lambda e: "/answer" in (e.get_attribute("href") or ""))
    _press(driver, Keys.ENTER)
    assert driver.current_url.endswith("/answer")
    assert not page_scrolls_sideways(driver)

    _tab_to(driver, lambda e: e.tag_name == "textarea")
    _press(driver, "Here is the signed agreement.")
    chosen = _tab_to(driver, lambda e: e.get_attribute("type") == "file")
    signed = tmp_path / "signed agreement.pdf"
    signed.write_bytes(PDF)
    chosen.send_keys(str(signed))
    _tab_to(driver, lambda e: e.tag_name == "button" and "button" in e.get_attribute("class"))
    _press(driver, Keys.ENTER)

    assert "/answer" not in driver.current_url
    banner = driver.find_element(By.CSS_SELECTOR, ".notification-banner--success")
    assert "We have received your answer" in banner.text
    main = driver.find_element(By.ID, "main").text
    assert "signed agreement.pdf" in main
    assert "You answered our request" in main
    assert not page_scrolls_sideways(driver)
    set_viewport(driver, 1280)
