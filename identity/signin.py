"""Who is signed in: the step between password and second factor, the session cookie, step-up.

The signed session cookie (Flask's) carries two things only: ``sid``, the
random id of a server-side ``AccountSession`` row (``identity.sessions``), and
while a sign-in is half done, ``pending``: which account passed its password,
for what (sign in, re-authenticate, set up a first factor) and when. The
pending step lasts 10 minutes. Finishing a sign-in clears the whole cookie
and writes a new ``sid``: the session id (and the CSRF token) are new after
every sign-in, so a session fixed before it is worth nothing (OWASP ASVS V7.2.4).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, g, redirect, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from identity import events, sessions
from identity.events import EventKind
from identity.factors import Assurance
from identity.models import Account, AccountSession, utcnow
from portal.extensions import db, login_manager

PENDING_SECONDS = 600

#: What a pending step is for.
SIGN_IN = "sign_in"
REAUTHENTICATE = "reauthenticate"
ENROL = "enrol"


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "identity.sign_in"
    login_manager.login_message = None  # the sign-in page explains itself
    login_manager.request_loader(_load_from_request)
    app.before_request(_load_early)
    app.context_processor(_template_context)


def _load_from_request(_request: Any) -> Account | None:
    account_session = sessions.load(session.get("sid"))
    if account_session is None:
        return None
    account = db.session.get(Account, account_session.account_id)
    if account is None or not account.is_active:
        return None
    g.account_session = account_session
    if account_session in db.session.dirty:
        db.session.commit()  # last_seen_at moved (at most once a minute): keep it
    return account


def _load_early() -> None:
    """Load the account before the page renders, so Babel uses the citizen's time zone."""
    if request.endpoint != "static" and current_user.is_authenticated:
        g.time_zone = current_user.time_zone


def current_session() -> AccountSession | None:
    if not current_user.is_authenticated:
        return None
    return getattr(g, "account_session", None)


def _template_context() -> dict[str, Any]:
    account_session = current_session()
    if account_session is None:
        return {"session_seconds_left": None}
    return {"session_seconds_left": sessions.seconds_left(account_session)}


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else ``None`` (no open redirects).

    Only ``/`` + something, never ``//host`` or ``/\\host`` (browsers read
    both as another site), no scheme, no host, no control characters.
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ord(char) < 32 or char == "\\" for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def begin_pending(account: Account, purpose: str, next_url: str | None = None) -> None:
    session["pending"] = {
        "a": account.id,
        "p": purpose,
        "t": int(time.time()),
        "n": safe_next(next_url),
    }


def pending(*purposes: str) -> tuple[Account, dict[str, Any]] | None:
    """The account half-way through one of ``purposes``, if its 10 minutes are not over."""
    state = session.get("pending")
    if not isinstance(state, dict) or state.get("p") not in purposes:
        return None
    if time.time() - state.get("t", 0) > PENDING_SECONDS:
        session.pop("pending", None)
        return None
    account = db.session.get(Account, state.get("a"))
    if account is None or account.disabled_at is not None:
        return None
    return account, state


def finish_sign_in(account: Account, assurance: Assurance) -> str:
    """Start the session (new id, new CSRF token); returns where to go next."""
    state = session.get("pending") or {}
    next_url = safe_next(state.get("n"))
    session.clear()
    token, _row = sessions.start(
        account,
        aal=assurance.aal,
        amr=assurance.amr,
        ip=request.remote_addr,
        user_agent=request.user_agent.string,
    )
    session["sid"] = token
    return next_url or url_for("identity.account")


def finish_reauthentication(assurance: Assurance) -> str:
    state = session.pop("pending", None) or {}
    account_session = current_session()
    if account_session is not None:
        account_session.authenticated_at = utcnow()
        account_session.aal = max(account_session.aal, assurance.aal)
        account_session.amr = sorted(set(account_session.amr) | set(assurance.amr))
    return safe_next(state.get("n")) or url_for("identity.account")


def sign_out() -> None:
    account_session = current_session()
    if account_session is not None and account_session.revoked_at is None:
        account_session.revoked_at = utcnow()
        events.record(current_user, EventKind.SIGNED_OUT)
    session.clear()


def reauthenticate_first() -> Response:
    """Send the citizen to prove who they are, then back to this very page."""
    return redirect(url_for("identity.reauthenticate", next=request.full_path.rstrip("?")))


def reauthentication_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Sensitive actions need the citizen to have proved who they are in the last 15 minutes."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        account_session = current_session()
        if account_session is None:
            abort(403)
        if not sessions.recently_authenticated(account_session):
            return reauthenticate_first()
        return view(*args, **kwargs)

    return wrapper
