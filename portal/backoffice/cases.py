"""The agency's cases as staff work them: the inbox, one case, and what staff do to it.

The inbox selects columns, never whole applications, so listing cases reads no citizen
data (no answers, no names) and needs no purpose; opening one case does (see
``portal.backoffice.access``). Every action is a timeline event with its actor and
reason; those that concern the citizen go through ``procedures.workflow`` and
``procedures.documents``, whose signals notify the citizen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from identity.models import Account, utcnow
from portal.backoffice import decisions, paging
from portal.backoffice.models import Assignment, CaseRoute
from portal.backoffice.staff import Staff, colleagues
from portal.extensions import db
from portal.folder import my_data
from procedures import catalogue, documents, workflow
from procedures.definitions import Procedure, State
from procedures.models import DRAFT, Application, IssuedDocument, RegistryEntry, TimelineEvent

PAGE_SIZE = 25
#: Matching cases are counted up to this many: beyond it the inbox says "more than", so
#: that listing every case of a large agency, closed ones too, costs no more than a page.
COUNT_LIMIT = 10_000
#: How staff read each kind of timeline event (state changes add the new status).
TIMELINE_TITLES = {
    "submitted": _l("Application sent"),
    "information_requested": _l("Information requested from the applicant"),
    "information_provided": _l("The applicant answered"),
    "receipt_emailed": _l("Receipt emailed"),
    "notification_opened": _l("The applicant opened the formal notification"),
    "internal_note": _l("Internal note"),
    "claimed": _l("Case claimed"),
    "assigned": _l("Case assigned"),
    "decided": _l("Decision"),
    "routed": _l("Routed to a unit"),
    "opinion_requested": _l("Opinion asked of another unit"),
    "opinion_given": _l("Opinion given"),
}
ASSIGNED = ("all", "mine", "unassigned")


class NotHolderError(PermissionError):
    """Only the staff member holding a case (or a supervisor) may act on it."""


@dataclass(frozen=True)
class Filters:
    procedure: str = ""
    #: "open" (every state whose clock has not stopped), "all", or one state's key.
    state: str = "open"
    assigned: str = "all"
    overdue: bool = False
    waiting: bool = False
    #: Only procedures that follow this workflow ("complaints" for the complaints queue).
    workflow: str = ""
    #: "all", "mine" (routed to the staff member's unit) or "unrouted".
    unit: str = "all"


@dataclass(frozen=True)
class Row:
    reference: str
    number: str | None
    procedure: Procedure
    status: str
    submitted_at: datetime | None
    due_at: datetime | None
    paused: bool
    overdue: bool
    assignee: str | None
    #: The unit the case is routed to, if any.
    unit: str | None = None


def agency_procedures(agency: str) -> list[Procedure]:
    return [p for p in catalogue.current() if p.agency.key == agency]


def open_states(procedures: list[Procedure]) -> set[str]:
    return {
        key
        for procedure in procedures
        for key, state in procedure.workflow.states.items()
        if state.clock != "stopped"
    }


def states_of(procedures: list[Procedure], lang: str) -> dict[str, str]:
    """Every state the agency's workflows have, with its staff wording."""
    found: dict[str, str] = {}
    for procedure in procedures:
        for key, state in procedure.workflow.states.items():
            found.setdefault(key, state.staff(lang))
    return found


def _overdue(now: datetime, opened: set[str]) -> ColumnElement[bool]:
    return (
        (Application.due_at < now)
        & Application.clock_paused_at.is_(None)
        & Application.status.in_(opened)
    )


@dataclass(frozen=True)
class InboxPage:
    rows: list[Row]
    #: How many cases match the filters (``COUNT_LIMIT + 1`` for more than the limit), and
    #: how many of the agency's are overdue now.
    total: int
    overdue: int
    #: The references to page from: the cases before ``previous`` and after ``next``
    #: (None at the start or the end).
    previous: str | None
    next: str | None

    @property
    def beyond_count(self) -> bool:
        """More cases match than were counted."""
        return self.total > COUNT_LIMIT


class UnknownCaseError(LookupError):
    """A page was asked for from a case the agency does not have (the view answers 404)."""


