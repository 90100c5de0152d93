"""Connected services: the agencies a citizen lets sign them in, what each receives, and
the way to stop it. The personal folder (issue 6) lists them; revoking lives here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from identity import events
from identity.events import EventKind
from identity.models import Account, utcnow
from identity.oidc import claims
from identity.oidc.models import OidcConsent, OidcToken
from portal.extensions import db


@dataclass(frozen=True)
class Connection:
    id: int
    name: str
    shares: list[str]
    granted_at: datetime
    last_used_at: datetime


def for_account(account: Account) -> list[Connection]:
    rows = db.session.scalars(
        select(OidcConsent)
        .options(joinedload(OidcConsent.client))  # the names, in the same query
        .where(OidcConsent.account_id == account.id, OidcConsent.revoked_at.is_(None))
        .order_by(OidcConsent.last_used_at.desc())
    )
    return [
        Connection(
            id=row.id,
            name=row.client.name,
            shares=[
                str(claims.SCOPE_LABELS[s])
                for s in claims.SCOPES
                if s in row.scopes and s in claims.SCOPE_LABELS
            ],
            granted_at=row.granted_at,
            last_used_at=row.last_used_at,
        )
        for row in rows
    ]


def disconnect(account: Account, consent_id: int) -> str | None:
    """Withdraw consent and revoke every token the client holds for this citizen
    (its refresh tokens stop working at once). Returns the client's name."""
    consent = db.session.get(OidcConsent, consent_id)
    if consent is None or consent.account_id != account.id or consent.revoked_at is not None:
        return None
    now = utcnow()
    consent.revoked_at = now
    db.session.execute(
        update(OidcToken)
        .where(
            OidcToken.account_id == account.id,
            OidcToken.client_pk == consent.client_pk,
            OidcToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    events.record(account, EventKind.SERVICE_DISCONNECTED, name=consent.client.name)
    return consent.client.name
