"""Text spacing (WCAG 1.4.12) and reflow (1.4.10): overrides never clip or push content sideways."""

from __future__ import annotations

import pytest

from tests.browser.conftest import open_page, page_scrolls_sideways, set_viewport
from tests.support.inventory import HTML_PAGES

pytestmark = pytest.mark.browser

# The WCAG 1.4.12 bookmarklet's values, set through the CSSOM (which the CSP allows).
APPLY_TEXT_SPACING = """
for (const element of document.querySelectorAll('body *')) {
  element.style.setProperty('line-height', '1.5', 'important');
  element.style.setProperty('letter-spacing', '0.12em', 'important');
  element.style.setProperty('word-spacing', '0.16em', 'important');
}
for (const element of document.querySelectorAll('p')) {
  element.style.setProperty('margin-bottom', '2em', 'important');
}
"""

FIND_CLIPPED_TEXT = """
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


@pytest.mark.parametrize("lang", ["es", "ar"])
@pytest.mark.parametrize("page", HTML_PAGES, ids=lambda page: page.id)
def test_text_spacing_overrides_clip_nothing_at_320px(driver, live_server, page, lang) -> None:
    set_viewport(driver, 320)
    open_page(driver, live_server, page, lang)
    driver.execute_script(APPLY_TEXT_SPACING)
    assert driver.execute_script(FIND_CLIPPED_TEXT) == []
    assert not page_scrolls_sideways(driver)
