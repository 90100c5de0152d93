"""Operator commands under ``flask --app wsgi``: demo data now; users and clients later."""

from __future__ import annotations

from collections.abc import Callable

import click
from flask.cli import with_appcontext

#: Each package that has demo data appends a loader here; a loader returns the
#: lines to print (the demo accounts a newcomer can sign in with).
DEMO_LOADERS: list[Callable[[], list[str]]] = []


@click.group()
def demo() -> None:
    """Demo data for trying the portal locally."""


@demo.command("load")
@with_appcontext
def load() -> None:
    """Load the demo data of every package (safe to run again; never in production)."""
    from flask import current_app

    if current_app.config["PORTAL_ENV"] == "production":
        raise click.ClickException("Demo data is not loaded in production (PORTAL_ENV=production).")
    lines = [line for loader in DEMO_LOADERS for line in loader()]
    if not lines:
        click.echo("Demo data: nothing to load yet (no package registers demo accounts).")
    for line in lines:
        click.echo(line)
