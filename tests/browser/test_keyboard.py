"""Keyboard only: a focused link shows the focus style.

Every inventoried page's skip-link check runs on the same visit as its axe run
(``test_accessibility.test_page_is_keyboard_usable_axe_clean_and_reflows``).
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.keys import Keys

from tests.browser.conftest import press, set_viewport

pytestmark = pytest.mark.browser


def test_focus_is_visible_on_links(driver, live_server) -> None:
    """A focused link gets the yellow focus style, not just the browser default."""
    set_viewport(driver, 1280)
    driver.get(live_server.url("pages.home", lang="es"))
    press(driver, Keys.TAB, Keys.TAB)
    focused = driver.switch_to.active_element
    assert focused.tag_name == "a"
    assert focused.value_of_css_property("background-color") == "rgba(255, 221, 0, 1)"
