"""Opinions: the holder of a case asks another unit of the agency for its view (a report,
Ley 39/2015 arts. 79-80: "Social Services, does this family qualify?"), and a member of
that unit answers on the case itself.

The unit's queue lists what it has been asked, by case reference and date only; reading
the question means opening the case, which asks why like any other opening. Both the
question and the answer are internal: they inform the decision, which is what the
applicant receives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from identity.models import utcnow
from portal.backoffice import cases, complaints
from portal.backoffice.models import Opinion
from portal.backoffice.staff import Staff
from portal.extensions import db
from procedures.models import Application

TEXT_MAX = 5000


class OpinionError(ValueError):
    """An opinion that cannot be asked or given as requested."""


@dataclass(frozen=True)
class Asked:
    """One line of a unit's queue: which case, who asked, when, and whether it is answered."""

    id: int
    reference: str
    procedure_slug: str
    from_unit: str
    asked_at: datetime
    answered_at: datetime | None


def ask(staff: Staff, case: cases.StaffCase, to_unit: str, question: str) -> Opinion:
    """Ask ``to_unit`` for its opinion on the case; the caller commits."""
    cases.check_holder(staff, case)
    if to_unit == staff.unit or to_unit not in complaints.units(staff.agency):
        raise OpinionError(f"{to_unit!r} is not another unit of {staff.agency}")
    opinion = Opinion(
        application_id=case.application.id,
        agency=staff.agency,
        from_unit=staff.unit,
        to_unit=to_unit,
        question=question.strip()[:TEXT_MAX],
        asked_by_account_id=staff.account_id,
        asked_at=utcnow(),
    )
    db.session.add(opinion)
    cases.internal_event(case.application.id, staff, "opinion_requested", f"{to_unit}: {question}")
    return opinion


def of_case(application_id: int) -> list[Opinion]:
    return list(
        db.session.scalars(
            select(Opinion).where(Opinion.application_id == application_id).order_by(Opinion.id)
        )
    )


def for_unit(staff: Staff, pending_only: bool = True) -> list[Asked]:
    """What the staff member's unit has been asked, oldest unanswered first."""
    where = [Opinion.agency == staff.agency, Opinion.to_unit == staff.unit]
    if pending_only:
        where.append(Opinion.answered_at.is_(None))
    rows = db.session.execute(
        select(
            Opinion.id,
            Application.reference,
            Application.procedure_slug,
            Opinion.from_unit,
            Opinion.asked_at,
            Opinion.answered_at,
        )
        .join(Application, Application.id == Opinion.application_id)
        .where(*where)
        .order_by(Opinion.answered_at.is_not(None), Opinion.asked_at, Opinion.id)
        .limit(200)
    )
    return [Asked(*row) for row in rows]


def give(staff: Staff, case: cases.StaffCase, opinion_id: int, answer: str) -> Opinion:
    """Answer for the unit asked, once: a second answer (another tab, a colleague) is
    refused. The caller commits."""
    opinion = db.session.get(Opinion, opinion_id)
    if opinion is None or opinion.application_id != case.application.id:
        raise OpinionError(f"no opinion {opinion_id} on {case.reference}")
    if opinion.agency != staff.agency or opinion.to_unit != staff.unit:
        raise PermissionError(f"{staff.unit!r} was not asked")
    now = utcnow()
    claimed = db.session.execute(
        update(Opinion)
        .where(Opinion.id == opinion_id, Opinion.answered_at.is_(None))
        .values(
            answer=answer.strip()[:TEXT_MAX],
            answered_at=now,
            answered_by_account_id=staff.account_id,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        raise OpinionError(f"opinion {opinion_id} is answered already")
    db.session.refresh(opinion)
    cases.internal_event(case.application.id, staff, "opinion_given", answer.strip())
    return opinion