def inbox(
    staff: Staff,
    filters: Filters,
    lang: str,
    after: str | None = None,
    before: str | None = None,
    now: datetime | None = None,
) -> InboxPage:
    """A page of the agency's cases, the nearest legal deadline first: the first one, the
    one after the case ``after``, or the one before the case ``before``
    (``portal.backoffice.paging``); with how many match, and how many are overdue now.

    The cases listed are those in a state of one of the agency's workflows."""
    now = now or utcnow()
    procedures = agency_procedures(staff.agency)
    if filters.workflow:
        procedures = [p for p in procedures if p.workflow.name == filters.workflow]
    by_slug = {p.slug: p for p in procedures}
    opened = open_states(procedures)
    known = {key for p in procedures for key in p.workflow.states}
    where: list[ColumnElement[bool]] = [
        Application.procedure_slug.in_(by_slug),
        Application.status != DRAFT,
    ]
    overdue_count = (
        db.session.scalar(select(func.count()).where(*where, _overdue(now, opened))) or 0
    )
    slugs = [filters.procedure] if filters.procedure in by_slug else sorted(by_slug)
    statuses = set(opened if filters.state == "open" else known)
    if filters.state not in ("open", "all"):
        statuses &= {filters.state}
    if filters.overdue:
        statuses &= opened
        where.append(_overdue(now, opened))
    if filters.waiting:  # only a state whose clock is paused keeps it paused
        statuses &= paused_states(procedures)
        where.append(Application.clock_paused_at.is_not(None))
    where += [Application.procedure_slug.in_(slugs), Application.status.in_(statuses)]
    base = select(Application.id)
    if filters.assigned in ("mine", "unassigned"):
        base = base.outerjoin(Assignment, Assignment.application_id == Application.id)
        mine = Assignment.staff_account_id == staff.account_id
        where.append(mine if filters.assigned == "mine" else Assignment.staff_account_id.is_(None))
    if filters.unit in ("mine", "unrouted"):
        base = base.outerjoin(CaseRoute, CaseRoute.application_id == Application.id)
        where.append(
            CaseRoute.unit == staff.unit if filters.unit == "mine" else CaseRoute.unit.is_(None)
        )
    base = base.where(*where)
    counted = base.limit(COUNT_LIMIT + 1).subquery()
    total = db.session.scalar(select(func.count()).select_from(counted)) or 0
    start = None
    if after or before:
        start = paging.position_of(after or before or "", by_slug)
        if start is None:
            raise UnknownCaseError(after or before)
    backwards = before is not None and after is None
    ids = paging.page_ids(base, sorted(statuses), start, backwards, PAGE_SIZE + 1)
    more = len(ids) > PAGE_SIZE
    ids = ids[:PAGE_SIZE]
    if backwards:
        ids.reverse()
    rows = _rows(ids, by_slug, opened, lang, now)
    first, last = (rows[0].reference, rows[-1].reference) if rows else (None, None)
    if backwards:
        return InboxPage(rows, total, overdue_count, first if more else None, last)
    return InboxPage(rows, total, overdue_count, first if start else None, last if more else None)


def paused_states(procedures: list[Procedure]) -> set[str]:
    return {
        key
        for procedure in procedures
        for key, state in procedure.workflow.states.items()
        if state.clock == "paused"
    }


def _rows(
    ids: list[int], by_slug: dict[str, Procedure], opened: set[str], lang: str, now: datetime
) -> list[Row]:
    """The inbox's lines for these cases, in this order: columns only, no citizen data."""
    found = db.session.execute(
        select(
            Application.id,
            Application.reference,
            Application.procedure_slug,
            Application.status,
            Application.submitted_at,
            Application.due_at,
            Application.clock_paused_at,
            RegistryEntry.number,
            Account.email,
            CaseRoute.unit,
        )
        .outerjoin(RegistryEntry, RegistryEntry.application_id == Application.id)
        .outerjoin(Assignment, Assignment.application_id == Application.id)
        .outerjoin(CaseRoute, CaseRoute.application_id == Application.id)
        .outerjoin(Account, Account.id == Assignment.staff_account_id)
        .where(Application.id.in_(ids))
    )
    by_id = {line[0]: line[1:] for line in found}
    rows = []
    for one in ids:
        reference, slug, status, submitted_at, due_at, paused_at, number, assignee, unit = by_id[
            one
        ]
        procedure = by_slug[slug]
        state = procedure.workflow.states.get(status)
        rows.append(
            Row(
                reference=reference,
                number=number,
                procedure=procedure,
                status=state.staff(lang) if state else status,
                submitted_at=submitted_at,
                due_at=due_at,
                paused=paused_at is not None,
                overdue=due_at is not None
                and paused_at is None
                and status in opened
                and due_at < now,
                assignee=assignee,
                unit=unit,
            )
        )
    return rows


