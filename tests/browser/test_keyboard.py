"""Keyboard only: the skip link is the first tab stop and takes focus to the main content."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.conftest import open_page, set_viewport
from tests.support.inventory import HTML_PAGES, LANGUAGE_CODES

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", LANGUAGE_CODES)
@pytest.mark.parametrize("page", HTML_PAGES, ids=lambda page: page.id)
def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(
    driver, live_server, page, lang
) -> None:
    set_viewport(driver, 1280)
    open_page(driver, live_server, page, lang)
    if driver.find_elements(By.CLASS_NAME, "error-summary"):
        # A page that answers a submitted form with errors (a GET form, as the document
        # check) moves focus to the error summary instead, as the GOV.UK pattern does.
        summary = driver.switch_to.active_element
        assert "error-summary" in (summary.get_attribute("class") or "")
        return
    ActionChains(driver).send_keys(Keys.TAB).perform()
    skip_link = driver.switch_to.active_element
    assert skip_link.get_attribute("class") == "skip-link"
    assert skip_link.is_displayed(), "the skip link shows when focused"
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    assert driver.switch_to.active_element.get_attribute("id") == "main"


def test_focus_is_visible_on_links(driver, live_server) -> None:
    """A focused link gets the yellow focus style, not just the browser default."""
    set_viewport(driver, 1280)
    driver.get(live_server.url("pages.home", lang="es"))
    ActionChains(driver).send_keys(Keys.TAB).send_keys(Keys.TAB).perform()
    focused = driver.switch_to.active_element
    assert focused.tag_name == "a"
    assert focused.value_of_css_property("background-color") == "rgba(255, 221, 0, 1)"
