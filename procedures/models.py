"""Applications and what hangs from them: the definition they were filled against, their
registry entry, their files and their timeline.

An application outlives the account that made it (``account_id`` is set to NULL when the
account is deleted): a submitted application is a public record the administration must
keep. Answers are encrypted at rest, as they hold identifiers, addresses and incomes.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from identity import encryption
from identity.models import UTCDateTime, utcnow
from portal.extensions import db

DRAFT = "draft"


class DefinitionSnapshot(db.Model):  # type: ignore[name-defined]
    """The exact text of a definition an application was started with, stored once per content."""

    __tablename__ = "definition_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80))
    version: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Application(db.Model):  # type: ignore[name-defined]
    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_applications_account_status", "account_id", "status"),
        #: The staff inbox's order within each state (portal.backoffice.paging), then the
        #: procedure and the paused clock, so the agency's cases (overdue, or waiting) are
        #: picked and counted from the index alone.
        Index(
            "ix_applications_inbox_order",
            "status",
            "due_at",
            "submitted_at",
            "id",
            "procedure_slug",
            "clock_paused_at",
        ),
        #: The cases sent, and the forms started, in a period (the agency's figures).
        Index("ix_applications_submitted_at", "submitted_at"),
        Index("ix_applications_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Random and public: it is in URLs and on the receipt; ids are never shown.
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    procedure_slug: Mapped[str] = mapped_column(String(80))
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("definition_snapshots.id"))
    status: Mapped[str] = mapped_column(String(40), default=DRAFT)
    #: The language the citizen applied in: emails, receipt and decisions use it.
    language: Mapped[str] = mapped_column(String(5), default="es")
    answers_encrypted: Mapped[str] = mapped_column(Text, default="")
    #: field id → {"source", "updated_at", "value"}: where a prefilled answer came from.
    provenance: Mapped[dict[str, Any]] = mapped_column(db.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Drafts only: when an untouched draft is deleted (30 days after its last change).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The legal deadline (Ley 39/2015 art. 21), moved later by the time the clock was paused.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    clock_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: How it reached us: "online" (the citizen, here) or "counter" (staff filling it in
    #: with the citizen present, who is then recorded in ``assisted_by_account_id``).
    channel: Mapped[str] = mapped_column(String(20), default="online", server_default="online")
    assisted_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    #: Coarse segments taken from the record at submission, for the agency's figures only
    #: (an age band such as "30-44", a postcode district): never a birth date or address.
    age_band: Mapped[str | None] = mapped_column(String(10))
    district: Mapped[str | None] = mapped_column(String(10))
    #: Drafts: the page the citizen had reached when they last saved one (the first still
    #: unanswered), so the agency can see where unsent forms stop (procedures.abandonment).
    reached_page: Mapped[str | None] = mapped_column(String(80))

    snapshot: Mapped[DefinitionSnapshot] = relationship()
    registry_entry: Mapped[RegistryEntry | None] = relationship(back_populates="application")
    files: Mapped[list[ApplicationFile]] = relationship(
        back_populates="application", order_by="ApplicationFile.id"
    )
    events: Mapped[list[TimelineEvent]] = relationship(
        back_populates="application", order_by="TimelineEvent.id"
    )

    @property
    def answers(self) -> dict[str, Any]:
        if not self.answers_encrypted:
            return {}
        return json.loads(encryption.decrypt(self.answers_encrypted))  # type: ignore[no-any-return]

    @answers.setter
    def answers(self, value: dict[str, Any]) -> None:
        self.answers_encrypted = encryption.encrypt(json.dumps(value, ensure_ascii=False))

    @property
    def is_draft(self) -> bool:
        return self.status == DRAFT


class RegistryCounter(db.Model):  # type: ignore[name-defined]
    """The last registry number given in a year: numbers restart at 1 each January."""

    __tablename__ = "registry_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class RegistryEntry(db.Model):  # type: ignore[name-defined]
    """The registry entry (Ley 39/2015 arts. 16.3 and 66.3): number, date and time, and a
    fingerprint of exactly what was submitted."""

    __tablename__ = "registry_entries"
    __table_args__ = (UniqueConstraint("year", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    year: Mapped[int]
    sequence: Mapped[int]
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The time zone the receipt states the time in.
    time_zone: Mapped[str] = mapped_column(String(64))
    #: SHA-256 over the canonical JSON of the answers and the SHA-256 of every file.
    sha256: Mapped[str] = mapped_column(String(64))

    application: Mapped[Application] = relationship(back_populates="registry_entry")


class ApplicationFile(db.Model):  # type: ignore[name-defined]
    __tablename__ = "application_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    field_id: Mapped[str] = mapped_column(String(80))
    #: Random name under UPLOAD_FOLDER; the citizen's file name is only ever shown.
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[Application] = relationship(back_populates="files")


class TimelineEvent(db.Model):  # type: ignore[name-defined]
    """One step in an application's life: who did what, when, and why."""

    __tablename__ = "timeline_events"
    __table_args__ = (
        #: A case's events; and its requests for information counted from the index alone.
        Index("ix_timeline_events_application_kind", "application_id", "kind"),
        #: The moves into a state in a period (the cases resolved, for the agency's figures).
        Index("ix_timeline_events_to_state_at", "to_state", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str | None] = mapped_column(String(40))
    #: citizen, staff or system
    actor: Mapped[str] = mapped_column(String(20))
    actor_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    reason: Mapped[str | None] = mapped_column(Text)
    visible_to_citizen: Mapped[bool] = mapped_column(default=True)

    application: Mapped[Application] = relationship(back_populates="events")


BOOKED = "booked"
CANCELLED = "cancelled"


class Appointment(db.Model):  # type: ignore[name-defined]
    """One citizen's place in one slot (cita previa).

    No double booking, without locks: a booking holds a numbered place (``seat``, 1 to the
    office's desks for the service) and the unique constraint lets only one booking hold
    each place. Two citizens racing for the last place both try the same number; the
    database lets one in and the other is told the time has gone. Cancelling frees the
    place (``seat`` becomes NULL, and NULLs never collide).
    """

    __tablename__ = "appointments"
    __table_args__ = (
        UniqueConstraint("office", "service", "starts_at", "seat", name="uq_appointments_place"),
        Index("ix_appointments_account_starts", "account_id", "starts_at"),
        Index("ix_appointments_starts_status", "starts_at", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Random and public: in URLs, emails and the calendar entry.
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    service: Mapped[str] = mapped_column(String(80))
    office: Mapped[str] = mapped_column(String(80))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    minutes: Mapped[int]
    seat: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(20), default=BOOKED)
    #: The procedure the appointment was booked from, when there was one.
    procedure_slug: Mapped[str | None] = mapped_column(String(80))
    language: Mapped[str] = mapped_column(String(5), default="es")
    #: From the confirmation form: a double click or a retry finds the booking it made.
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: Bumped on each change, as the calendar entry's SEQUENCE (RFC 5545 §3.8.7.4).
    sequence: Mapped[int] = mapped_column(default=0)
    #: The ``sequence`` the citizen was last emailed about: a double click emails once.
    emailed_sequence: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_booked(self) -> bool:
        return self.status == BOOKED


class IssuedDocument(db.Model):  # type: ignore[name-defined]
    """A document we issued with legal value: a registry receipt, a certificate or a resolution.

    Its Código Seguro de Verificación (``csv``) is printed on it, with the address where anyone
    holding the paper can check it is authentic and download the original (Ley 39/2015 art.
    27.3.a; Real Decreto 203/2021 art. 20). Certificates and resolutions keep the exact bytes
    issued; a receipt is drawn again from its registry entry, which never changes.
    """

    __tablename__ = "issued_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 20 symbols of 32 (100 bits): guessing one is hopeless, and the verify page is rate-limited.
    csv: Mapped[str] = mapped_column(String(20), unique=True)
    #: receipt, certificate or resolution
    kind: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), index=True)
    #: The agency that issued it (a key of agencies.yaml).
    agency: Mapped[str] = mapped_column(String(80))
    #: The title in each language it was issued in ({"es": ..., "en": ...}).
    title: Mapped[dict[str, str]] = mapped_column(db.JSON, default=dict)
    language: Mapped[str] = mapped_column(String(5), default="es")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The PDF as issued (NULL for receipts, drawn from the registry entry).
    content: Mapped[bytes | None] = mapped_column(db.LargeBinary)
    sha256: Mapped[str | None] = mapped_column(String(64))

    application: Mapped[Application | None] = relationship()
