"""Error pages: translated, with the right status and a way forward.

Each page says what happened in plain words and what the citizen can do next,
after the GOV.UK patterns for "page not found", "there is a problem with the
service" and "service unavailable". The 500 page renders with nothing but the
request's language, so it still works when the database does not.
"""

from __future__ import annotations

import contextlib
import math
import time
from datetime import timedelta

from flask import Flask, current_app, redirect, render_template, request
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal import i18n
from portal.extensions import db, limiter

#: Statuses with a page of their own; any other 4xx gets the 400 page ("a problem
#: with your request"), so no input ever ends on an untranslated Werkzeug page.
PAGES = {400, 403, 404, 405}


def _retry_after_seconds() -> int:
    """Seconds until the limit that was hit lets the citizen try again."""
    limit = limiter.current_limit
    if limit is None:
        return 60
    return max(1, math.ceil(limit.reset_at - time.time()))


def _page(template_name: str, status: int, **context: object) -> tuple[str, int]:
    return render_template(template_name, status=status, **context), status


def handle_http_error(error: HTTPException) -> tuple[str, int] | tuple[str, int, dict[str, str]]:
    status = error.code or 500
    if status == 404 and (target := _language_prefixed(request.path)):
        return redirect(target)  # type: ignore[return-value]
    if status >= 500:
        return handle_server_error(error)
    # Any other 4xx (410, 413, 415...) is "a problem with your request" too.
    template = f"errors/{status}.html" if status in PAGES else "errors/400.html"
    body, status = _page(template, status)
    # 405 must keep its Allow header.
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    return body, status, headers


def _language_prefixed(path: str) -> str | None:
    """``/accessibility`` → ``/es/accessibility`` when that page exists (old links, typed URLs).

    The target always starts with ``/<lang>/``, so it stays on this site.
    """
    first = path.lstrip("/").partition("/")[0]
    if first in i18n.LANGUAGES:
        return None
    target = f"/{i18n.current_language()}/{path.lstrip('/')}"
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(target, method="GET")
    except HTTPException:
        return None
    return target


def handle_rate_limit(error: RateLimitExceeded) -> tuple[str, int, dict[str, str]]:
    seconds = _retry_after_seconds()
    wait = format_timedelta(timedelta(seconds=seconds), threshold=1, add_direction=False)
    body, status = _page("errors/429.html", 429, wait=wait)
    return body, status, {"Retry-After": str(seconds)}


def handle_csrf_error(error: CSRFError) -> tuple[str, int]:
    """A form whose token is missing or expired: explain and offer the form again.

    The link goes back to the path the form was posted to, which is always a
    path of this site, so it cannot be turned into an open redirect.
    """
    return _page("errors/csrf.html", 400, form_url=request.path)


#: Seconds a client (or a load balancer) should wait when the database is unreachable.
DATABASE_RETRY_AFTER = 30


def _database_unavailable(error: Exception) -> bool:
    """The database could not be reached or dropped the connection (a restart, a failover,
    SQLite's lock held too long): the service is unavailable for a moment, not broken."""
    return isinstance(error, OperationalError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )


def handle_server_error(
    error: Exception,
) -> tuple[str, int] | tuple[str, int, dict[str, str]]:
    """Roll back whatever the request half-did, log it, and say sorry in the citizen's language.

    A database that cannot be reached answers 503 with Retry-After (the same words: the
    citizen can only try again later), so clients and load balancers know it will pass.
    If even the layout cannot render (a broken template, a context processor
    that needs the database), a bare page with the same words is returned.
    """
    with contextlib.suppress(Exception):  # the database may be what failed
        db.session.rollback()
    status, headers = 500, {}
    if _database_unavailable(error):
        status, headers = 503, {"Retry-After": str(DATABASE_RETRY_AFTER)}
        current_app.logger.warning("The database is unavailable: %s", type(error).__name__)
    elif not isinstance(error, HTTPException):
        current_app.logger.exception("Unhandled error", exc_info=error)
    try:
        body, status = _page("errors/500.html", status)
    except Exception:
        current_app.logger.exception("The error page itself failed")
        body = _bare_server_error_page()
    return (body, status, headers) if headers else (body, status)


def _bare_server_error_page() -> str:
    lang = i18n.current_language()
    language = i18n.LANGUAGES[lang]
    title = escape(_("Sorry, there is a problem with the service"))
    body = escape(_("Try again later."))
    return (
        f'<!DOCTYPE html><html lang="{language.code}" dir="{language.direction}"><head>'
        '<meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title></head><body><main><h1>{title}</h1><p>{body}</p></main></body></html>"
    )


def end_database_session(_error: BaseException | None) -> None:
    """End the request's database session even if its connection died under it.

    Flask-SQLAlchemy's own teardown rolls the session back. When PostgreSQL went away while
    the request held a connection (a restart: "terminating connection due to administrator
    command"), that rollback raises after the response was made, and gunicorn then answers
    its own bare "Internal Server Error" instead of the page this request had ready: the
    portal's error page, or even the page the citizen asked for (bench/faults.py saw it).
    The connection is gone, so there is nothing left to roll back: it is discarded, and the
    next request gets a new one. Registered after Flask-SQLAlchemy's teardown, so it runs
    first and leaves nothing for that one to do.
    """
    try:
        db.session.remove()
    except DBAPIError as lost:
        current_app.logger.warning(
            "The database connection was lost before the request ended: %s",
            type(lost.orig).__name__,
        )
        with contextlib.suppress(DBAPIError):
            db.session().invalidate()  # closes without a rollback; the pool forgets it
        db.session.registry.clear()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(end_database_session)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(RateLimitExceeded, handle_rate_limit)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_server_error)
    app.register_error_handler(Exception, handle_server_error)
