"""Registering agencies' clients: what ``flask --app wsgi oidc ...`` does, as plain functions."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from identity.models import utcnow
from identity.oidc import claims, keys
from identity.oidc.models import OidcClient, digest
from portal.extensions import db

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
#: The scopes a client gets unless it is registered with fewer.
DEFAULT_SCOPES = list(claims.SCOPES)


class ClientError(ValueError):
    """A registration that would make an unsafe or unusable client; the message says why."""


@dataclass(frozen=True)
class Registered:
    client: OidcClient
    #: Shown once, at creation or rotation; only its hash is kept.
    secret: str | None


def _check_uri(uri: str, what: str) -> str:
    parts = urlsplit(uri)
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.fragment:
        raise ClientError(f"{what} must not have a fragment: {uri}")
    if parts.scheme == "https" or (parts.scheme == "http" and loopback):
        return uri
    if "." in parts.scheme:
        return uri  # a mobile app's private-use scheme (RFC 8252 §7.1), like es.gob.app:/cb
    raise ClientError(f"{what} must be https (or http on localhost): {uri}")


def create(
    name: str,
    redirect_uris: list[str],
    auth_method: str = "client_secret_basic",
    sector: str | None = None,
    subject_type: str = "pairwise",
    post_logout_redirect_uris: list[str] | None = None,
    backchannel_logout_uri: str | None = None,
    jwks: dict[str, Any] | None = None,
    id_token_alg: str = "RS256",  # noqa: S107 - an algorithm name
    client_id: str | None = None,
    secret: str | None = None,
    scopes: list[str] | None = None,
) -> Registered:
    """A new client. The caller commits. ``client_id`` and ``secret`` are for demo data only."""
    if auth_method not in AUTH_METHODS:
        raise ClientError(f"auth method must be one of {', '.join(AUTH_METHODS)}")
    if not redirect_uris:
        raise ClientError("a client needs at least one redirect URI")
    if auth_method == "private_key_jwt" and not (jwks and jwks.get("keys")):
        raise ClientError("private_key_jwt needs the client's public keys (--jwks-file)")
    if id_token_alg not in keys.ALGORITHMS:
        raise ClientError(f"ID token algorithm must be one of {', '.join(keys.ALGORITHMS)}")
    if subject_type not in ("pairwise", "public"):
        raise ClientError("subject type must be pairwise or public")
    unknown = set(scopes or []) - set(claims.SCOPES)
    if unknown:
        raise ClientError(f"unknown scopes: {', '.join(sorted(unknown))}")
    for uri in [*redirect_uris, *(post_logout_redirect_uris or [])]:
        _check_uri(uri, "redirect URI")
    if backchannel_logout_uri:
        _check_uri(backchannel_logout_uri, "back-channel logout URI")
    client_id = client_id or secrets.token_urlsafe(18)
    if db.session.scalar(select(OidcClient).where(OidcClient.client_id == client_id)):
        raise ClientError(f"client {client_id} already exists")
    if auth_method in ("client_secret_basic", "client_secret_post"):
        secret = secret or secrets.token_urlsafe(32)
    else:
        secret = None
    client = OidcClient(
        client_id=client_id,
        name=name,
        secret_hash=digest(secret) if secret else None,
        auth_method=auth_method,
        redirect_uris=list(redirect_uris),
        post_logout_redirect_uris=list(post_logout_redirect_uris or []),
        backchannel_logout_uri=backchannel_logout_uri,
        sector=sector or urlsplit(redirect_uris[0]).hostname or client_id,
        subject_type=subject_type,
        id_token_alg=id_token_alg,
        jwks=jwks,
        scopes=list(scopes or DEFAULT_SCOPES),
    )
    db.session.add(client)
    db.session.flush()
    return Registered(client, secret)


def find(client_id: str) -> OidcClient | None:
    return db.session.scalar(select(OidcClient).where(OidcClient.client_id == client_id))


def rotate_secret(client: OidcClient) -> str:
    if client.auth_method not in ("client_secret_basic", "client_secret_post"):
        raise ClientError(f"{client.client_id} authenticates with {client.auth_method}: no secret")
    secret = secrets.token_urlsafe(32)
    client.secret_hash = digest(secret)
    return secret


def disable(client: OidcClient) -> None:
    """The client can no longer start sign-ins nor use its tokens (lookups skip it)."""
    client.disabled_at = client.disabled_at or utcnow()


def describe(client: OidcClient, secret: str | None = None) -> dict[str, Any]:
    """What the CLI prints: the registration, and the secret the one time it is known."""
    found: dict[str, Any] = {
        "client_id": client.client_id,
        "name": client.name,
        "token_endpoint_auth_method": client.auth_method,
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "sector_identifier": client.sector,
        "subject_type": client.subject_type,
        "id_token_signed_response_alg": client.id_token_alg,
        "scopes": client.scopes,
        "disabled": client.disabled_at is not None,
    }
    if secret:
        found["client_secret"] = secret
    return found
