"""Who is staff, and what each role may do.

Roles nest: a supervisor may do what a caseworker does and also assign cases; an
administrator may do what a supervisor does and also manage their agency's staff. Every
staff page needs a second factor in this session (NIST 800-63B AAL2); an administrator's
session needs a phishing-resistant one, a passkey or a security key (WebAuthn), because
their account can make more staff.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g
from sqlalchemy import delete, select

from identity.models import Account, AccountSession
from portal.audit import ROLES
from portal.backoffice.models import StaffMember
from portal.extensions import db

RANK = {"caseworker": 1, "supervisor": 2, "administrator": 3}
#: amr values (RFC 8176) that only WebAuthn gives: a hardware or software key.
PHISHING_RESISTANT = frozenset({"hwk", "swk"})


class StaffError(ValueError):
    """An agency, role or account that cannot become staff."""


@dataclass(frozen=True)
class Staff:
    """The signed-in staff member, as the views and the audit rows need them."""

    member: StaffMember
    account: Account

    @property
    def account_id(self) -> int:
        return self.account.id

    @property
    def agency(self) -> str:
        return self.member.agency

    @property
    def unit(self) -> str:
        return self.member.unit

    @property
    def role(self) -> str:
        return self.member.role

    def may(self, role: str) -> bool:
        """True when this member's role is ``role`` or above it."""
        return RANK[self.member.role] >= RANK[role]


def membership(account_id: int) -> StaffMember | None:
    """The account's active membership, or None for a citizen (or disabled staff)."""
    return db.session.scalar(
        select(StaffMember).where(
            StaffMember.account_id == account_id, StaffMember.disabled_at.is_(None)
        )
    )


def current() -> Staff:
    """The staff member of this request (set by the back office's before_request)."""
    return g.staff  # type: ignore[no-any-return]


def session_strong_enough(member: StaffMember, session: AccountSession | None) -> bool:
    if session is None or session.aal < 2:
        return False
    if member.role == "administrator":
        return bool(PHISHING_RESISTANT & set(session.amr or []))
    return True


def make_staff(account: Account, agency: str, unit: str, role: str) -> StaffMember:
    """Make ``account`` a member of ``agency``'s ``unit`` with ``role``; the caller commits.
    An existing membership is updated (moving unit or role), never duplicated."""
    from procedures import catalogue

    if agency not in catalogue.current().agencies:
        raise StaffError(f"unknown agency {agency!r}")
    if role not in ROLES:
        raise StaffError(f"unknown role {role!r}")
    if not unit.strip():
        raise StaffError("a staff member belongs to a unit")
    member = db.session.scalar(select(StaffMember).where(StaffMember.account_id == account.id))
    if member is None:
        member = StaffMember(account_id=account.id)
        db.session.add(member)
    member.agency, member.unit, member.role = agency, unit.strip(), role
    member.disabled_at = None
    return member


def forget(account: Account, **_: object) -> None:
    """A closed account is no one's colleague: its membership goes with it."""
    db.session.execute(delete(StaffMember).where(StaffMember.account_id == account.id))


def colleagues(agency: str) -> list[tuple[int, str, str]]:
    """(account id, email, role) of the agency's active staff, by email: who a case can go to."""
    rows = db.session.execute(
        select(Account.id, Account.email, StaffMember.role)
        .join(StaffMember, StaffMember.account_id == Account.id)
        .where(StaffMember.agency == agency, StaffMember.disabled_at.is_(None))
        .order_by(Account.email)
    )
    return [(one, email, role) for one, email, role in rows]
