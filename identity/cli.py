"""``flask --app wsgi users ...``: what operators do to accounts.

``users create --staff`` also makes the account staff of an agency. Staff memberships
belong to the back office (``portal.backoffice``), above identity, so it offers the
function as ``app.extensions["make_staff"]`` and this module never imports it.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from identity import accounts
from identity.models import Account, utcnow
from identity.passwords import PasswordRejectedError
from portal.extensions import db
from portal.i18n import LANGUAGES


@click.group()
def users() -> None:
    """Citizen accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--language", type=click.Choice(list(LANGUAGES)), default="es", show_default=True)
@click.option("--staff", is_flag=True, help="Make the account staff of --agency.")
@click.option("--agency", help="With --staff: a key of agencies.yaml.")
@click.option("--unit", default="", help="With --staff: the unit within the agency.")
@click.option(
    "--role",
    type=click.Choice(["caseworker", "supervisor", "administrator"]),
    default="caseworker",
    show_default=True,
)
@with_appcontext
def create(
    email: str, password: str, language: str, staff: bool, agency: str | None, unit: str, role: str
) -> None:
    """Create an account whose address counts as verified (the operator vouches for it).
    Staff must add a second factor at their first sign-in before any staff page opens."""
    from flask import current_app

    if staff and not (agency and unit.strip()):
        raise click.ClickException("--staff needs --agency and --unit")
    try:
        account = accounts.create_account(email, password, language)
    except PasswordRejectedError as error:
        raise click.ClickException(f"password refused: {error.reason}") from error
    if account is None:
        raise click.ClickException(f"{accounts.normalise_email(email)} already has an account")
    accounts.mark_email_verified(account)
    if staff:
        try:
            current_app.extensions["make_staff"](account, agency, unit, role)
        except ValueError as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from error
    db.session.commit()
    suffix = f" ({role} of {agency}, {unit})" if staff else ""
    click.echo(f"created account {account.id} for {account.email}{suffix}")


@users.command("disable")
@click.option("--email", required=True)
@with_appcontext
def disable(email: str) -> None:
    """Stop an account from signing in (its data stays)."""
    account = accounts.find_by_email(email)
    if account is None:
        raise click.ClickException("no such account")
    account.disabled_at = account.disabled_at or utcnow()
    db.session.commit()
    click.echo(f"disabled {account.email}")


@users.command("list")
@with_appcontext
def list_accounts() -> None:
    """One line per account: id, email, verified, disabled, factors."""
    for account in db.session.scalars(select(Account).order_by(Account.id)):
        verified = "verified" if account.email_verified_at else "unverified"
        state = "disabled" if account.disabled_at else "active"
        click.echo(
            f"{account.id}\t{account.email}\t{verified}\t{state}\t{len(account.factors)} factors"
        )


@users.command("reindex")
@with_appcontext
def reindex() -> None:
    """Rebuild the blind index staff find citizens by (run after adding an encryption key)."""
    from identity import record

    count = 0
    for account in db.session.scalars(select(Account).where(Account.deleted_at.is_(None))):
        record.reindex(account)
        count += 1
    db.session.commit()
    click.echo(f"reindexed {count} accounts")


@users.command("code")
@click.argument("email")
@with_appcontext
def code(email: str) -> None:
    """Print the current authenticator-app code of a demo account (development only)."""
    from flask import current_app

    from identity import demo, totp

    if current_app.config["PORTAL_ENV"] == "production" or email != demo.EMAIL:
        raise click.ClickException("Only the demo account's code, and never in production.")
    click.echo(totp.current_code(demo.TOTP_SECRET))