def locate(staff: Staff, reference: str) -> tuple[int, int | None] | None:
    """(application id, owner's account id) of the agency's submitted case, reading no
    citizen data; None when there is no such case in this agency (the view answers 404)."""
    slugs = [p.slug for p in agency_procedures(staff.agency)]
    found = db.session.execute(
        select(Application.id, Application.account_id).where(
            Application.reference == reference,
            Application.procedure_slug.in_(slugs),
            Application.status != DRAFT,
        )
    ).first()
    return (found[0], found[1]) if found else None


@dataclass(frozen=True)
class StaffCase:
    application: Application
    procedure: Procedure
    state: State
    holder_id: int | None
    holder: str | None
    #: The applicant's record as staff read it (empty once the account is closed).
    citizen: list[my_data.Row]
    documents: list[IssuedDocument]
    #: The unit the case is routed to, if any (complaints are).
    unit: str | None = None

    @property
    def reference(self) -> str:
        return self.application.reference

    @property
    def paused(self) -> bool:
        return self.application.clock_paused_at is not None

    def days_left(self, now: datetime | None = None) -> int | None:
        due = self.application.due_at
        if due is None or self.state.clock == "stopped":
            return None
        start = self.application.clock_paused_at or now or utcnow()
        return (due - start).days

    def targets(self, by: str = "staff") -> list[str]:
        """The states staff may move the case to from where it is."""
        return [
            t.target
            for t in self.procedure.workflow.transitions
            if t.source == self.application.status and t.by == by
        ]

    @property
    def decided(self) -> str | None:
        """The resolution reached, if the case has one (even once closed)."""
        for event in reversed(self.application.events):
            if event.to_state in decisions.OUTCOMES:
                return event.to_state
        return None


def load(application_id: int) -> StaffCase:
    """The whole case; only once its reading has been recorded (the guard checks)."""
    application = db.session.scalar(
        select(Application)
        .where(Application.id == application_id)
        .options(
            selectinload(Application.registry_entry),
            selectinload(Application.snapshot),
            selectinload(Application.events),
            selectinload(Application.files),
        )
    )
    assert application is not None  # noqa: S101 - located just before
    procedure = catalogue.from_snapshot(application.snapshot)
    holder = db.session.execute(
        select(Assignment.staff_account_id, Account.email)
        .outerjoin(Account, Account.id == Assignment.staff_account_id)
        .where(Assignment.application_id == application_id)
    ).first()
    owner = db.session.get(Account, application.account_id) if application.account_id else None
    return StaffCase(
        application=application,
        procedure=procedure,
        state=procedure.workflow.states[application.status],
        holder_id=holder[0] if holder else None,
        holder=holder[1] if holder else None,
        citizen=my_data.rows(owner) if owner and owner.deleted_at is None else [],
        documents=[
            d for d in documents.for_account(owner.id, application.id) if d.kind != "receipt"
        ]
        if owner
        else [],
        unit=db.session.scalar(
            select(CaseRoute.unit).where(CaseRoute.application_id == application_id)
        ),
    )


def internal_event(application_id: int, staff: Staff, kind: str, reason: str) -> TimelineEvent:
    """A timeline event for staff only (a note, a routing, an opinion): never the citizen's."""
    event = TimelineEvent(
        application_id=application_id,
        kind=kind,
        actor="staff",
        actor_account_id=staff.account_id,
        reason=reason or None,
        visible_to_citizen=False,
    )
    db.session.add(event)
    return event


