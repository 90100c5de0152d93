"""Logout across services: RP-initiated logout in, back-channel logout tokens out.

RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): an agency's site
sends the citizen to ``end_session_endpoint`` with the ID token it holds
(``id_token_hint``); ``post_logout_redirect_uri`` must be one the client
registered, exactly, or the citizen stays here (never an open redirect).

Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when a session
ends here, every client that received tokens in it and registered a
``backchannel_logout_uri`` gets a signed logout token by POST, so it can end
its own session without the browser. Delivery runs in a thread after the
response (a slow agency must not hold up the citizen's sign-out page), with
three attempts and backoff, each failure logged. It stays out of the email
outbox's worker on purpose: a logout token expires two minutes after it is
signed (``exp``), so a retry later than the thread's few seconds would be
refused by the agency anyway.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass

import requests
from authlib.common.urls import add_params_to_uri
from flask import Flask, current_app
from joserfc import jwt
from joserfc.errors import JoseError
from sqlalchemy import select

from identity.models import Account
from identity.oidc import claims, keys
from identity.oidc.models import OidcAuthorizationCode, OidcClient
from identity.oidc.server import issuer, query_client, session_id_claim
from portal.extensions import db

log = logging.getLogger(__name__)

EVENT = "http://schemas.openid.net/event/backchannel-logout"
ATTEMPTS = 3
TIMEOUT_SECONDS = 5
BACKOFF_SECONDS = 1.0


@dataclass(frozen=True)
class Hint:
    """What a valid ``id_token_hint`` tells: which client, which citizen, which session."""

    client: OidcClient
    sub: str
    sid: str | None


def read_hint(token: str | None) -> Hint | None:
    """An ID token we issued (expired is fine: logout usually comes later), or ``None``."""
    if not token:
        return None
    try:
        decoded = jwt.decode(token, keys.public_key_set(), algorithms=list(keys.ALGORITHMS))
    except (JoseError, ValueError):
        return None
    found = decoded.claims
    audience = found.get("aud")
    client_id = audience[0] if isinstance(audience, list) and audience else audience
    if found.get("iss") != issuer() or not isinstance(client_id, str):
        return None
    client = query_client(client_id)
    if client is None or not isinstance(found.get("sub"), str):
        return None
    return Hint(client, found["sub"], found.get("sid"))


def hint_matches(hint: Hint, account: Account, session_id: int) -> bool:
    """Whether the hint was issued to this citizen (and, when it says, this session)."""
    if hint.sub != claims.subject(account, hint.client.sector, hint.client.subject_type):
        return False
    return hint.sid is None or hint.sid == session_id_claim(session_id)


def clients_of_session(session_id: int) -> list[OidcClient]:
    """Clients that received a code in this session and want to hear of its end."""
    return list(
        db.session.scalars(
            # IN (subquery), not DISTINCT: PostgreSQL cannot compare the JSON columns.
            select(OidcClient).where(
                OidcClient.id.in_(
                    select(OidcAuthorizationCode.client_pk).where(
                        OidcAuthorizationCode.session_id == session_id
                    )
                ),
                OidcClient.backchannel_logout_uri.is_not(None),
                OidcClient.disabled_at.is_(None),
            )
        )
    )


def logout_token(client: OidcClient, account: Account, session_id: int) -> str:
    now = int(time.time())
    body = {
        "iss": issuer(),
        "aud": client.client_id,
        "iat": now,
        "exp": now + 120,
        "jti": secrets.token_urlsafe(16),
        "sub": claims.subject(account, client.sector, client.subject_type),
        "sid": session_id_claim(session_id),
        "events": {EVENT: {}},
    }
    return keys.sign(body, client.id_token_alg, typ="logout+jwt")


def deliver(uri: str, token: str, client_id: str) -> bool:
    """POST one logout token, retrying with backoff; every failed attempt is logged."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            answer = requests.post(
                uri,
                data={"logout_token": token},
                timeout=TIMEOUT_SECONDS,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            log.warning(
                "back-channel logout to %s failed (attempt %d): %s", client_id, attempt, error
            )
        else:
            if answer.status_code == 200:
                return True
            log.warning(
                "back-channel logout to %s answered %d (attempt %d)",
                client_id,
                answer.status_code,
                attempt,
            )
        if attempt < ATTEMPTS:
            time.sleep(BACKOFF_SECONDS * attempt)
    log.error("back-channel logout to %s given up after %d attempts", client_id, ATTEMPTS)
    return False


def session_ended(account: Account, session_id: int) -> threading.Thread | None:
    """Tell the session's clients it ended. Tokens are signed now, sent in a thread."""
    deliveries: list[tuple[str, str, str]] = [
        (client.backchannel_logout_uri, logout_token(client, account, session_id), client.client_id)
        for client in clients_of_session(session_id)
        if client.backchannel_logout_uri
    ]
    if not deliveries:
        return None
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]

    def run(items: list[tuple[str, str, str]] = deliveries) -> None:
        with app.app_context():
            for uri, token, client_id in items:
                deliver(uri, token, client_id)

    thread = threading.Thread(target=run, name="backchannel-logout", daemon=True)
    thread.start()
    return thread


def post_logout_target(
    client: OidcClient | None, uri: str | None, state: str | None
) -> tuple[str | None, bool]:
    """Where to send the citizen afterwards, and whether the request named a bad target."""
    if not uri:
        return None, False
    if client is None or uri not in client.post_logout_redirect_uris:
        return None, True
    if state:
        uri = add_params_to_uri(uri, [("state", state)])
    return uri, False
