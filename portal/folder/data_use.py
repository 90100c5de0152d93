"""Who used my data: staff reads (portal.audit) and agencies' sign-ins (OpenID Connect),
merged newest first into lines the citizen can read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from identity.events import EventKind
from identity.models import SecurityEvent
from identity.oidc.claims import SCOPE_LABELS
from portal.audit import PURPOSES, ROLES, WHAT, DataAccess
from portal.extensions import db
from procedures import catalogue

FILTERS = ("staff", "services")
LIMIT = 200


@dataclass(frozen=True)
class Use:
    at: datetime
    #: staff or services
    by: str
    #: Who: the agency (and unit, role), or the service's name.
    who: str
    #: What they saw, in plain words.
    what: list[str]
    #: Why: the stated purpose (staff) or the citizen's consent (services).
    why: str


def _staff(account_id: int, lang: str) -> list[Use]:
    rows = db.session.scalars(
        select(DataAccess)
        .where(DataAccess.citizen_account_id == account_id)
        .order_by(DataAccess.at.desc())
        .limit(LIMIT)
    )
    uses = []
    for row in rows:
        agency = catalogue.agency_name(row.agency, lang)
        who = f"{agency} · {row.unit} · {ROLES.get(row.role, row.role)}"
        what = str(WHAT.get(row.what, row.what))
        if row.reference:
            what = f"{what} ({row.reference})"
        why = str(PURPOSES.get(row.purpose, row.purpose))
        if row.purpose_detail:
            why = row.purpose_detail if row.purpose == "other" else f"{why}: {row.purpose_detail}"
        uses.append(Use(row.at, "staff", who, [what], why))
    return uses


def _services(account_id: int) -> list[Use]:
    rows = db.session.scalars(
        select(SecurityEvent)
        .where(
            SecurityEvent.account_id == account_id,
            SecurityEvent.kind == str(EventKind.DATA_SHARED),
        )
        .order_by(SecurityEvent.occurred_at.desc())
        .limit(LIMIT)
    )
    uses = []
    for row in rows:
        details = row.details or {}
        scopes = [str(SCOPE_LABELS[s]) for s in details.get("scope", []) if s in SCOPE_LABELS]
        uses.append(
            Use(
                row.occurred_at,
                "services",
                str(details.get("name", "")),
                scopes or [_("That you are signed in, and nothing else")],
                _("You agreed to share it when you signed in to this service"),
            )
        )
    return uses


def uses_for(account_id: int, lang: str, by: str | None = None) -> list[Use]:
    """The latest uses (up to ``LIMIT`` of each kind), newest first; ``by`` filters."""
    found: list[Use] = []
    if by in (None, "staff"):
        found += _staff(account_id, lang)
    if by in (None, "services"):
        found += _services(account_id)
    return sorted(found, key=lambda use: use.at, reverse=True)
