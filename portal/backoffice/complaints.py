"""Complaints and suggestions: their own queue, routing to the unit concerned, a reply.

A complaint follows the ``complaints`` workflow (procedures/definitions/workflows): it is
not an administrative procedure, so it ends with a reply rather than a decision. The
queue is the inbox restricted to that workflow, with the unit each case is routed to;
routing is a row of its own (``CaseRoute``) beside who holds the case, so a supervisor
sending a complaint to Parks never races a caseworker claiming it. The reply is written
in the person's language by the staff member and reaches them as a notification (and an
email, if they want them), never as a formal notification.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from identity.models import utcnow
from portal.backoffice import cases
from portal.backoffice.models import CaseRoute, StaffMember
from portal.backoffice.staff import Staff
from portal.extensions import db
from procedures import workflow

WORKFLOW = "complaints"
ANSWERED = "answered"
REPLY_MAX = 5000

UNITS = {
    "all": _l("Any unit, or none yet"),
    "mine": _l("Your unit"),
    "unrouted": _l("Not routed yet"),
}


def is_complaint(case: cases.StaffCase) -> bool:
    return case.procedure.workflow.name == WORKFLOW


def units(agency: str) -> list[str]:
    """The agency's units: those its active staff belong to, by name."""
    return list(
        db.session.scalars(
            select(StaffMember.unit)
            .where(StaffMember.agency == agency, StaffMember.disabled_at.is_(None))
            .distinct()
            .order_by(StaffMember.unit)
        )
    )


def route(staff: Staff, case: cases.StaffCase, unit: str, now: datetime | None = None) -> None:
    """Send the complaint to ``unit`` (or to another one); a new complaint starts being looked
    at, which the person is told. The caller commits. Only the holder or a supervisor."""
    cases.check_holder(staff, case)
    if unit not in units(staff.agency):
        raise ValueError(f"{unit!r} is not a unit of {staff.agency}")
    now = now or utcnow()
    row = db.session.get(CaseRoute, case.application.id)
    if row is None:
        row = CaseRoute(application_id=case.application.id)
        db.session.add(row)
    elif row.unit == unit:
        return
    row.unit, row.routed_at, row.routed_by_account_id = unit, now, staff.account_id
    cases.internal_event(case.application.id, staff, "routed", unit)
    if case.application.status == case.procedure.workflow.initial and "in_review" in case.targets():
        workflow.change_state(
            case.application, case.procedure, "in_review", "staff", staff.account_id, now=now
        )


def reply(staff: Staff, case: cases.StaffCase, text: str) -> None:
    """Answer the person: the text is the reason of the move to ``answered``, which is how
    their timeline and their notification show it. The caller commits."""
    cases.check_holder(staff, case)
    workflow.change_state(
        case.application, case.procedure, ANSWERED, "staff", staff.account_id, reason=text
    )
