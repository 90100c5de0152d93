"""The citizen record: what the administration holds about a citizen, each value with its source.

Procedures ask for it to prefill their forms (once only: Ley 39/2015 art. 28 and WCAG
3.3.7), and show the source and date next to each value so the citizen can tell whether
it is still right. Values are stored as encrypted JSON, since they include the national
identifier, the birth date and the home address.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from identity import encryption, lookup
from identity.models import Account, CitizenAttribute, utcnow
from portal.extensions import db

#: Who can be the source of a value, as the citizen reads it ("From the municipal census").
SOURCES = {
    "municipal_census": _l("the municipal census"),
    "police": _l("the National Police (DNI)"),
    "civil_registry": _l("the Civil Registry"),
    "account": _l("your account"),
    "citizen": _l("you"),
}
#: The attributes a citizen record can hold.
NAMES = ("given_name", "family_name", "national_id", "birth_date", "phone", "address")
#: The keys of an address value (and of the form's address group).
ADDRESS_KEYS = ("street", "number", "floor_door", "postcode", "municipality", "province")


@dataclass(frozen=True)
class Attribute:
    name: str
    value: Any
    source: str
    updated_at: datetime
    verified: bool


def attributes(account: Account) -> dict[str, Attribute]:
    """Everything held about the account's citizen, the email included (from the account)."""
    return attributes_of([account])[account.id]


def attributes_of(accounts: list[Account]) -> dict[int, dict[str, Attribute]]:
    """The same for several accounts (a staff search's results), in one query: account id →
    attributes."""
    found: dict[int, dict[str, Attribute]] = {account.id: {} for account in accounts}
    for account in accounts:
        if account.email_verified_at is not None:
            found[account.id]["email"] = Attribute(
                "email", account.email, "account", account.email_verified_at, verified=True
            )
    rows = db.session.scalars(
        select(CitizenAttribute).where(CitizenAttribute.account_id.in_(list(found)))
    )
    for row in rows:
        value = json.loads(encryption.decrypt(row.value_encrypted))
        found[row.account_id][row.name] = Attribute(
            row.name, value, row.source, row.updated_at, row.verified
        )
    return found


def record(
    account: Account,
    name: str,
    value: Any,
    source: str,
    verified: bool = False,
    when: datetime | None = None,
) -> None:
    """Store (or replace) one attribute. The caller commits."""
    if name not in NAMES:
        raise ValueError(f"unknown attribute {name!r}")
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    row = db.session.scalar(
        select(CitizenAttribute).where(
            CitizenAttribute.account_id == account.id, CitizenAttribute.name == name
        )
    )
    if row is None:
        row = CitizenAttribute(account_id=account.id, name=name)
        db.session.add(row)
    row.value_encrypted = encryption.encrypt(json.dumps(value, ensure_ascii=False))
    row.source = source
    row.verified = verified
    row.updated_at = when or utcnow()
    if name in lookup.SEARCHABLE:
        reindex(account)


def reindex(account: Account) -> None:
    """Rebuild the account's blind index (``identity.lookup``) from its record."""
    lookup.index(account, {name: held.value for name, held in attributes(account).items()})
