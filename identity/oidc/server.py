"""Authlib's authorization server, wired to our tables: the code grant with PKCE (S256 only),
refresh tokens that rotate, four ways for a client to authenticate, revocation and introspection.

Authlib validates the requests and builds the responses; this module answers
its questions (which client, which code, which token) from the database and
tightens two of its defaults: PKCE is required of every client (Authlib lets
a confidential client skip it) and ``plain`` is refused; its ``prompt``
handling is left out, because ``identity.oidc.authorize`` decides sign-in,
step-up and consent itself.
"""

from __future__ import annotations

import base64
import binascii
import time
from datetime import timedelta
from typing import Any, ClassVar

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import InvalidClientError, InvalidRequestError, grants
from authlib.oauth2.rfc6749.authenticate_client import authenticate_client_secret_basic
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7636.challenge import compare_s256_code_challenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import grants as oidc_grants
from authlib.oidc.core.grants.util import is_openid_scope, validate_nonce
from flask import Flask, current_app, g
from joserfc.jwk import KeySet
from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError

from identity import events, signin
from identity.events import EventKind
from identity.models import Account, utcnow
from identity.oidc import claims, keys
from identity.oidc.models import (
    OidcAuthorizationCode,
    OidcClient,
    OidcConsent,
    OidcSpentAssertion,
    OidcToken,
    digest,
)
from portal.extensions import db

CODE_LIFETIME = timedelta(seconds=60)
ACCESS_TOKEN_LIFETIME = timedelta(minutes=10)
REFRESH_TOKEN_LIFETIME = timedelta(days=30)
#: The longest a private_key_jwt assertion may live (``PrivateKeyJwt``), and its longest jti.
ASSERTION_LIFETIME = timedelta(hours=1)
JTI_LENGTH = 255
ID_TOKEN_LIFETIME = keys.TOKEN_LIFETIME
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]

server = AuthorizationServer()


def issuer() -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/")


def query_client(client_id: str) -> OidcClient | None:
    """The live client ``client_id`` names. A name that is not printable text names none:
    it can come straight from a Basic header or an assertion's unverified ``sub``, and a
    NUL in a query parameter is an error on PostgreSQL."""
    if not isinstance(client_id, str) or not client_id.isprintable():
        return None
    return db.session.scalar(
        select(OidcClient).where(
            OidcClient.client_id == client_id, OidcClient.disabled_at.is_(None)
        )
    )


def find_token(value: str) -> OidcToken | None:
    """The row of an access or a refresh token."""
    hashed = digest(value)
    return db.session.scalar(
        select(OidcToken).where(
            (OidcToken.access_token_hash == hashed) | (OidcToken.refresh_token_hash == hashed)
        )
    )


def find_access_token(value: str) -> OidcToken | None:
    """A live access token: not revoked (refreshing revokes the old pair), not expired."""
    if not value:
        return None
    row = db.session.scalar(select(OidcToken).where(OidcToken.access_token_hash == digest(value)))
    if row is None or row.is_revoked() or row.is_expired():
        return None
    return row


