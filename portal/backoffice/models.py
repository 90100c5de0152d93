"""Back-office tables: who is staff (agency, unit, role), who holds each case and which
unit it is routed to, the opinions units give each other, and contacts from every channel.

A staff member is an ordinary account with a membership row: they sign in where citizens
do, with the same factors, and the row adds what they may do. Assignments live here, not
on ``applications``, because holding a case is the back office's business, not the
citizen's (their export and folder never show who holds it).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from identity import encryption
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


class Contact(db.Model):  # type: ignore[name-defined]
    """A phone call, a counter visit, an email or a letter, as the staff member who took it
    recorded it: the interaction history of the citizen 360° view.

    The person is optional (someone who asks a general question need not say who they are).
    The summary is encrypted at rest, like an application's answers, since people tell the
    counter about their health, debts and families.
    """

    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_agency_at", "agency", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    agency: Mapped[str] = mapped_column(String(80))
    citizen_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    recorded_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    #: A key of ``contacts.CHANNELS``: phone, counter, email or letter.
    channel: Mapped[str] = mapped_column(String(20))
    topic: Mapped[str] = mapped_column(String(200))
    procedure_slug: Mapped[str | None] = mapped_column(String(80))
    #: The case it was about, when there is one (its public reference).
    reference: Mapped[str | None] = mapped_column(String(20))
    summary_encrypted: Mapped[str] = mapped_column(Text)
    #: A key of ``contacts.OUTCOMES``.
    outcome: Mapped[str] = mapped_column(String(20))
    follow_up_on: Mapped[date | None] = mapped_column(Date())
    follow_up_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def summary(self) -> str:
        return encryption.decrypt(self.summary_encrypted)

    @summary.setter
    def summary(self, value: str) -> None:
        self.summary_encrypted = encryption.encrypt(value)


class Opinion(db.Model):  # type: ignore[name-defined]
    """A caseworker asks another unit of the agency for its view on a case (a report, in
    Ley 39/2015 arts. 79-80). Internal: the applicant's timeline shows neither the question
    nor the answer, and the case's holder decides."""

    __tablename__ = "case_opinions"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    agency: Mapped[str] = mapped_column(String(80))
    from_unit: Mapped[str] = mapped_column(String(120))
    to_unit: Mapped[str] = mapped_column(String(120), index=True)
    question: Mapped[str] = mapped_column(Text)
    asked_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CaseRoute(db.Model):  # type: ignore[name-defined]
    """Which unit a case is routed to (a complaint goes to the unit it concerns); one row
    per case, apart from who holds it, so routing never races a claim."""

    __tablename__ = "case_routes"

    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id"), primary_key=True, autoincrement=False
    )
    unit: Mapped[str] = mapped_column(String(120), index=True)
    routed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    routed_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
