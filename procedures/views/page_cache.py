"""Catalogue pages rendered once per process for visitors who are not signed in.

The catalogue, its topics and life events and each procedure's page are what most people
read before signing in, and for them each page is the same for everyone: the definitions
are loaded once per process and never change while it runs (``procedures.catalogue``),
and nothing on these pages depends on who asks. Rendering one costs a few milliseconds of
CPU (templates, dozens of translated strings and URLs); handing back the same HTML costs
microseconds, so one server answers several times as many visitors
(``bench/catalogue_throughput.py``).

Only requests that cannot carry anything personal use it: a GET without a query string (a
search is rendered each time) and without a session cookie (no signed-in citizen, no
sign-in half done, no message waiting to be shown). A page is kept only if rendering it put
nothing in the session: a CSRF token would have been that visitor's own. Everything else
about the request still happens: rate limits, the language cookie, security headers,
compression, the log line and the metrics.

Pages are kept per process and per loaded catalogue, at most :data:`MAX_PAGES` of them
(only pages that exist reach the cache: a 404 is an exception, never kept). A developer's
machine (``PORTAL_ENV=development``) renders every time, since templates change there as
they are edited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import current_app, request, session

from procedures import catalogue
from procedures.definitions import Catalogue

#: Six languages times the catalogue's pages, with room to spare.
MAX_PAGES = 2000
EXTENSION = "procedures.visitor_pages"


@dataclass
class VisitorPages:
    """The HTML of each page by path, for the catalogue it was rendered from."""

    catalogue: Catalogue
    html: dict[str, str] = field(default_factory=dict)


def pages() -> VisitorPages:
    kept = current_app.extensions.get(EXTENSION)
    if kept is None or kept.catalogue is not catalogue.current():
        kept = VisitorPages(catalogue.current())
        current_app.extensions[EXTENSION] = kept
    return kept


def _anonymous_request() -> bool:
    return (
        request.method == "GET"
        and not request.query_string
        and current_app.config["SESSION_COOKIE_NAME"] not in request.cookies
        and current_app.config.get("PORTAL_ENV") != "development"
    )


def for_visitors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve the view's HTML from :func:`pages` to visitors without a session."""

    @wraps(view)
    def cached(**values: Any) -> Any:
        if not _anonymous_request():
            return view(**values)
        kept = pages()
        html = kept.html.get(request.path)
        if html is None:
            html = view(**values)
            if isinstance(html, str) and not session and len(kept.html) < MAX_PAGES:
                kept.html[request.path] = html
        return html

    return cached
