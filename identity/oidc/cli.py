"""``flask --app wsgi oidc ...``: register agencies' clients and rotate the signing keys."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from identity.oidc import clients, keys
from identity.oidc.models import OidcClient
from portal.extensions import db


@click.group()
def oidc() -> None:
    """OpenID Connect clients (agencies' sites and apps) and signing keys."""


def _print(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@oidc.command("create-client")
@click.option("--name", required=True, help="The agency's service as citizens read it.")
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True)
@click.option(
    "--auth-method",
    type=click.Choice(clients.AUTH_METHODS),
    default="client_secret_basic",
    show_default=True,
    help="none: a public app (mobile) with PKCE only.",
)
@click.option("--sector", help="Clients of one sector share pairwise subjects (default: host).")
@click.option("--public-subject", is_flag=True, help="Same sub for every client (on purpose only).")
@click.option("--post-logout-redirect-uri", "post_logout", multiple=True)
@click.option("--backchannel-logout-uri")
@click.option("--jwks-file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--id-token-alg", type=click.Choice(keys.ALGORITHMS), default="RS256")
@click.option("--scope", "scopes", multiple=True, help="Allowed scopes (default: all).")
@with_appcontext
def create_client(
    name: str,
    redirect_uris: tuple[str, ...],
    auth_method: str,
    sector: str | None,
    public_subject: bool,
    post_logout: tuple[str, ...],
    backchannel_logout_uri: str | None,
    jwks_file: Path | None,
    id_token_alg: str,
    scopes: tuple[str, ...],
) -> None:
    """Register a client; prints its JSON, with client_secret shown this once."""
    try:
        jwks = json.loads(jwks_file.read_text()) if jwks_file else None
    except ValueError as error:
        raise click.ClickException(f"{jwks_file} is not JSON: {error}") from error
    try:
        registered = clients.create(
            name,
            list(redirect_uris),
            auth_method=auth_method,
            sector=sector,
            subject_type="public" if public_subject else "pairwise",
            post_logout_redirect_uris=list(post_logout),
            backchannel_logout_uri=backchannel_logout_uri,
            jwks=jwks,
            id_token_alg=id_token_alg,
            scopes=list(scopes) or None,
        )
    except clients.ClientError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    _print(clients.describe(registered.client, registered.secret))


@oidc.command("list")
@with_appcontext
def list_clients() -> None:
    """Every client, without secrets."""
    rows = db.session.scalars(select(OidcClient).order_by(OidcClient.id))
    _print([clients.describe(row) for row in rows])


def _client(client_id: str) -> OidcClient:
    client = clients.find(client_id)
    if client is None:
        raise click.ClickException(f"no client {client_id}")
    return client


@oidc.command("rotate-secret")
@click.argument("client_id")
@with_appcontext
def rotate_secret(client_id: str) -> None:
    """A new secret (printed once); the old one stops working at once."""
    client = _client(client_id)
    try:
        secret = clients.rotate_secret(client)
    except clients.ClientError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    _print(clients.describe(client, secret))


@oidc.command("disable")
@click.argument("client_id")
@with_appcontext
def disable(client_id: str) -> None:
    """Stop a client: no new sign-ins, its tokens no longer accepted."""
    client = _client(client_id)
    clients.disable(client)
    db.session.commit()
    _print(clients.describe(client))


@oidc.command("rotate-keys")
@with_appcontext
def rotate_keys() -> None:
    """Publish new signing keys now; they sign after clients' JWKS caches have expired."""
    created = keys.rotate()
    db.session.commit()
    for row in created:
        click.echo(
            f"{row.kid} ({row.alg}) published, signs from {row.signs_from:%Y-%m-%d %H:%M} UTC"
        )


@oidc.command("keys")
@with_appcontext
def list_keys() -> None:
    """The published keys and when each signs or stops being published."""
    _print(
        [
            {
                "kid": row.kid,
                "alg": row.alg,
                "signs_from": row.signs_from.isoformat(),
                "unpublish_at": row.unpublish_at.isoformat() if row.unpublish_at else None,
            }
            for row in keys.ensure()
        ]
    )
    db.session.commit()