def claim(staff: Staff, application_id: int) -> bool:
    """Take an unassigned case; False when someone holds it already. The caller commits."""
    try:
        with db.session.begin_nested():
            db.session.add(
                Assignment(
                    application_id=application_id,
                    staff_account_id=staff.account_id,
                    assigned_by_account_id=staff.account_id,
                )
            )
    except IntegrityError:
        held = db.session.get(Assignment, application_id)
        if held is None or held.staff_account_id is not None:
            return False
        held.staff_account_id = staff.account_id
        held.assigned_by_account_id = staff.account_id
        held.assigned_at = utcnow()
    internal_event(application_id, staff, "claimed", "")
    return True


def assign(staff: Staff, application_id: int, to_account_id: int) -> str:
    """A supervisor gives the case to a colleague of the same agency; returns their email.
    Raises ValueError for anyone else. The caller commits."""
    emails = {one: email for one, email, _role in colleagues(staff.agency)}
    if to_account_id not in emails:
        raise ValueError("not a member of this agency")
    held = db.session.get(Assignment, application_id)
    if held is None:
        held = Assignment(application_id=application_id)
        db.session.add(held)
    held.staff_account_id = to_account_id
    held.assigned_by_account_id = staff.account_id
    held.assigned_at = utcnow()
    internal_event(application_id, staff, "assigned", emails[to_account_id])
    return emails[to_account_id]


def check_holder(staff: Staff, case: StaffCase) -> None:
    if case.holder_id != staff.account_id and not staff.may("supervisor"):
        raise NotHolderError(case.reference)


def add_note(staff: Staff, case: StaffCase, text: str) -> None:
    """An internal note: staff read it on the case; the citizen never does."""
    internal_event(case.application.id, staff, "internal_note", text)


def start_review(staff: Staff, case: StaffCase) -> None:
    check_holder(staff, case)
    workflow.change_state(case.application, case.procedure, "in_review", "staff", staff.account_id)


def request_information(staff: Staff, case: StaffCase, message: str) -> None:
    check_holder(staff, case)
    workflow.request_information(case.application, case.procedure, message, staff.account_id)


def decide(staff: Staff, case: StaffCase, outcome: str, ground: str, extra: str) -> str:
    """Resolve the case with grounds in the citizen's language; returns those grounds."""
    check_holder(staff, case)
    if outcome not in decisions.GROUNDS or ground not in decisions.GROUNDS[outcome]:
        raise ValueError(f"unknown outcome or grounds {outcome!r} {ground!r}")
    text = decisions.grounds_text(outcome, ground, extra, case.application.language)
    workflow.change_state(
        case.application,
        case.procedure,
        outcome,
        "staff",
        staff.account_id,
        reason=text,
        kind="decided",
    )
    return text


def issue_document(staff: Staff, case: StaffCase, kind: str) -> IssuedDocument:
    """The resolution (either outcome) or, for an approval, a certificate."""
    check_holder(staff, case)
    decided = case.decided
    if decided is None or (kind == "certificate" and decided != decisions.FAVOURABLE):
        raise ValueError("nothing decided that this document could state")
    decision = next(e for e in reversed(case.application.events) if e.to_state == decided)
    title, body = decisions.document_texts(
        case.application, case.procedure, kind, decision.reason or "", decision.at
    )
    return documents.issue(case.application, kind, title, body)


def close(staff: Staff, case: StaffCase, reason: str) -> None:
    check_holder(staff, case)
    workflow.change_state(
        case.application, case.procedure, "closed", "staff", staff.account_id, reason=reason
    )


def actor_names(events: list[TimelineEvent]) -> dict[int, str]:
    """Staff emails for the timeline's staff events (colleagues see who did what)."""
    ids = {e.actor_account_id for e in events if e.actor == "staff" and e.actor_account_id}
    if not ids:
        return {}
    rows = db.session.execute(select(Account.id, Account.email).where(Account.id.in_(ids)))
    return {one: email for one, email in rows}


def email_of(account_id: int | None) -> str | None:
    """A colleague's email (who filled in a counter application, say), or None."""
    if account_id is None:
        return None
    return db.session.scalar(select(Account.email).where(Account.id == account_id))
