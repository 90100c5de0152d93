"""Opening a citizen's case with a stated purpose, and for how long that purpose holds.

Staff say why before they first see a case; the reason is an audit row the citizen reads in
"Who used your data". The row is also the permission: for the next ``HOLD`` the same
person may keep working on the same case (act on it, come back to it after an action)
without being asked again, so the citizen sees one line per sitting rather than one per
page load. Each file opened is a row of its own, with the case's purpose, since a file
can leave the building once downloaded.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import g, has_request_context
from sqlalchemy import select

from identity.models import utcnow
from portal import audit
from portal.backoffice.staff import Staff
from portal.extensions import db

HOLD = timedelta(minutes=30)
#: Filling in an application with the citizen at the desk can take longer than a sitting
#: over a case; the citizen is there, and reads the one line it leaves.
COUNTER_HOLD = timedelta(hours=2)


def current_grant(
    staff: Staff,
    citizen_id: int,
    reference: str,
    now: datetime | None = None,
    hold: timedelta = HOLD,
) -> audit.DataAccess | None:
    """The case's audit row this staff member wrote in the last ``hold``, if any; with one,
    this request may read the citizen's data (the guard lets it through)."""
    since = (now or utcnow()) - hold
    row = db.session.scalar(
        select(audit.DataAccess)
        .where(
            audit.DataAccess.viewer_account_id == staff.account_id,
            audit.DataAccess.citizen_account_id == citizen_id,
            audit.DataAccess.what == "case",
            audit.DataAccess.reference == reference,
            audit.DataAccess.at >= since,
        )
        .order_by(audit.DataAccess.at.desc())
        .limit(1)
    )
    if row is not None:
        admit(row)
    return row


def admit(grant: audit.DataAccess) -> None:
    """Let this request read the citizen a recent row of this staff member's covers."""
    if has_request_context() and g.get("audit_scope") is not None:
        g.audit_scope.add(grant.citizen_account_id)


def open_case(
    staff: Staff, citizen_id: int, reference: str, purpose: str, detail: str | None
) -> audit.DataAccess:
    """Record why ``staff`` opens the case; the caller commits."""
    return record(staff, citizen_id, "case", reference, purpose, detail)


def open_file(staff: Staff, grant: audit.DataAccess) -> audit.DataAccess:
    """Record a file opened within a case, for the purpose the case was opened for."""
    return record(
        staff,
        grant.citizen_account_id or 0,
        "file",
        grant.reference,
        grant.purpose,
        grant.purpose_detail,
    )


def record(
    staff: Staff, citizen_id: int, what: str, reference: str, purpose: str, detail: str | None
) -> audit.DataAccess:
    """An audit row with this staff member's agency, unit and role as they are now."""
    return audit.record_access(
        viewer_account_id=staff.account_id,
        citizen_account_id=citizen_id,
        agency=staff.agency,
        unit=staff.unit,
        role=staff.role,
        what=what,
        reference=reference,
        purpose=purpose,
        purpose_detail=detail,
    )
