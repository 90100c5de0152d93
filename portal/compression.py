"""Compression of text responses: brotli or gzip, as the browser says it accepts.

A page of the portal is ~20 KB of HTML and its stylesheet ~23 KB; compressed they are a
fifth of that, which is what a citizen on a slow mobile connection waits for (GOV.UK
keeps its pages' weight down for the same reason). Static files are compressed once,
at the strongest settings (``portal.static_files``); pages are compressed as they
leave, at settings that cost well under a millisecond.

Compressing a page that holds a secret (the CSRF token) next to text an attacker
chose opens the BREACH attack: from the sizes of many responses an eavesdropper
guesses the secret. The attacker needs the victim's browser to make those requests
from another site, with the victim's session cookie; so a response to a cross-site
request that carries the session cookie is sent uncompressed (Fetch Metadata's
``Sec-Fetch-Site``). A first visit from a search engine carries no session and is
compressed; a citizen's own navigation is same-origin and is compressed.
"""

from __future__ import annotations

import gzip

import brotli
from flask import Flask, Response, current_app, request

#: Text worth compressing; images and PDFs are compressed already.
COMPRESSIBLE = frozenset(
    {
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/jwk-set+json",
        "image/svg+xml",
        "text/plain",
        "text/calendar",
        "text/csv",
    }
)
#: Below about a packet, compressing saves nothing the headers do not spend.
MIN_SIZE = 500
#: In order of preference: brotli is ~15% smaller than gzip on our pages.
ENCODINGS = ("br", "gzip")


def compress(data: bytes, encoding: str, *, once: bool = False) -> bytes:
    """``data`` compressed; ``once`` (a static file) pays for the smallest result."""
    if encoding == "br":
        return brotli.compress(data, quality=11 if once else 4, mode=brotli.MODE_TEXT)
    return gzip.compress(data, compresslevel=9 if once else 6, mtime=0)


def negotiate() -> str | None:
    """The encoding this request accepts that we prefer, if any (``q=0`` refuses one)."""
    return request.accept_encodings.best_match(ENCODINGS)


def _breach_exposed() -> bool:
    site = request.headers.get("Sec-Fetch-Site")
    return site in {"cross-site", "same-site"} and bool(
        request.cookies.get(current_app.config["SESSION_COOKIE_NAME"])
    )


def compress_response(response: Response) -> Response:
    if (
        response.mimetype not in COMPRESSIBLE
        or response.direct_passthrough  # a file being sent: static_files precompresses
        or response.is_streamed
        or "Content-Encoding" in response.headers
        or response.status_code in {204, 304}
    ):
        return response
    response.vary.add("Accept-Encoding")
    if response.cache_control.no_transform or _breach_exposed():
        return response
    encoding = negotiate()
    data = response.get_data()
    if encoding is None or len(data) < MIN_SIZE:
        return response
    response.set_data(compress(data, encoding))
    response.headers["Content-Encoding"] = encoding
    etag, weak = response.get_etag()
    if etag:  # another representation: another tag
        response.set_etag(f"{etag}-{encoding}", weak)
    return response


def init_app(app: Flask) -> None:
    # First in the list, so it runs last (Flask runs after_request functions in
    # reverse): it compresses the body every other function has finished.
    app.after_request_funcs.setdefault(None, []).insert(0, compress_response)
