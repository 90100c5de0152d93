"""An agency's administrators manage its staff: who is a member, of which unit, in which
role, and who no longer is.

Staff are people with an ordinary account (they registered like anyone, with their own
second factor), so an administrator adds an existing, confirmed account by its email
rather than inventing passwords. Administrators act on their own agency only, and never
on themselves (no one locks themselves out or promotes themselves). Every change is a
line in the person's security history, as a new sign-in method would be.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from identity import events
from identity.events import EventKind
from identity.models import Account, Factor, FactorKind, utcnow
from portal.audit import ROLES
from portal.backoffice.models import StaffMember
from portal.backoffice.staff import Staff, make_staff
from portal.extensions import db

UNIT_MAX = 120
PHISHING_RESISTANT_KINDS = (FactorKind.PASSKEY, FactorKind.SECURITY_KEY)


class TeamError(ValueError):
    """A change an administrator may not make; ``code`` names which, for the form."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Member:
    id: int
    account_id: int
    email: str
    unit: str
    role: str
    since: datetime
    disabled: bool
    #: Has a passkey or security key (required of administrators).
    phishing_resistant: bool
    #: Has any second factor (every staff page needs one in the session).
    second_factor: bool


def members(agency: str) -> list[Member]:
    """The agency's staff, active first, by unit and email (one query)."""
    strong = (
        select(func.count(Factor.id))
        .where(Factor.account_id == Account.id, Factor.kind.in_(PHISHING_RESISTANT_KINDS))
        .scalar_subquery()
    )
    any_factor = select(func.count(Factor.id)).where(Factor.account_id == Account.id)
    rows = db.session.execute(
        select(
            StaffMember.id,
            Account.id,
            Account.email,
            StaffMember.unit,
            StaffMember.role,
            StaffMember.created_at,
            StaffMember.disabled_at.is_not(None),
            strong,
            any_factor.scalar_subquery(),
        )
        .join(Account, Account.id == StaffMember.account_id)
        .where(StaffMember.agency == agency)
        .order_by(StaffMember.disabled_at.is_not(None), StaffMember.unit, Account.email)
    )
    return [
        Member(one, account, email, unit, role, since, disabled, bool(keys), bool(factors))
        for one, account, email, unit, role, since, disabled, keys, factors in rows
    ]


def _check_role(account: Account, role: str) -> None:
    if role not in ROLES:
        raise TeamError("role")
    if role == "administrator" and not account.factors_of(*PHISHING_RESISTANT_KINDS):
        raise TeamError("administrator_needs_key")


def add(admin: Staff, email: str, unit: str, role: str) -> StaffMember:
    """Make the account with ``email`` a member of the admin's agency; the caller commits."""
    account = db.session.scalar(
        select(Account).where(Account.email == email.strip().lower(), Account.deleted_at.is_(None))
    )
    if account is None or account.email_verified_at is None:
        raise TeamError("no_account")
    if account.id == admin.account_id:
        raise TeamError("yourself")
    existing = db.session.scalar(select(StaffMember).where(StaffMember.account_id == account.id))
    if existing is not None and existing.agency != admin.agency:
        raise TeamError("other_agency")
    if existing is not None and existing.disabled_at is None:
        raise TeamError("already")
    _check_role(account, role)
    member = make_staff(account, admin.agency, unit, role)
    events.record(account, EventKind.STAFF_ACCESS_CHANGED, name=unit.strip())
    return member


def find(admin: Staff, member_id: int) -> StaffMember | None:
    """A member of the admin's agency; None for anyone else's (the view answers 404)."""
    member = db.session.get(StaffMember, member_id)
    return member if member is not None and member.agency == admin.agency else None


def change(admin: Staff, member: StaffMember, unit: str, role: str) -> None:
    """Move the member to another unit or role; the caller commits."""
    if member.account_id == admin.account_id:
        raise TeamError("yourself")
    account = db.session.get(Account, member.account_id)
    assert account is not None  # noqa: S101 - a membership's account is kept
    _check_role(account, role)
    if (member.unit, member.role) == (unit.strip(), role):
        return
    member.unit, member.role = unit.strip(), role
    events.record(account, EventKind.STAFF_ACCESS_CHANGED, name=member.unit)


def set_active(
    admin: Staff, member: StaffMember, active: bool, now: datetime | None = None
) -> None:
    """Withdraw staff access (their cases stay, held by them until reassigned) or give it
    back; the caller commits."""
    if member.account_id == admin.account_id:
        raise TeamError("yourself")
    if active == (member.disabled_at is None):
        return
    member.disabled_at = None if active else (now or utcnow())
    account = db.session.get(Account, member.account_id)
    assert account is not None  # noqa: S101 - a membership's account is kept
    events.record(account, EventKind.STAFF_ACCESS_CHANGED, name=member.unit)
