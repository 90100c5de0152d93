"""Languages: the URL prefix carries the language, so every page has one URL per language.

A language in the URL (rather than only in a cookie) lets pages be cached per
URL, lets search engines and assistive technology follow ``hreflang`` links, and
lets a citizen share a link that opens in the language they read it in.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, current_app, g, has_request_context, redirect, request, url_for
from flask_babel import force_locale, get_locale
from werkzeug.routing import BaseConverter

LANGUAGE_COOKIE = "lang"
DEFAULT_LANGUAGE = "es"


@dataclass(frozen=True)
class Language:
    code: str
    #: The language's name in itself: a reader looks for the name they know.
    native_name: str
    direction: str = "ltr"


LANGUAGES: dict[str, Language] = {
    language.code: language
    for language in (
        Language("es", "Español"),
        Language("en", "English"),
        Language("ca", "Català"),
        Language("gl", "Galego"),
        Language("eu", "Euskara"),
        Language("ar", "العربية", "rtl"),
    )
}


class LanguageConverter(BaseConverter):
    """Matches only the languages we serve, so ``/fr/`` is a plain 404."""

    regex = "(?:" + "|".join(LANGUAGES) + ")"


@contextmanager
def writing_in(lang: str) -> Iterator[None]:
    """Write in ``lang`` whatever request we are in, or none: an email to a citizen from a
    staff member's request, or from the worker. Babel's locale and ``g.lang`` (which the
    templates' context reads instead of the request's path) hold for the block only.
    Outside a request (the worker), templates are written as for a request to
    ``PUBLIC_URL``: their context (the layout's language, who is signed in) reads one."""
    with ExitStack() as stack:
        if not has_request_context():
            base = current_app.config["PUBLIC_URL"]
            stack.enter_context(current_app.test_request_context(f"/{lang}/", base_url=base))
        missing = object()
        previous = g.get("lang", missing)
        g.lang = lang
        try:
            with force_locale(lang):
                yield
        finally:
            if previous is missing:
                g.pop("lang", None)
            else:
                g.lang = previous


def negotiate_language() -> str:
    """The language for a request whose URL does not say: cookie, then browser, then Spanish."""
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    if cookie in LANGUAGES:
        return cookie
    return request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT_LANGUAGE)


def current_language() -> str:
    """The request's language: from the matched URL, else the path's first segment
    (a 404 under ``/eu/`` is in Basque), else negotiated."""
    lang = getattr(g, "lang", None)
    if lang not in LANGUAGES:
        first = request.path.lstrip("/").partition("/")[0]
        lang = first if first in LANGUAGES else negotiate_language()
        g.lang = lang
    return lang


def _pull_language(endpoint: str | None, values: dict[str, Any] | None) -> None:
    if values and "lang" in values:
        g.lang = values.pop("lang")


def _add_language(endpoint: str, values: dict[str, Any]) -> None:
    """Fill ``lang`` in ``url_for`` so templates never pass it by hand."""
    if "lang" in values:
        return
    if current_app.url_map.is_endpoint_expecting(endpoint, "lang"):
        values["lang"] = current_language()


def _remember_language(response: Response) -> Response:
    """Keep the language the citizen is reading in, for their next visit to ``/``.

    A strictly necessary cookie: it only remembers a choice the citizen made
    (listed on the cookies page).
    """
    lang = getattr(g, "lang", None)
    if lang in LANGUAGES and request.cookies.get(LANGUAGE_COOKIE) != lang:
        response.set_cookie(
            LANGUAGE_COOKIE,
            lang,
            max_age=365 * 24 * 3600,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
            samesite="Lax",
        )
    return response


def root() -> Response:
    """``/``: send the visitor to the home page in their language."""
    response = redirect(url_for("pages.home", lang=negotiate_language()), code=302)
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return response


def alternate_urls() -> list[tuple[Language, str]]:
    """This page's URL in every language, for ``hreflang`` links and the switcher.

    A routed GET page is rebuilt with another ``lang`` and its query string
    appended (less ``_``-prefixed keys, which mean nothing here). The query never
    goes through ``url_for``'s keywords: there ``_external`` would let a query ask
    for an absolute URL built from the Host header, and ``?endpoint=`` collided
    with ``url_for``'s own first argument, failing every page (and its error page)
    asked for with it. A page with no
    route (a 404) swaps the language segment of its path.
    """
    rule = request.url_rule
    routed = rule is not None and "lang" in rule.arguments and "GET" in (rule.methods or ())
    first, _, rest = request.path.lstrip("/").partition("/")
    in_language = first in LANGUAGES
    kept = [(k, v) for k, v in request.args.items(multi=True) if not k.startswith("_")]
    query = f"?{urlencode(kept)}" if kept else ""
    urls = []
    for language in LANGUAGES.values():
        if rule is not None and routed:
            values = {**(request.view_args or {}), "lang": language.code}
            url = url_for(rule.endpoint, **values) + query
        elif in_language:
            url = f"/{language.code}/{rest}"
        else:
            url = url_for("pages.home", lang=language.code)
        urls.append((language, url))
    return urls


def _template_context() -> dict[str, Any]:
    lang = current_language()
    return {
        "current_language": LANGUAGES[lang],
        "languages": LANGUAGES,
        "alternate_urls": alternate_urls,
    }


def locale_selector() -> str:
    return current_language()


def timezone_selector() -> str | None:
    """The signed-in citizen's zone (set by identity on ``g``), else the portal's default."""
    return getattr(g, "time_zone", None)


def init_app(app: Flask) -> None:
    app.url_map.converters["lang"] = LanguageConverter
    app.url_value_preprocessor(_pull_language)
    app.url_defaults(_add_language)
    app.after_request(_remember_language)
    app.context_processor(_template_context)
    app.add_url_rule("/", "root", root)
    # Babel's own locale lookup would otherwise re-run per string.
    app.jinja_env.globals["get_locale"] = get_locale
