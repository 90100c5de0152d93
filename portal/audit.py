"""Who used my data: every time staff open a citizen's record, case, document or file.

Staff views call :func:`record_access` with a stated purpose before they read; the citizen
sees each row in their folder (as Estonia's data tracker shows). So that no staff view can
forget, :func:`guard` puts a blueprint under watch: while one of its views runs, loading
a citizen's data (applications, attributes, documents, appointments) for a citizen not
yet recorded in this request raises :class:`UnauditedReadError`. Failing closed turns a
forgotten call into an error page and a failing test, never a silent read.

The rows keep the agency, unit and role as they were at the time of reading: a caseworker
who later moves unit does not rewrite what the citizen was told.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from identity.models import CitizenAttribute, UTCDateTime, utcnow
from portal.extensions import db
from procedures.models import Application, Appointment, IssuedDocument

#: What was opened, as the citizen reads it.
WHAT = {
    "record": _l("Your personal record"),
    "search": _l("Your name, shown in a staff search"),
    "case": _l("Your application"),
    "document": _l("A document issued to you"),
    "file": _l("A file you sent"),
    "contact": _l("A note of your contact with us"),
}
#: Why, from the list staff choose from (or "other", with their own words).
PURPOSES = {
    "case_handling": _l("To handle your application"),
    "enquiry": _l("To answer a question you asked us"),
    "correction": _l("To correct your data at your request"),
    "counter": _l("To help you at an office, with you present"),
    "document": _l("To issue a document you asked for"),
    "legal_duty": _l("To meet a legal obligation"),
    "other": _l("Another reason"),
}
ROLES = {
    "caseworker": _l("Caseworker"),
    "supervisor": _l("Supervisor"),
    "administrator": _l("Administrator"),
}
#: The models that hold a citizen's data, each with its owner's account id column.
WATCHED = (Application, CitizenAttribute, IssuedDocument, Appointment)
GUARDED_BLUEPRINTS: set[str] = set()


class UnauditedReadError(RuntimeError):
    """A staff view loaded a citizen's data without recording why."""


class DataAccess(db.Model):  # type: ignore[name-defined]
    __tablename__ = "data_accesses"
    __table_args__ = (Index("ix_data_accesses_citizen_at", "citizen_account_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Kept when the citizen deletes their account: the administration must still answer for it.
    citizen_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    viewer_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    #: A key of agencies.yaml, the unit's name and a key of ROLES, as they were at the time.
    agency: Mapped[str] = mapped_column(String(80))
    unit: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    #: A key of WHAT, and the reference of the case, the CSV of the document, or empty.
    what: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(40), default="")
    purpose: Mapped[str] = mapped_column(String(40))
    #: The staff member's own words, when the purpose is "other" (or to add detail).
    purpose_detail: Mapped[str | None] = mapped_column(Text)


def record_access(
    *,
    viewer_account_id: int | None,
    citizen_account_id: int,
    agency: str,
    unit: str,
    role: str,
    what: str,
    purpose: str,
    reference: str = "",
    purpose_detail: str | None = None,
    at: datetime | None = None,
) -> DataAccess:
    """Record a read about to happen, in the caller's transaction; from then on this request
    may load the citizen's data. Raises ValueError for an unknown what, purpose or role, or
    for "other" without words."""
    if what not in WHAT or purpose not in PURPOSES or role not in ROLES:
        raise ValueError(f"unknown what, purpose or role: {what!r}, {purpose!r}, {role!r}")
    if purpose == "other" and not (purpose_detail or "").strip():
        raise ValueError("the purpose 'other' needs the staff member's own words")
    row = DataAccess(
        at=at or utcnow(),
        citizen_account_id=citizen_account_id,
        viewer_account_id=viewer_account_id,
        agency=agency,
        unit=unit,
        role=role,
        what=what,
        reference=reference,
        purpose=purpose,
        purpose_detail=(purpose_detail or "").strip() or None,
    )
    db.session.add(row)
    if has_request_context() and g.get("audit_scope") is not None:
        g.audit_scope.add(citizen_account_id)
    return row


def guard(blueprint: Blueprint) -> None:
    """Watch every view of ``blueprint``: staff areas call this when they are registered."""
    GUARDED_BLUEPRINTS.add(blueprint.name)
    blueprint.before_request(_open_scope)


def _open_scope() -> None:
    g.audit_scope = set()


def _on_load(target: Any, _context: Any) -> None:
    if not has_request_context():
        return
    scope = g.get("audit_scope")
    owner = getattr(target, "account_id", None)
    if scope is None or owner is None or owner in scope:
        return
    raise UnauditedReadError(
        f"{type(target).__name__} of account {owner} read without audit.record_access()"
    )


def init_app(app: Flask) -> None:
    for model in WATCHED:
        if not event.contains(model, "load", _on_load):
            event.listen(model, "load", _on_load)
