"""Keyboard only, a whole application: from the procedure page to the registry number, with
nothing but Tab, typing, Space, the arrow keys and Enter (no clicks, no scripts).

The citizen tabs through each page in order; every field is reached, filled as its
type allows from the keyboard, and Enter on the page's button moves on.
"""

from __future__ import annotations

from datetime import date

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from procedures import applications, catalogue
from procedures.definitions import Field, Procedure
from tests.browser.conftest import press as _press
from tests.browser.conftest import set_viewport
from tests.support.applicant import sample

pytestmark = pytest.mark.browser

SLUG = "bulky-waste-collection"  # address, date, checkboxes, textarea, email, phone


def _typed_value(procedure: Procedure, name: str) -> str | None:
    """What a citizen types in the box called ``name``; None for boxes not in the form."""
    base, _, part = name.partition("-")
    one: Field | None = applications.find_field(procedure, base)
    if one is None:
        return None
    value = sample(one)
    if one.type == "date":
        day = date.fromisoformat(value)
        return {"day": str(day.day), "month": str(day.month), "year": str(day.year)}[part]
    if one.type == "address":
        return str(value[part])
    return str(value)


def _wait_for_new_page(driver) -> None:
    WebDriverWait(driver, 10).until(
        lambda browser: browser.execute_script(
            "return window.__portalOldPage === undefined && document.readyState === 'complete'"
        )
    )


def _fill_by_keyboard(driver, procedure: Procedure) -> None:
    """Tab through the page, answering each field on the way; Enter on the main button."""
    driver.execute_script("window.__portalOldPage = true")
    ticked: set[str] = set()
    for _ in range(120):
        _press(driver, Keys.TAB)
        element = driver.switch_to.active_element
        tag, kind = element.tag_name, element.get_attribute("type")
        name = element.get_attribute("name") or ""
        if tag == "button" and "button" in (element.get_attribute("class") or "").split():
            _press(driver, Keys.ENTER)
            _wait_for_new_page(driver)
            return
        if tag == "textarea" or (tag == "input" and kind in ("text", "email", "tel")):
            value = _typed_value(procedure, name)
            if value is not None and not element.get_attribute("value"):
                _press(driver, value)
        elif kind == "radio" and not driver.find_elements(
            By.CSS_SELECTOR, f"input[name='{name}']:checked"
        ):
            _press(driver, Keys.SPACE)
        elif kind == "checkbox" and name not in ticked:
            one = applications.find_field(procedure, name)
            if one is not None and not one.optional:
                _press(driver, Keys.SPACE)
                ticked.add(name)
        elif tag == "select" and not element.get_attribute("value"):
            _press(driver, Keys.ARROW_DOWN)
    raise AssertionError(f"no button reached by Tab on {driver.current_url}")


def test_a_whole_application_by_keyboard_alone(driver, live_server) -> None:
    set_viewport(driver, 1280)
    driver.delete_all_cookies()
    with live_server.app.app_context():
        procedure = catalogue.get(SLUG)
    driver.get(live_server + f"/es/_test/state/signed_in?endpoint=procedures.procedure&slug={SLUG}")
    for _ in range(30):
        if "/confirmation" in driver.current_url:
            break
        _fill_by_keyboard(driver, procedure)
        errors = driver.find_elements(By.CLASS_NAME, "error-summary")
        assert not errors, f"{driver.current_url}: {errors[0].text if errors else ''}"
    assert "/confirmation" in driver.current_url
    panel = driver.find_element(By.CLASS_NAME, "panel__body")
    assert "REG-" in panel.text
