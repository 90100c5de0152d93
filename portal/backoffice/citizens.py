"""The citizen as one agency sees them: found by identifier, name, email or phone, then
their record, their cases with this agency, the documents issued in them and what has
happened, newest first.

Finding someone already shows their name, so the search asks why first, like opening a
case: each person in the results gets a "search" row in their "Who used your data", and
opening one of them adds a "record" row with the same purpose. The purpose holds for
``access.HOLD``, as a case's does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from identity import lookup, record
from identity.models import Account, utcnow
from portal import audit
from portal.backoffice import access, cases, contacts
from portal.backoffice.models import Contact
from portal.backoffice.staff import Staff
from portal.extensions import db
from portal.folder import my_data
from procedures import catalogue
from procedures.models import DRAFT, Application, IssuedDocument, TimelineEvent

#: Results shown at most: a search that finds more is too vague to show anyone's name.
LIMIT = 10


@dataclass(frozen=True)
class Found:
    account_id: int
    name: str
    #: The identifier's last three characters only: enough to tell two namesakes apart.
    identifier_end: str
    email: str


@dataclass(frozen=True)
class Citizen:
    account: Account
    record: list[my_data.Row]
    cases: list[Application]
    documents: list[IssuedDocument]
    history: list[TimelineEvent]
    contacts: list[Contact]


def search(staff: Staff, query: str, purpose: str, detail: str | None) -> list[Found] | None:
    """Who matches ``query``, each read recorded with the purpose; None when more than
    ``LIMIT`` match (nobody's name is shown then). The caller commits."""
    ids = lookup.find(query, limit=LIMIT + 1)
    if len(ids) > LIMIT:
        return None
    for account_id in ids:  # each read recorded before anything of theirs is loaded
        access.record(staff, account_id, "search", "", purpose, detail)
    accounts = {
        account.id: account
        for account in db.session.scalars(select(Account).where(Account.id.in_(ids)))
    }
    records = record.attributes_of(list(accounts.values()))
    found = []
    for account_id in ids:  # in the order lookup.find gave them
        account = accounts[account_id]
        held = {row.name: row.value for row in my_data.rows(account, records[account_id])}
        found.append(Found(account_id, _full_name(held), held["national_id"][-3:], account.email))
    return found


def _full_name(held: dict[str, str]) -> str:
    return " ".join(part for part in (held.get("given_name"), held.get("family_name")) if part)


def name_of(account: Account) -> str:
    """The citizen's full name from their record, or their email when none is held; only
    once a purpose covers reading them."""
    held = {row.name: row.value for row in my_data.rows(account)}
    return _full_name(held) or account.email


def current_grant(
    staff: Staff, account_id: int, now: datetime | None = None
) -> audit.DataAccess | None:
    """This staff member's search or record row for the citizen within ``access.HOLD``."""
    return db.session.scalar(
        select(audit.DataAccess)
        .where(
            audit.DataAccess.viewer_account_id == staff.account_id,
            audit.DataAccess.citizen_account_id == account_id,
            audit.DataAccess.what.in_(("search", "record")),
            audit.DataAccess.at >= (now or utcnow()) - access.HOLD,
        )
        .order_by(audit.DataAccess.at.desc(), audit.DataAccess.id.desc())
        .limit(1)
    )


def open_record(staff: Staff, grant: audit.DataAccess) -> audit.DataAccess:
    """Record the opening of the whole record, for the purpose the search was made for
    (once per sitting: a record row already within the hold is the grant itself)."""
    if grant.what == "record":
        access.admit(grant)
        return grant
    return access.record(
        staff, grant.citizen_account_id or 0, "record", "", grant.purpose, grant.purpose_detail
    )


def load(staff: Staff, account_id: int, history_size: int = 30) -> Citizen | None:
    """The 360° view, with this agency's cases only; after :func:`open_record`."""
    account = db.session.get(Account, account_id)
    if account is None or account.deleted_at is not None:
        return None
    slugs = [procedure.slug for procedure in cases.agency_procedures(staff.agency)]
    applications = list(
        db.session.scalars(
            select(Application)
            .where(
                Application.account_id == account_id,
                Application.procedure_slug.in_(slugs),
                Application.status != DRAFT,
            )
            .options(selectinload(Application.snapshot), selectinload(Application.events))
            .order_by(Application.submitted_at.desc())
        )
    )
    ids = [one.id for one in applications]
    documents = list(
        db.session.scalars(
            select(IssuedDocument)
            .where(IssuedDocument.application_id.in_(ids))
            .order_by(IssuedDocument.issued_at.desc())
        )
    )
    history = sorted(
        (event for one in applications for event in one.events),
        key=lambda event: (event.at, event.id),
        reverse=True,
    )[:history_size]
    return Citizen(
        account,
        my_data.rows(account),
        applications,
        documents,
        history,
        contacts.for_citizen(staff, account_id)[:history_size],
    )


def status_of(application: Application, lang: str) -> str:
    procedure = catalogue.from_snapshot(application.snapshot)
    state = procedure.workflow.states.get(application.status)
    return state.staff(lang) if state else application.status


def describe(event: TimelineEvent, seen: Citizen, lang: str) -> str:
    """One line of the history: which case, and what happened to it, in staff wording."""
    application = next(one for one in seen.cases if one.id == event.application_id)
    procedure = catalogue.from_snapshot(application.snapshot)
    what = str(cases.TIMELINE_TITLES.get(event.kind, ""))
    state = procedure.workflow.states.get(event.to_state or "")
    if state is not None:
        what = f"{what} · {state.staff(lang)}" if what else state.staff(lang)
    if not event.visible_to_citizen:
        what = _("%(title)s (not shown to the applicant)", title=what or event.kind)
    title = procedure.text(lang).title
    return f"{title} ({application.reference}): {what or event.kind}"
