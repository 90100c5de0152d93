"""Headless Chromium (Debian's chromium + chromium-driver) against the portal served on localhost.

The server listens on ``localhost`` (not 127.0.0.1) because WebAuthn needs a
domain as its relying party. axe-core comes from ``node_modules`` (pinned in
package.json), never from axe-selenium-python's bundled 3.1.1.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from axe_selenium_python import Axe
from flask import Flask, url_for
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from tests.conftest import ROOT, make_test_app

log = logging.getLogger("accessibility")

AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
#: Passed to axe.run as a JSON string (axe-selenium-python pastes it into the script).
#: ``resultTypes`` keeps every violating node but only one node of each rule that passed or
#: did not apply: the verdict is the same, and a third less time goes on building and
#: returning results the tests never read (thousands of axe runs per suite).
AXE_OPTIONS = json.dumps(
    {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
)
BEST_PRACTICE_OPTIONS = json.dumps(
    {"runOnly": {"type": "tag", "values": ["best-practice"]}, "resultTypes": ["violations"]}
)

pytestmark = pytest.mark.browser


@dataclass
class LiveServer:
    app: Flask
    base: str

    def url(self, endpoint: str, **values: object) -> str:
        with self.app.test_request_context():
            return self.base + url_for(endpoint, **values)

    def __add__(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="session")
def live_server(_migrated: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    app = make_test_app(_migrated, tmp_path_factory.mktemp("live-instance"))
    server = make_server("localhost", 0, app, threaded=True)
    base = f"http://localhost:{server.server_port}"
    # WebAuthn accepts answers from this origin only; emails link back here.
    app.config.update(WEBAUTHN_ORIGINS=[base], PUBLIC_URL=base)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(app, base)
    server.shutdown()
    thread.join()


@pytest.fixture(scope="session")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    chromium = shutil.which("chromium")
    chromedriver = shutil.which("chromedriver")
    if not (chromium and chromedriver):
        pytest.fail("Debian's chromium and chromium-driver are needed: `make test` installs them")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1024",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(argument)
    browser = webdriver.Chrome(options=options, service=Service(chromedriver))
    browser.set_script_timeout(60)
    yield browser
    browser.quit()


def open_page(driver: webdriver.Chrome, live_server: LiveServer, page: object, lang: str) -> None:
    """Open an inventoried page from a clean, signed-out browser, through its state if any."""
    from tests.support.inventory import path

    driver.delete_all_cookies()
    with live_server.app.test_request_context():
        driver.get(live_server + path(page, lang))


def set_viewport(driver: webdriver.Chrome, width: int, height: int = 900) -> None:
    """Emulate a viewport of exactly ``width`` CSS px (a window cannot be made that narrow)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def run_axe(driver: webdriver.Chrome) -> dict:
    """Run axe-core 4.x with the WCAG 2.2 A/AA tags on the current page.

    With ``AXE_BEST_PRACTICE=1`` it also runs axe's best-practice rules and logs
    what they find (advice, not failures).
    """
    axe = Axe(driver, script_url=str(AXE_SCRIPT))
    if driver.execute_script("return typeof window.axe === 'undefined'"):
        axe.inject()  # half a megabyte of script: once per document, not once per run
    version = driver.execute_script("return axe.version")
    assert str(version).startswith("4."), f"axe-core {version} is not 4.x"
    results = axe.run(options=AXE_OPTIONS)
    rules_run = sum(
        len(results[kind]) for kind in ("passes", "violations", "incomplete", "inapplicable")
    )
    assert rules_run > 60, f"only {rules_run} axe rules ran: the tags are wrong"
    if not os.environ.get("AXE_BEST_PRACTICE"):
        return results  # a second full axe run per page: on request only (it only logs)
    best_practice = axe.run(options=BEST_PRACTICE_OPTIONS)
    for finding in best_practice["violations"]:
        log.warning(
            "axe best-practice on %s: %s (%d nodes)",
            driver.current_url,
            finding["id"],
            len(finding["nodes"]),
        )
    return results


def violations_report(results: dict) -> str:
    lines = []
    for violation in results["violations"]:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {node['target']}: {node['failureSummary']}")
    return "\n".join(lines)


