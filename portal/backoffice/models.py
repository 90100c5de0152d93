"""Back-office tables: who is staff (agency, unit, role) and who holds each case.

A staff member is an ordinary account with a membership row: they sign in where citizens
do, with the same factors, and the row adds what they may do. Assignments live here, not
on ``applications``, because holding a case is the back office's business, not the
citizen's (their export and folder never show who holds it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from identity.models import UTCDateTime, utcnow
from portal.extensions import db


class StaffMember(db.Model):  # type: ignore[name-defined]
    __tablename__ = "staff_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), unique=True
    )
    #: A key of agencies.yaml: staff see that agency's cases and no other.
    agency: Mapped[str] = mapped_column(String(80), index=True)
    unit: Mapped[str] = mapped_column(String(120))
    #: A key of portal.audit.ROLES: caseworker, supervisor or administrator.
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Assignment(db.Model):  # type: ignore[name-defined]
    """Who holds a case. One row per case (the primary key): claiming is an INSERT, so two
    caseworkers claiming at once cannot both win."""

    __tablename__ = "case_assignments"

    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id"), primary_key=True, autoincrement=False
    )
    staff_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    assigned_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
