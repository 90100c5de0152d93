"""The route inventory: every GET route of the portal and how a test reaches it.

``tests/web/test_routes.py`` fails when the app gains a GET route that is not
listed here, so a new page cannot skip the page checks and the axe run, which
both iterate over ``HTML_PAGES``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.i18n import LANGUAGES


@dataclass(frozen=True)
class Page:
    """One way to reach a GET route: its endpoint, URL values and what it answers."""

    endpoint: str
    values: dict[str, str] = field(default_factory=dict)
    #: "html" pages get the page check and axe in every language.
    kind: str = "html"
    status: int = 200
    #: A short name for test ids ("home", "accessibility").
    name: str = ""

    @property
    def id(self) -> str:
        return self.name or self.endpoint.split(".")[-1]


INVENTORY: list[Page] = [
    Page("root", kind="redirect", status=302),
    Page("static", {"filename": "css/portal.css"}, kind="static"),
    Page("health.healthz", kind="json"),
    Page("pages.home"),
    Page("pages.accessibility"),
    Page("pages.privacy"),
    Page("pages.cookies"),
    Page("pages.contact"),
]

HTML_PAGES = [page for page in INVENTORY if page.kind == "html"]

#: Error pages, reached through the test-only routes (tests/support/testing_routes.py).
ERROR_PATHS = {
    "400": "/{lang}/_test/error/400",
    "403": "/{lang}/_test/error/403",
    "404": "/{lang}/no-such-page",
    "405": "/{lang}/_test/post-only",
    "410": "/{lang}/_test/error/410",
    "500": "/{lang}/_test/error/500",
}

LANGUAGE_CODES = list(LANGUAGES)
