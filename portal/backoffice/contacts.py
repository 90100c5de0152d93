"""Contacts from every channel: a call, a counter visit, an email or a letter, recorded by
the staff member who took it, so whoever picks up next knows what was said and promised
(the interaction history of a citizen relationship management system).

Recording one about a known person writes to their data, so it needs a purpose like any
read: the search that found them gives one for ``access.HOLD``, and an audit row
("A note of your contact with us") tells them. Reading one later asks why again. The
agency's list shows no names and no summaries, only what a supervisor needs to plan the
follow-ups; the summary is in the contact itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, func, select

from identity.models import Account, utcnow
from portal import audit
from portal.backoffice import access
from portal.backoffice.models import Contact
from portal.backoffice.staff import Staff
from portal.extensions import db
from procedures.models import Application

PAGE_SIZE = 25
SUMMARY_MAX = 5000
TOPIC_MAX = 200

CHANNELS = {
    "phone": _l("Phone call"),
    "counter": _l("Visit to an office"),
    "email": _l("Email"),
    "letter": _l("Letter"),
}
OUTCOMES = {
    "answered": _l("Answered there and then"),
    "application": _l("Helped to apply"),
    "referred": _l("Referred to another service"),
    "follow_up": _l("We must come back to them"),
}


class ContactError(ValueError):
    """A contact that cannot be recorded as given (a case of another person or agency)."""


@dataclass(frozen=True)
class Row:
    """One line of the agency's list: no name and no summary (see the module's docstring)."""

    id: int
    at: datetime
    channel: str
    topic: str
    procedure_slug: str | None
    outcome: str
    follow_up_on: date | None
    follow_up_done: bool
    identified: bool
    recorded_by: str | None


def record(
    staff: Staff,
    *,
    citizen_id: int | None,
    channel: str,
    topic: str,
    summary: str,
    outcome: str,
    procedure_slug: str | None = None,
    reference: str | None = None,
    follow_up_on: date | None = None,
    purpose: str | None = None,
    purpose_detail: str | None = None,
    at: datetime | None = None,
) -> Contact:
    """Write the contact (and, for a known person, the audit row with ``purpose``); the
    caller commits. A case reference must be one of this person's cases with this agency."""
    if channel not in CHANNELS or outcome not in OUTCOMES:
        raise ContactError(f"unknown channel or outcome: {channel!r}, {outcome!r}")
    if reference:
        owner = db.session.scalar(
            select(Application.account_id).where(Application.reference == reference)
        )
        if citizen_id is None or owner != citizen_id:
            raise ContactError(f"{reference} is not this person's case")
    contact = Contact(
        at=at or utcnow(),
        agency=staff.agency,
        citizen_account_id=citizen_id,
        recorded_by_account_id=staff.account_id,
        channel=channel,
        topic=topic.strip()[:TOPIC_MAX],
        procedure_slug=procedure_slug or None,
        reference=reference or None,
        outcome=outcome,
        follow_up_on=follow_up_on,
    )
    contact.summary = summary.strip()[:SUMMARY_MAX]
    db.session.add(contact)
    if citizen_id is not None:
        db.session.flush()
        access.record(
            staff, citizen_id, "contact", str(contact.id), purpose or "enquiry", purpose_detail
        )
    return contact


def _due(today: date) -> ColumnElement[bool]:
    return (
        Contact.follow_up_on.is_not(None)
        & (Contact.follow_up_on <= today)
        & Contact.follow_up_done_at.is_(None)
    )


def agency_list(
    staff: Staff, due_only: bool = False, page: int = 1, today: date | None = None
) -> tuple[list[Row], int, int]:
    """One page of the agency's contacts, newest first; how many match; and how many
    follow-ups are due by ``today``."""
    today = today or utcnow().date()
    where: list[ColumnElement[bool]] = [Contact.agency == staff.agency]
    due_count = db.session.scalar(select(func.count()).where(*where, _due(today))) or 0
    if due_only:
        where.append(_due(today))
    total = db.session.scalar(select(func.count()).where(*where)) or 0
    rows = db.session.execute(
        select(
            Contact.id,
            Contact.at,
            Contact.channel,
            Contact.topic,
            Contact.procedure_slug,
            Contact.outcome,
            Contact.follow_up_on,
            Contact.follow_up_done_at.is_not(None),
            Contact.citizen_account_id.is_not(None),
            Account.email,
        )
        .outerjoin(Account, Account.id == Contact.recorded_by_account_id)
        .where(*where)
        .order_by(Contact.at.desc(), Contact.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    return [Row(*row) for row in rows], total, due_count


def find(staff: Staff, contact_id: int) -> Contact | None:
    """The agency's contact; None for another agency's (the view answers 404)."""
    contact = db.session.get(Contact, contact_id)
    return contact if contact is not None and contact.agency == staff.agency else None


def current_grant(staff: Staff, contact: Contact) -> audit.DataAccess | None:
    """A purpose this staff member gave, within ``access.HOLD``, that covers reading the
    contact: one for the contact itself, or for the person (a search, their record)."""
    if contact.citizen_account_id is None:
        return None
    since = utcnow() - access.HOLD
    row = db.session.scalar(
        select(audit.DataAccess)
        .where(
            audit.DataAccess.viewer_account_id == staff.account_id,
            audit.DataAccess.citizen_account_id == contact.citizen_account_id,
            audit.DataAccess.at >= since,
            (audit.DataAccess.what.in_(("search", "record")))
            | (
                (audit.DataAccess.what == "contact")
                & (audit.DataAccess.reference == str(contact.id))
            ),
        )
        .order_by(audit.DataAccess.at.desc(), audit.DataAccess.id.desc())
        .limit(1)
    )
    if row is not None:
        access.admit(row)
    return row


def open_contact(
    staff: Staff, contact: Contact, purpose: str, detail: str | None
) -> audit.DataAccess:
    """Record why ``staff`` reads a known person's contact; the caller commits."""
    return access.record(
        staff, contact.citizen_account_id or 0, "contact", str(contact.id), purpose, detail
    )


def for_citizen(staff: Staff, citizen_id: int) -> list[Contact]:
    """The person's contacts with this agency, newest first (the 360° view's history)."""
    return list(
        db.session.scalars(
            select(Contact)
            .where(Contact.citizen_account_id == citizen_id, Contact.agency == staff.agency)
            .order_by(Contact.at.desc(), Contact.id.desc())
        )
    )


def follow_up_done(contact: Contact, now: datetime | None = None) -> None:
    if contact.follow_up_done_at is None:
        contact.follow_up_done_at = now or utcnow()
