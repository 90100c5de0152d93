"""Counter mode: staff start and fill in an application for a citizen who is at the desk
with them (CONSUL's "counter" role; Ley 39/2015 art. 12.2 obliges the administration to
help those who apply with it in person).

The application is the citizen's from the first moment: it is in their folder, prefilled
from their record, its receipt goes to their email and they can finish it themselves. It
records the channel ("counter") and who helped, and the staff member fills it in through
the same question pages the citizen uses, under a recorded purpose ("To help you at an
office, with you present") that holds for ``access.COUNTER_HOLD``.
"""

from __future__ import annotations

from flask import has_request_context

from identity import signin
from identity.models import Account
from portal.backoffice import access, cases, staff
from portal.backoffice.staff import Staff
from portal.extensions import db
from procedures import applications, catalogue
from procedures.definitions import Procedure
from procedures.models import Application

PURPOSE = "counter"


def procedures_for(member: Staff) -> list[Procedure]:
    """What an agency's counter can start: its procedures with an online form."""
    return [one for one in cases.agency_procedures(member.agency) if one.form is not None]


def start(member: Staff, citizen: Account, procedure: Procedure, lang: str) -> Application:
    """The citizen's draft of ``procedure`` (a new one, or the one they left), marked as
    assisted by ``member``, and the purpose recorded; committed."""
    if procedure.agency.key != member.agency or procedure.form is None:
        raise ValueError(f"{member.agency} cannot start {procedure.slug}")
    application = applications.start(citizen, procedure, lang, assisted_by=member.account_id)
    access.open_case(member, citizen.id, application.reference, PURPOSE, None)
    db.session.commit()
    return application


def may_assist(application: Application, account_id: int) -> bool:
    """``procedures.applications.may_fill``'s rule for staff: still staff of the procedure's
    agency, with a second factor in this session, and a counter purpose for this case
    recorded within ``access.COUNTER_HOLD``."""
    member = staff.membership(account_id)
    procedure = catalogue.get(application.procedure_slug)
    if member is None or procedure is None or procedure.agency.key != member.agency:
        return False
    if not has_request_context() or not staff.session_strong_enough(
        member, signin.current_session()
    ):
        return False
    account = db.session.get(Account, account_id)
    if account is None or application.account_id is None:
        return False
    grant = access.current_grant(
        Staff(member, account),
        application.account_id,
        application.reference,
        hold=access.COUNTER_HOLD,
    )
    return grant is not None and grant.purpose == PURPOSE