def page_scrolls_sideways(driver: webdriver.Chrome) -> bool:
    return driver.execute_script(
        "return document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )


# The WCAG 1.4.12 bookmarklet's values, set through the CSSOM (which the CSP allows).
_APPLY_TEXT_SPACING = """
for (const element of document.querySelectorAll('body *')) {
  element.style.setProperty('line-height', '1.5', 'important');
  element.style.setProperty('letter-spacing', '0.12em', 'important');
  element.style.setProperty('word-spacing', '0.16em', 'important');
}
for (const element of document.querySelectorAll('p')) {
  element.style.setProperty('margin-bottom', '2em', 'important');
}
"""

_FIND_CLIPPED_TEXT = """
const clipped = [];
for (const element of document.querySelectorAll('main *, header *, footer *')) {
  const style = getComputedStyle(element);
  if (element.closest('.visually-hidden')) continue;
  // A text field scrolls its own value under the caret (a long email at 320 px):
  // the text stays reachable, which is what 1.4.12 asks.
  if (['INPUT', 'TEXTAREA'].includes(element.tagName)) continue;
  const clips = (value) => ['hidden', 'clip'].includes(value);
  const hides = clips(style.overflowX) || clips(style.overflowY);
  const overflows = element.scrollHeight > element.clientHeight + 1
    || element.scrollWidth > element.clientWidth + 1;
  if (hides && overflows) {
    clipped.push(element.tagName + '.' + element.className);
  }
}
return clipped;
"""


def text_spacing_clips(driver: webdriver.Chrome) -> list[str]:
    """Apply WCAG 1.4.12's spacing to the current page; the elements that then clip text."""
    driver.execute_script(_APPLY_TEXT_SPACING)
    return driver.execute_script(_FIND_CLIPPED_TEXT)


def check_skip_link(driver: webdriver.Chrome) -> None:
    """The skip link is the first tab stop and takes focus to the main content.

    A page that answers a submitted form with errors (a GET form, as the document
    check) moves focus to the error summary instead, as the GOV.UK pattern does.
    """
    if driver.find_elements(By.CLASS_NAME, "error-summary"):
        summary = driver.switch_to.active_element
        assert "error-summary" in (summary.get_attribute("class") or ""), driver.current_url
        return
    press(driver, Keys.TAB)
    skip_link = driver.switch_to.active_element
    assert skip_link.get_attribute("class") == "skip-link", driver.current_url
    assert skip_link.is_displayed(), "the skip link shows when focused"
    press(driver, Keys.ENTER)
    assert driver.switch_to.active_element.get_attribute("id") == "main", driver.current_url


def click_and_wait_for_page(driver: webdriver.Chrome, element: WebElement) -> None:
    """Click something that loads a new page, and wait until the new page has fully loaded.

    The old page's window gets a marker; a new document has a fresh window
    without it. (Probing the old element for staleness instead can fail with
    "Node ... does not belong to the document" while Chromium navigates.)
    """
    _and_wait_for_page(driver, element.click)


def press_enter_and_wait_for_page(driver: webdriver.Chrome, element: WebElement) -> None:
    """Press Enter on a link or a form's button, as a keyboard user does, and wait for the
    page it loads. Unlike a click it does not depend on where the element is drawn, which
    the pointer gets wrong under an emulated 320 px viewport once the page is long."""
    _and_wait_for_page(driver, lambda: element.send_keys(Keys.ENTER))


def _and_wait_for_page(driver: webdriver.Chrome, action: Callable[[], None]) -> None:
    driver.execute_script("window.__portalOldPage = true")
    action()
    WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(
        lambda browser: browser.execute_script(
            "return window.__portalOldPage === undefined && document.readyState === 'complete'"
        )
    )


def press(driver: webdriver.Chrome, *keys: str) -> None:
    """Keys as a person presses them, to whatever has the focus."""
    ActionChains(driver).send_keys(*keys).perform()


def tab_to(driver: webdriver.Chrome, matches: Callable[[WebElement], bool], limit: int = 80):
    """Press Tab until the focused element ``matches``; fail if ``limit`` presses do not."""
    for _ in range(limit):
        press(driver, Keys.TAB)
        element = driver.switch_to.active_element
        if matches(element):
            return element
    raise AssertionError(f"not reached by Tab on {driver.current_url}")
