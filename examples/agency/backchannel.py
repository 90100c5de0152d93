"""OpenID Connect Back-Channel Logout 1.0, relying-party side.

When a citizen signs out of Portal Ciudadano (or the portal ends the session for them),
the portal POSTs a *logout token* to every service the citizen used in that session. The
browser is not involved, so the service cannot simply clear a cookie: it must remember,
server-side, which sessions have ended and end them on the browser's next request.

This module is the part every integrator has to get right: a logout token is a bearer
instruction to sign someone out, so anything not verified exactly (signature, issuer,
audience, event type, freshness) lets a third party sign citizens out, or lets an ID token
be replayed as a logout token.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

#: The member of the ``events`` claim that makes a JWT a logout token (spec section 2.4).
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"

#: The portal signs its tokens with RS256. Pinning the algorithm, rather than trusting the
#: token's own ``alg`` header, is what rules out "alg: none" and HMAC-with-a-public-key tricks.
ALGORITHMS = ("RS256",)

#: Clock skew tolerated between the portal and this service, in seconds.
LEEWAY = 60

#: A logout token is delivered at once; an old one is more likely a replay than a late delivery.
MAX_AGE = 120


class InvalidLogoutToken(Exception):
    """The token must be refused with 400 Bad Request (spec section 2.8)."""


class KeysUnavailable(Exception):
    """The portal's keys could not be fetched: not the token's fault, so not a 400."""


def validate_logout_token(
    token: str,
    *,
    load_keys: Callable[[bool], dict[str, Any]],
    issuer: str,
    client_id: str,
    now: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Return the claims of a valid logout token, or raise :class:`InvalidLogoutToken`.

    ``load_keys(force)`` returns the portal's JWKS, or raises :class:`KeysUnavailable`;
    ``force=True`` asks for a fresh copy, used once when the token names a key we have not
    seen (the portal rotated its keys).
    The structure is checked before any key is fetched, so rubbish never costs a request
    to the portal. The steps follow section 2.6 of the specification.
    """
    if not token:
        raise InvalidLogoutToken("Falta el parámetro logout_token.")
    try:
        header = jws.extract_compact(token.encode("ascii")).headers()
    except (JoseError, ValueError) as error:
        raise InvalidLogoutToken("logout_token no es un JWS compacto.") from error
    if header.get("alg") not in ALGORITHMS:
        raise InvalidLogoutToken("logout_token no está firmado con RS256.")

    decoded = _verify_signature(token, load_keys)
    claims = decoded.claims
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        iat={"essential": True},
        jti={"essential": True},
        events={"essential": True},
    )
    try:
        registry.validate(claims)  # also checks exp and nbf when present
    except JoseError as error:
        raise InvalidLogoutToken(f"Afirmación no válida ({error}).") from error

    if now() - claims["iat"] > MAX_AGE + LEEWAY:
        raise InvalidLogoutToken("logout_token es demasiado antiguo.")
    events = claims["events"]
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_LOGOUT_EVENT), dict):
        raise InvalidLogoutToken("logout_token no contiene el evento de cierre de sesión.")
    # An ID token always carries the nonce we sent; a logout token never does. Refusing one
    # with a nonce is what stops an ID token being passed off as a logout token.
    if "nonce" in claims:
        raise InvalidLogoutToken("logout_token no puede contener nonce.")
    sid, sub = claims.get("sid"), claims.get("sub")
    if not (isinstance(sid, str) and sid) and not (isinstance(sub, str) and sub):
        raise InvalidLogoutToken("logout_token debe identificar una sesión (sid) o persona (sub).")
    if sid is not None and not isinstance(sid, str):
        raise InvalidLogoutToken("sid debe ser una cadena.")
    return claims


def _verify_signature(token: str, load_keys: Callable[[bool], dict[str, Any]]) -> jwt.Token:
    """Verify the signature against the portal's JWKS, refreshing it once on an unknown kid."""
    for force in (False, True):
        jwks = load_keys(force)  # raises KeysUnavailable
        try:
            keys = KeySet.import_key_set(jwks)
        except (JoseError, KeyError, TypeError, ValueError) as error:
            raise KeysUnavailable(f"El JWKS del portal no es válido: {error}") from error
        try:
            return jwt.decode(token, keys, algorithms=list(ALGORITHMS))
        except InvalidKeyIdError:
            if force:
                raise InvalidLogoutToken(
                    "logout_token está firmado con una clave que el portal no publica."
                ) from None
        except JoseError as error:
            raise InvalidLogoutToken(
                "La firma o el contenido de logout_token no son válidos."
            ) from error
    raise AssertionError("unreachable")  # pragma: no cover


class LogoutRegistry:
    """Sessions the portal has ended, remembered until their browser comes back.

    The browser session lives in a signed cookie, which this server cannot reach when the
    portal calls. So the back-channel call only records the ``sid`` (or, for a logout of
    every session of a person, the ``sub`` and the time); each request then checks its own
    session against the record. Entries are forgotten after ``keep_for`` seconds, the local
    session lifetime: any cookie older than that is refused by Flask anyway.

    In memory and per process, which is right for a one-process demo; a service with several
    workers keeps this in its shared store (Redis, the database).
    """

    def __init__(self, keep_for: float, clock: Callable[[], float] = time.time) -> None:
        self._keep_for = keep_for
        self._clock = clock
        self._lock = threading.Lock()
        self._sids: dict[str, float] = {}
        self._subs: dict[str, float] = {}

    def record(self, *, sid: str | None, sub: str | None) -> None:
        """Remember one ended session (``sid``) or, without a sid, every session of ``sub``."""
        now = self._clock()
        with self._lock:
            self._forget_older_than(now - self._keep_for)
            if sid:
                self._sids[sid] = now
            elif sub:
                self._subs[sub] = now

    def has_ended(self, *, sid: str | None, sub: str | None, signed_in_at: float) -> bool:
        """Whether a browser session with these values was ended by the portal.

        A logout by ``sub`` only ends sessions that began before it: the citizen may well
        sign in again a minute later.
        """
        with self._lock:
            if sid and sid in self._sids:
                return True
            ended_at = self._subs.get(sub) if sub else None
            return ended_at is not None and signed_in_at <= ended_at

    def _forget_older_than(self, cutoff: float) -> None:
        for record in (self._sids, self._subs):
            for key in [key for key, at in record.items() if at < cutoff]:
                del record[key]
