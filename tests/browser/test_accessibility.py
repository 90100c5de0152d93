"""axe-core 4.x, WCAG 2.2 A and AA: every page and state, in six languages, at two widths.

At 320 CSS px the page must also reflow without sideways scrolling (WCAG 1.4.10).
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import (
    click_and_wait_for_page,
    open_page,
    page_scrolls_sideways,
    run_axe,
    set_viewport,
    violations_report,
)
from tests.support.inventory import ERROR_PATHS, FORM_PAGES, HTML_PAGES, LANGUAGE_CODES, Page, path
from tests.support.translations import translate

pytestmark = pytest.mark.browser

WIDTHS = [1280, 320]


def _check(driver, width: int) -> None:
    results = run_axe(driver)
    assert not results["violations"], (
        f"{driver.current_url} at {width}px:\n{violations_report(results)}"
    )
    if width == 320:
        assert not page_scrolls_sideways(driver), f"{driver.current_url} scrolls sideways at 320px"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", LANGUAGE_CODES)
@pytest.mark.parametrize("page", HTML_PAGES, ids=lambda page: page.id)
def test_page_has_no_axe_violations(driver, live_server, page, lang, width) -> None:
    set_viewport(driver, width)
    open_page(driver, live_server, page, lang)
    _check(driver, width)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", LANGUAGE_CODES)
@pytest.mark.parametrize("page", FORM_PAGES, ids=lambda page: page.id)
def test_form_page_with_errors_has_no_axe_violations(
    driver, live_server, page, lang, width
) -> None:
    """The error state of every identity form: posted empty, summary focused, axe clean."""
    set_viewport(driver, width)
    open_page(driver, live_server, page, lang)
    button = driver.find_element(
        By.CSS_SELECTOR, "main form:not([data-webauthn]) button[type=submit]"
    )
    click_and_wait_for_page(driver, button)
    summary = driver.find_element(By.CSS_SELECTOR, "main .error-summary")
    WebDriverWait(driver, 5).until(
        lambda browser: browser.switch_to.active_element == summary,
        "focus moves to the error summary",
    )
    _check(driver, width)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", LANGUAGE_CODES)
def test_locked_sign_in_pages_have_no_axe_violations(driver, live_server, lang, width) -> None:
    """The locked state: too many wrong codes, with the wait said on the page."""
    set_viewport(driver, width)
    driver.delete_all_cookies()
    with live_server.app.test_request_context():
        driver.get(live_server + path(Page("identity.second_factor_code", state="pending"), lang))
    for _ in range(11):
        field = driver.find_element(By.ID, "code")
        field.clear()
        field.send_keys("000000")
        click_and_wait_for_page(driver, driver.find_element(By.CSS_SELECTOR, "main form button"))
    wait = translate(
        live_server.app, lang, "Too many wrong attempts. Wait %(wait)s, then try again", wait=""
    )
    assert wait.split()[0] in driver.find_element(By.CSS_SELECTOR, ".error-summary").text
    _check(driver, width)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", LANGUAGE_CODES)
@pytest.mark.parametrize("code", sorted(ERROR_PATHS))
def test_error_page_has_no_axe_violations(driver, live_server, code, lang, width) -> None:
    set_viewport(driver, width)
    driver.get(live_server + ERROR_PATHS[code].format(lang=lang))
    _check(driver, width)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", LANGUAGE_CODES)
def test_rate_limited_page_has_no_axe_violations(driver, live_server, lang, width) -> None:
    set_viewport(driver, width)
    for _ in range(3):
        driver.get(live_server + f"/{lang}/_test/limited")
    heading = translate(live_server.app, lang, "Too many attempts")
    assert driver.find_element(By.TAG_NAME, "h1").text == heading
    _check(driver, width)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", LANGUAGE_CODES)
def test_expired_form_page_has_no_axe_violations(driver, live_server, lang, width) -> None:
    set_viewport(driver, width)
    driver.get(live_server + f"/{lang}/_test/form")
    driver.execute_script("document.getElementById('csrf_token').value = 'expired'")
    click_and_wait_for_page(
        driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]")
    )
    heading = translate(live_server.app, lang, "Your form has expired")
    assert driver.find_element(By.TAG_NAME, "h1").text == heading
    _check(driver, width)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", LANGUAGE_CODES)
def test_form_with_errors_has_no_axe_violations_and_focuses_the_summary(
    driver, live_server, lang, width
) -> None:
    set_viewport(driver, width)
    driver.get(live_server + f"/{lang}/_test/form")
    _check(driver, width)  # the empty state
    click_and_wait_for_page(
        driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]")
    )
    summary = driver.find_element(By.CLASS_NAME, "error-summary")
    # autofocus is applied at the next rendering opportunity, just after load.
    WebDriverWait(driver, 5).until(
        lambda browser: browser.switch_to.active_element == summary,
        "focus moves to the error summary",
    )
    _check(driver, width)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", LANGUAGE_CODES)
def test_every_component_example_has_no_axe_violations(driver, live_server, lang, width) -> None:
    set_viewport(driver, width)
    driver.get(live_server + f"/{lang}/_test/components")
    _check(driver, width)