def revoke_family(family: str) -> int:
    """Revoke every token descended from one authorization code."""
    result = db.session.execute(
        update(OidcToken)
        .where(OidcToken.family == family, OidcToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount or 0


def save_token(token: dict[str, Any], request: Any) -> None:
    """Store the hashes of a new token pair; a refresh token only with ``offline_access``."""
    scopes = token.get("scope", "").split()
    if "offline_access" not in scopes:
        token.pop("refresh_token", None)
    origin = request.authorization_code or request.refresh_token
    family = (
        f"code-{origin.id}"
        if request.authorization_code is not None
        else request.refresh_token.family
    )
    now = utcnow()
    refresh = token.get("refresh_token")
    db.session.add(
        OidcToken(
            client_pk=request.client.id,
            account_id=request.user.id,
            session_id=origin.session_id,
            code_id=request.authorization_code.id if request.authorization_code else origin.code_id,
            family=family,
            access_token_hash=digest(token["access_token"]),
            refresh_token_hash=digest(refresh) if refresh else None,
            scope=token.get("scope", ""),
            auth_time=origin.auth_time,
            acr=origin.acr,
            amr=origin.amr,
            issued_at=now,
            access_expires_at=now + timedelta(seconds=int(token["expires_in"])),
            refresh_expires_at=now + REFRESH_TOKEN_LIFETIME if refresh else None,
        )
    )
    consent = db.session.scalar(
        select(OidcConsent).where(
            OidcConsent.account_id == request.user.id, OidcConsent.client_pk == request.client.id
        )
    )
    if consent is not None:
        consent.last_used_at = now
    if request.authorization_code is not None:
        # Once per sign-in, not per refresh: a refresh every 10 minutes would bury the
        # citizen's security history under rows that say nothing new.
        events.record(request.user, EventKind.DATA_SHARED, name=request.client.name, scope=scopes)


class S256Challenge(CodeChallenge):
    """PKCE for every client, S256 only (RFC 9700 §2.1.1); Authlib's default allows ``plain``
    and lets a confidential client leave the challenge out."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]
    CODE_CHALLENGE_METHODS: ClassVar[dict[str, Any]] = {"S256": compare_s256_code_challenge}
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge (S256).")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.")
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code: OidcAuthorizationCode) -> str:
        return authorization_code.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: Any) -> str:
        return "S256"


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def save_authorization_code(self, code: str, request: Any) -> OidcAuthorizationCode:
        account_session = signin.current_session()
        if account_session is None:  # the authorize view only gets here signed in
            raise RuntimeError("no session")
        data = request.payload.data
        row = OidcAuthorizationCode(
            code_hash=digest(code),
            client_pk=request.client.id,
            account_id=request.user.id,
            session_id=account_session.id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            nonce=data.get("nonce"),
            code_challenge=data["code_challenge"],
            auth_time=int(account_session.authenticated_at.timestamp()),
            acr=claims.session_acr(account_session.amr),
            amr=list(account_session.amr),
            expires_at=utcnow() + CODE_LIFETIME,
        )
        db.session.add(row)
        return row

    def query_authorization_code(
        self, code: str, client: OidcClient
    ) -> OidcAuthorizationCode | None:
        """The code, claimed for this request by one conditional UPDATE, so two requests racing
        with one code cannot both win. A code presented again revokes what it issued."""
        row = db.session.scalar(
            select(OidcAuthorizationCode).where(
                OidcAuthorizationCode.code_hash == digest(code),
                OidcAuthorizationCode.client_pk == client.id,
            )
        )
        if row is None:
            return None
        now = utcnow()
        claimed = db.session.execute(
            update(OidcAuthorizationCode)
            .where(OidcAuthorizationCode.id == row.id, OidcAuthorizationCode.used_at.is_(None))
            .values(used_at=now)
        ).rowcount
        if not claimed:
            revoke_family(f"code-{row.id}")
            return None
        if now >= row.expires_at:
            return None
        return row

    def delete_authorization_code(self, authorization_code: OidcAuthorizationCode) -> None:
        """Kept, already marked used: a second use must still be recognised as one."""

    def authenticate_user(self, authorization_code: OidcAuthorizationCode) -> Account | None:
        account = db.session.get(Account, authorization_code.account_id)
        return account if account is not None and account.is_active else None


class OpenIDCode(oidc_grants.OpenIDCode):
    """ID tokens: signed with the client's algorithm by the current key, with ``sid`` for
    logout, and only ``sub`` as identity: the claims themselves are read from userinfo."""

    def __call__(self, grant: Any) -> None:
        grant.register_hook("after_create_token_response", self.process_token)
        if is_openid_scope(grant.request.payload.scope):
            grant.register_hook(
                "after_validate_authorization_request_payload",
                lambda grant, redirect_uri: validate_nonce(grant.request, self.exists_nonce),
            )

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        client = query_client(request.payload.client_id)
        if client is None:
            return False
        return bool(
            db.session.scalar(
                select(
                    exists().where(
                        OidcAuthorizationCode.client_pk == client.id,
                        OidcAuthorizationCode.nonce == nonce,
                    )
                )
            )
        )

    def get_client_algorithm(self, client: OidcClient) -> str:
        return client.id_token_alg

    def resolve_client_private_key(self, client: OidcClient) -> Any:
        return keys.signing_key(client.id_token_alg)

    def get_encode_header(self, client: OidcClient) -> dict[str, str]:
        key = keys.signing_key(client.id_token_alg)
        return {"alg": client.id_token_alg, "kid": key.kid or "", "typ": "JWT"}

    def get_client_claims(self, client: OidcClient) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": issuer(),
            "aud": client.client_id,
            "iat": now,
            "exp": now + int(ID_TOKEN_LIFETIME.total_seconds()),
        }

    def get_authorization_code_claims(self, authorization_code: OidcAuthorizationCode) -> dict:
        found = super().get_authorization_code_claims(authorization_code)
        if authorization_code.session_id is not None:
            found["sid"] = session_id_claim(authorization_code.session_id)
        return found

    def generate_user_info(self, user: Account, scope: str) -> dict[str, str]:
        client = g.oidc_client  # Authlib passes only the user here; one extension serves all
        return {"sub": claims.subject(user, client.sector, client.subject_type)}

    def encode_id_token(self, token: dict[str, Any], request: Any) -> str:
        g.oidc_client = request.client
        return super().encode_id_token(token, request)


def session_id_claim(session_id: int) -> str:
    """The ``sid`` clients receive: derived from the session row, so logout can name it,
    but not the row id itself."""
    secret = current_app.config["OIDC_SUBJECT_SECRET"]
    return digest(f"sid\x00{secret}\x00{session_id}")[:32]


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> OidcToken | None:
        """Spend the refresh token, once. Spent already means stolen: revoke its family."""
        row = db.session.scalar(
            select(OidcToken).where(OidcToken.refresh_token_hash == digest(refresh_token))
        )
        if row is None:
            return None
        now = utcnow()
        claimed = db.session.execute(
            update(OidcToken)
            .where(
                OidcToken.id == row.id,
                OidcToken.refreshed_at.is_(None),
                OidcToken.revoked_at.is_(None),
            )
            .values(refreshed_at=now, revoked_at=now)
        ).rowcount
        if not claimed:
            if row.refreshed_at is not None:
                revoke_family(row.family)
            return None
        if row.refresh_expires_at is None or now >= row.refresh_expires_at:
            return None
        return row

    def authenticate_user(self, refresh_token: OidcToken) -> Account | None:
        account = db.session.get(Account, refresh_token.account_id)
        return account if account is not None and account.is_active else None

    def revoke_old_credential(self, refresh_token: OidcToken) -> None:
        """Already revoked when it was spent (``authenticate_refresh_token``)."""


class PrivateKeyJwt(JWTBearerClientAssertion):
    """``private_key_jwt``: the client signs an assertion with a key it registered; each
    ``jti`` is stored until the assertion expires, and the unique key refuses it twice.

    So an assertion must not outlive ``ASSERTION_LIFETIME`` (RFC 7523 §3 lets a server
    refuse an ``exp`` unreasonably far ahead; Authlib's client signs them for an hour),
    and its ``jti`` must fit the column as printable text: an ``exp`` a century ahead
    overflowed the date arithmetic, and a long or NUL-bearing ``jti`` was stored where
    PostgreSQL refuses it."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def get_audiences(self) -> list[str]:
        return [issuer(), f"{issuer()}/oidc/token"]

    def validate_jti(self, claims: Any, jti: str) -> bool:
        if not (0 < len(jti) <= JTI_LENGTH and jti.isprintable()):
            raise InvalidClientError(
                description=f"The jti must be 1 to {JTI_LENGTH} printable characters."
            )
        remaining = float(claims["exp"]) - time.time()
        if remaining > ASSERTION_LIFETIME.total_seconds() + self.leeway:
            raise InvalidClientError(description="The assertion must expire within an hour.")
        client = query_client(claims["sub"])
        if client is None:
            return False
        expires = utcnow() + timedelta(seconds=max(0, int(remaining)))
        try:
            with db.session.begin_nested():
                db.session.add(OidcSpentAssertion(client_pk=client.id, jti=jti, expires_at=expires))
        except IntegrityError:
            return False
        return True

    def resolve_client_public_key(self, client: OidcClient) -> KeySet:
        return KeySet.import_key_set(client.jwks or {"keys": []})


def readable_basic_credentials(authorization: str | None) -> bool:
    """Whether HTTP Basic credentials are base64 of UTF-8, as RFC 6749 §2.3.1 has clients
    send them. Authlib's decoder lets a ValueError out for anything else (``Basic é``, or
    bytes that are not UTF-8 once decoded), and for a header with a space but not two
    words (`` ``, ``Basic  ``): each a 500 at the token, revocation and introspection
    endpoints."""
    words = (authorization or "").split(None, 1)
    if " " in (authorization or "") and len(words) < 2:
        return False
    scheme, value = words if len(words) == 2 else ("", "")
    if scheme.lower() != "basic":
        return True
    try:
        base64.b64decode(value.strip()).decode("utf-8")
    except (ValueError, binascii.Error):
        return False
    return True


def client_secret_basic(query: Any, request: Any) -> OidcClient | None:
    """Authlib's ``client_secret_basic``; unreadable credentials authenticate no client, so
    the agency gets ``invalid_client`` (401), as for a wrong secret."""
    if not readable_basic_credentials(request.headers.get("Authorization")):
        return None
    return authenticate_client_secret_basic(query, request)


def require_token(request: Any) -> None:
    """A revocation or introspection request names a token; its ``token_type_hint`` is only
    a hint (RFC 7009 §2.1, RFC 7662 §2.1): every token is looked up whatever it says.
    Authlib refuses a hint it does not know (``id_token``) with a 401 carrying no
    ``WWW-Authenticate``, which tells an agency its credentials failed when they did not."""
    if not request.form.get("token"):
        raise InvalidRequestError()


class Revocation(RevocationEndpoint):
    """RFC 7009. Revoking either token of a pair revokes its whole family."""

    CLIENT_AUTH_METHODS = AUTH_METHODS

    def check_params(self, request: Any, client: OidcClient) -> None:
        require_token(request)

    def query_token(self, token_string: str, token_type_hint: str | None) -> OidcToken | None:
        return find_token(token_string)

    def revoke_token(self, token: OidcToken, request: Any) -> None:
        revoke_family(token.family)


class Introspection(IntrospectionEndpoint):
    """RFC 7662, for agencies' APIs: a client of the same sector (agency) may ask."""

    CLIENT_AUTH_METHODS = AUTH_METHODS

    def check_params(self, request: Any, client: OidcClient) -> None:
        require_token(request)

    def query_token(self, token_string: str, token_type_hint: str | None) -> OidcToken | None:
        return find_token(token_string)

    def check_permission(self, token: OidcToken, client: OidcClient, request: Any) -> bool:
        return token.client.sector == client.sector

    def introspect_token(self, token: OidcToken) -> dict[str, Any]:
        if token.refreshed_at is not None or token.revoked_at is not None or token.is_expired():
            return {"active": False}
        account = db.session.get(Account, token.account_id)
        if account is None or not account.is_active:
            return {"active": False}
        return {
            "active": True,
            "client_id": token.client.client_id,
            "token_type": "Bearer",
            "scope": token.scope,
            "sub": claims.subject(account, token.client.sector, token.client.subject_type),
            "aud": token.client.client_id,
            "iss": issuer(),
            "exp": int(token.access_expires_at.timestamp()),
            "iat": int(token.issued_at.timestamp()),
            "auth_time": token.auth_time,
            "acr": token.acr,
        }


def init_app(app: Flask) -> None:
    app.config.setdefault(
        "OAUTH2_TOKEN_EXPIRES_IN",
        {
            "authorization_code": int(ACCESS_TOKEN_LIFETIME.total_seconds()),
            "refresh_token": int(ACCESS_TOKEN_LIFETIME.total_seconds()),
        },
    )
    app.config.setdefault("OAUTH2_REFRESH_TOKEN_GENERATOR", True)
    app.config.setdefault("OAUTH2_SCOPES_SUPPORTED", list(claims.SCOPES))
    server.init_app(app, query_client=query_client, save_token=save_token)
    if not server._token_grants:  # one server object, wired once however many apps
        server.register_grant(AuthorizationCodeGrant, [S256Challenge(required=True), OpenIDCode()])
        server.register_grant(RefreshTokenGrant)
        server.register_client_auth_method("client_secret_basic", client_secret_basic)
        server.register_client_auth_method("private_key_jwt", PrivateKeyJwt())
        server.register_endpoint(Revocation)
        server.register_endpoint(Introspection)
