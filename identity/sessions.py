"""Server-side sessions: the cookie holds a random id, the database holds everything else.

- Idle timeout 30 minutes and absolute lifetime 12 hours (OWASP ASVS V7.3,
  and login.gov's values); the page warns before the idle timeout and offers
  one click to stay signed in (WCAG 2.2.1).
- The row stores the SHA-256 of the cookie value: a copy of the database
  does not let anyone take over a session.
- ``aal`` and ``amr`` record how the citizen signed in, for step-up and for
  the OpenID Connect provider.
- ``last_seen_at`` is written at most once a minute, so reading pages does not
  turn every request into a database write.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import select, update

from identity import events
from identity.events import EventKind
from identity.models import Account, AccountSession, utcnow
from portal.extensions import db

IDLE_TIMEOUT = timedelta(minutes=30)


def idle_timeout() -> timedelta:
    """30 minutes, unless ``SESSION_IDLE_TIMEOUT`` (seconds) says otherwise: the browser
    tests shorten it to watch the warning and the time-out happen."""
    if has_app_context():
        seconds = current_app.config.get("SESSION_IDLE_TIMEOUT")
        if seconds:
            return timedelta(seconds=int(seconds))
    return IDLE_TIMEOUT


ABSOLUTE_LIFETIME = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)
REAUTHENTICATE_AFTER = timedelta(minutes=15)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(
    account: Account,
    aal: int,
    amr: list[str],
    ip: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> tuple[str, AccountSession]:
    """A new session; returns the cookie value (shown once) and the row."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session = AccountSession(
        token_hash=_hash(token),
        account_id=account.id,
        created_at=now,
        last_seen_at=now,
        authenticated_at=now,
        expires_at=now + ABSOLUTE_LIFETIME,
        ip_address=ip,
        user_agent=(user_agent or "")[:400] or None,
        aal=aal,
        amr=sorted(set(amr)),
    )
    db.session.add(session)
    db.session.flush()
    events.record(account, EventKind.SIGNED_IN, aal=aal, amr=session.amr)
    return token, session


def is_live(session: AccountSession, now: datetime) -> bool:
    return (
        session.revoked_at is None
        and now < session.expires_at
        and now - session.last_seen_at < idle_timeout()
    )


def load(token: str | None, now: datetime | None = None) -> AccountSession | None:
    """The live session for a cookie value, touched; ``None`` if unknown, revoked or timed out."""
    if not token:
        return None
    now = now or utcnow()
    session = db.session.scalar(
        select(AccountSession).where(AccountSession.token_hash == _hash(token))
    )
    if session is None or not is_live(session, now):
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        session.last_seen_at = now
    return session


def idle_deadline(session: AccountSession) -> datetime:
    """When the session ends if nothing happens: the earlier of idle and absolute limits."""
    return min(session.last_seen_at + idle_timeout(), session.expires_at)


def seconds_left(session: AccountSession, now: datetime | None = None) -> int:
    """Whole seconds until :func:`idle_deadline`, rounded up: a page that counts down from
    this number never reaches zero while the server still holds the session live, so it
    cannot bounce between the sign-in page and a page that still thinks it is signed in."""
    left = (idle_deadline(session) - (now or utcnow())).total_seconds()
    return max(0, math.ceil(left))


def recently_authenticated(session: AccountSession, now: datetime | None = None) -> bool:
    return (now or utcnow()) - session.authenticated_at < REAUTHENTICATE_AFTER


def revoke(session: AccountSession, account: Account, now: datetime | None = None) -> None:
    if session.revoked_at is None:
        session.revoked_at = now or utcnow()
        events.record(account, EventKind.SESSION_REVOKED, session_id=session.id)


def revoke_all(account: Account, keep: AccountSession | None = None) -> int:
    """Sign the account out everywhere (but ``keep``); returns how many sessions ended."""
    statement = (
        update(AccountSession)
        .where(AccountSession.account_id == account.id, AccountSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if keep is not None:
        statement = statement.where(AccountSession.id != keep.id)
    count = db.session.execute(statement).rowcount or 0
    if count:
        events.record(account, EventKind.SESSION_REVOKED, count=count)
    return count


def live_sessions(account: Account, now: datetime | None = None) -> list[AccountSession]:
    now = now or utcnow()
    rows = db.session.scalars(
        select(AccountSession)
        .where(AccountSession.account_id == account.id, AccountSession.revoked_at.is_(None))
        .order_by(AccountSession.last_seen_at.desc())
    )
    return [row for row in rows if is_live(row, now)]
