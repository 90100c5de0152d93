"""axe-core 4.x, WCAG 2.2 A and AA: every page and state, in six languages, at two widths.

At 320 CSS px the page must also reflow without sideways scrolling (WCAG 1.4.10).
Each page is loaded once and checked at both widths (the viewport changes under
the loaded page; no script of ours reads the width at load): loading, reaching
its state and injecting axe cost more than axe itself, and the suite must stay
well inside CI's hour. For the same reason the inventory's pages also get their
keyboard and text-spacing checks on that same visit, and a form's error state is
reached from it by sending the form as shown.

The question pages of the procedures' forms (``inventory.application_pages``) are drawn
by one template from a handful of field components; each shape of page is checked at
both widths, and its other pages, with different words, at 320 px only (``Page.widths``),
where their reflow is checked too. That keeps 800-odd page and language pairs to about
as many axe runs as visits.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import (
    check_skip_link,
    click_and_wait_for_page,
    open_page,
    page_scrolls_sideways,
    press_enter_and_wait_for_page,
    run_axe,
    set_viewport,
    text_spacing_clips,
    violations_report,
)
from tests.support.inventory import (
    ERROR_PATHS,
    HTML_PAGES,
    LANGUAGE_CODES,
    NARROW,
    WIDTHS,
    Page,
    path,
)
from tests.support.translations import translate

pytestmark = pytest.mark.browser


def _check(driver, widths: tuple[int, ...] = WIDTHS, state: str = "") -> None:
    """axe at each width on the page as it is now, then no sideways scrolling at 320 px."""
    for width in widths:
        set_viewport(driver, width)
        results = run_axe(driver)
        assert not results["violations"], (
            f"{driver.current_url}{state} at {width}px:\n{violations_report(results)}"
        )
    set_viewport(driver, NARROW[0])
    assert not page_scrolls_sideways(driver), (
        f"{driver.current_url}{state} scrolls sideways at 320px"
    )


@pytest.mark.parametrize("lang", LANGUAGE_CODES)
@pytest.mark.parametrize("page", HTML_PAGES, ids=lambda page: page.id)
def test_page_is_keyboard_usable_axe_clean_and_reflows(driver, live_server, page, lang) -> None:
    """Empty, then, for a form a browser cannot send as shown, with its errors."""
    set_viewport(driver, WIDTHS[0])
    open_page(driver, live_server, page, lang)
    check_skip_link(driver)
    _check(driver, page.widths)
    # WCAG 1.4.12 after axe: the overrides stay on the page (at 320 px, where text is tightest).
    assert text_spacing_clips(driver) == [], f"{driver.current_url} clips text with wider spacing"
    assert not page_scrolls_sideways(driver), f"{driver.current_url} scrolls with wider spacing"
    if page.submit_empty:
        _send_as_shown_and_check_the_errors(driver, page)


def _send_as_shown_and_check_the_errors(driver, page: Page) -> None:
    """The error state: the form sent as shown, the summary focused, axe clean.

    The skip link left ``#main`` in the address; a form that posts to ``action=""`` would
    carry it to the answer, and a page opened at a fragment takes no autofocus, so it goes
    the way a visitor who never used the skip link would.
    """
    driver.execute_script("history.replaceState(null, '', location.pathname + location.search)")
    button = driver.find_element(
        By.CSS_SELECTOR, "main form:not([data-webauthn]) button[type=submit]"
    )
    press_enter_and_wait_for_page(driver, button)
    summary = driver.find_element(By.CSS_SELECTOR, "main .error-summary")
    WebDriverWait(driver, 5).until(
        lambda browser: browser.switch_to.active_element == summary,
        "focus moves to the error summary",
    )
    _check(driver, page.widths, " (with errors)")


@pytest.mark.parametrize("lang", LANGUAGE_CODES)
def test_locked_sign_in_pages_have_no_axe_violations(driver, live_server, lang) -> None:
    """The locked state: too many wrong codes, with the wait said on the page."""
    set_viewport(driver, WIDTHS[0])
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
    _check(driver)


@pytest.mark.parametrize("lang", LANGUAGE_CODES)
@pytest.mark.parametrize("code", sorted(ERROR_PATHS))
def test_error_page_has_no_axe_violations(driver, live_server, code, lang) -> None:
    set_viewport(driver, WIDTHS[0])
    driver.get(live_server + ERROR_PATHS[code].format(lang=lang))
    _check(driver)


@pytest.mark.parametrize("lang", LANGUAGE_CODES)
def test_rate_limited_page_has_no_axe_violations(driver, live_server, lang) -> None:
    set_viewport(driver, WIDTHS[0])
    for _ in range(3):
        driver.get(live_server + f"/{lang}/_test/limited")
    heading = translate(live_server.app, lang, "Too many attempts")
    assert driver.find_element(By.TAG_NAME, "h1").text == heading
    _check(driver)


@pytest.mark.parametrize("lang", LANGUAGE_CODES)
def test_expired_form_page_has_no_axe_violations(driver, live_server, lang) -> None:
    set_viewport(driver, WIDTHS[0])
    driver.get(live_server + f"/{lang}/_test/form")
    driver.execute_script("document.getElementById('csrf_token').value = 'expired'")
    click_and_wait_for_page(
        driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]")
    )
    heading = translate(live_server.app, lang, "Your form has expired")
    assert driver.find_element(By.TAG_NAME, "h1").text == heading
    _check(driver)


@pytest.mark.parametrize("lang", LANGUAGE_CODES)
def test_form_with_errors_has_no_axe_violations_and_focuses_the_summary(
    driver, live_server, lang
) -> None:
    set_viewport(driver, WIDTHS[0])
    driver.get(live_server + f"/{lang}/_test/form")
    _check(driver)  # the empty state
    click_and_wait_for_page(
        driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]")
    )
    summary = driver.find_element(By.CLASS_NAME, "error-summary")
    # autofocus is applied at the next rendering opportunity, just after load.
    WebDriverWait(driver, 5).until(
        lambda browser: browser.switch_to.active_element == summary,
        "focus moves to the error summary",
    )
    _check(driver)


@pytest.mark.parametrize("lang", LANGUAGE_CODES)
def test_every_component_example_has_no_axe_violations(driver, live_server, lang) -> None:
    set_viewport(driver, WIDTHS[0])
    driver.get(live_server + f"/{lang}/_test/components")
    _check(driver)
