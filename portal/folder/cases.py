"""A citizen's cases as the folder shows them: status in citizen wording, the legal clock,
and what is waiting for them.

Each page loads the cases it shows with their registry entry, definition and timeline in
a fixed number of queries (``selectinload``), so a folder with a thousand cases costs the
same number of round trips as one with ten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from identity.models import utcnow
from portal.extensions import db
from procedures import catalogue, workflow
from procedures.applications import REMIND_BEFORE
from procedures.definitions import Procedure
from procedures.models import DRAFT, Application

PAGE_SIZE = 20


@dataclass(frozen=True)
class Case:
    application: Application
    procedure: Procedure
    #: The state as the citizen reads it ("We need information from you").
    status: str
    #: The state's clock: runs, paused or stopped.
    clock: str
    request: workflow.InformationRequest | None

    @property
    def reference(self) -> str:
        return self.application.reference

    @property
    def number(self) -> str | None:
        entry = self.application.registry_entry
        return entry.number if entry else None

    def days_left(self, now: datetime | None = None) -> int | None:
        """Whole days until the legal deadline; while paused, the days left when it restarts."""
        due = self.application.due_at
        if due is None or self.clock == "stopped":
            return None
        start = self.application.clock_paused_at or now or utcnow()
        return max(0, (due - start).days)

    def title(self, lang: str) -> str:
        return self.procedure.text(lang).title


def _loaded() -> list[object]:
    return [
        selectinload(Application.registry_entry),
        selectinload(Application.snapshot),
        selectinload(Application.events),
    ]


def _case(application: Application, lang: str) -> Case:
    procedure = catalogue.from_snapshot(application.snapshot)
    state = procedure.workflow.states.get(application.status)
    if state is None:  # a draft: not yet in the workflow
        return Case(application, procedure, "", "stopped", None)
    return Case(
        application,
        procedure,
        state.citizen(lang),
        state.clock,
        workflow.open_request(application, procedure),
    )


def submitted(
    account_id: int, lang: str, page: int = 1, size: int = PAGE_SIZE
) -> tuple[list[Case], int]:
    """One page of the citizen's submitted cases, newest first, and how many there are."""
    where = (Application.account_id == account_id, Application.status != DRAFT)
    total = db.session.scalar(select(func.count()).select_from(Application).where(*where)) or 0
    rows = db.session.scalars(
        select(Application)
        .where(*where)
        .options(*_loaded())
        .order_by(Application.submitted_at.desc(), Application.id.desc())
        .limit(size)
        .offset((max(page, 1) - 1) * size)
    )
    return [_case(one, lang) for one in rows], total


def drafts(account_id: int, lang: str) -> list[Case]:
    rows = db.session.scalars(
        select(Application)
        .where(Application.account_id == account_id, Application.status == DRAFT)
        .options(selectinload(Application.snapshot))
        .order_by(Application.expires_at)
    )
    return [_case(one, lang) for one in rows]


def waiting_for_citizen(account_id: int, lang: str) -> list[Case]:
    """Cases whose clock is paused for the citizen, the soonest answer first."""
    paused = db.session.scalars(
        select(Application)
        .where(Application.account_id == account_id, Application.clock_paused_at.is_not(None))
        .options(*_loaded())
    )
    found = [case for case in (_case(one, lang) for one in paused) if case.request]
    return sorted(found, key=lambda case: case.request.answer_by)  # type: ignore[union-attr]


def expiring_drafts(account_id: int, lang: str, now: datetime | None = None) -> list[Case]:
    limit = (now or utcnow()) + REMIND_BEFORE
    return [
        case
        for case in drafts(account_id, lang)
        if case.application.expires_at and case.application.expires_at <= limit
    ]


def find(account_id: int, reference: str, lang: str) -> Case | None:
    """The citizen's own case; None for anyone else's, so the view answers 404 either way."""
    application = db.session.scalar(
        select(Application)
        .where(Application.reference == reference, Application.account_id == account_id)
        .options(*_loaded(), selectinload(Application.files))
    )
    if application is None or application.is_draft:
        return None
    return _case(application, lang)


def recent(account_id: int, lang: str, count: int = 3) -> list[Case]:
    return submitted(account_id, lang, size=count)[0]
