"""A daily email to each staff member holding cases past their legal deadline.

The inbox already shows overdue cases to whoever opens it; this reaches the holder who
does not (on leave, busy elsewhere) before the citizen has to ask. One email per person
per day (the worker's ``overdue-cases`` job), listing their cases by reference and
procedure only: no citizen's name or data leaves the back office by email, and reading a
case still needs the staff area, its second factor and a purpose.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import render_template
from flask_babel import ngettext
from sqlalchemy import select

from identity.models import Account, utcnow
from portal import mail, outbox
from portal.backoffice.models import Assignment, StaffMember
from portal.extensions import db
from portal.i18n import writing_in
from procedures import catalogue
from procedures.models import DRAFT, Application

#: The email lists this many cases; the link to the inbox shows them all.
LISTED = 20


@dataclass(frozen=True)
class Overdue:
    reference: str
    procedure_slug: str
    due_at: datetime


def overdue_by_holder(now: datetime) -> dict[int, list[Overdue]]:
    """Staff account id → their open, unpaused cases past the legal deadline, earliest
    deadline first; only active staff of the case's agency. Columns, not applications, as
    the inbox reads them: nothing of the citizen's is loaded."""
    rows = db.session.execute(
        select(
            Application.reference,
            Application.procedure_slug,
            Application.status,
            Application.due_at,
            Assignment.staff_account_id,
            StaffMember.agency,
        )
        .join(Assignment, Assignment.application_id == Application.id)
        .join(StaffMember, StaffMember.account_id == Assignment.staff_account_id)
        .where(
            Application.status != DRAFT,
            Application.due_at < now,
            Application.clock_paused_at.is_(None),
            StaffMember.disabled_at.is_(None),
        )
        .order_by(Application.due_at, Application.id)
    )
    found: dict[int, list[Overdue]] = defaultdict(list)
    for reference, slug, status, due_at, holder, agency in rows:
        procedure = catalogue.get(slug)
        if procedure is None or procedure.agency.key != agency:
            continue
        state = procedure.workflow.states.get(status)
        if state is None or state.clock == "stopped":
            continue
        found[holder].append(Overdue(reference, slug, due_at))
    return dict(found)


def remind_holders(now: datetime | None = None) -> int:
    """Enqueue each holder's digest; how many. The caller (the worker's scheduler) commits,
    in the transaction that records the day's run, so a day's digest is sent once."""
    now = now or utcnow()
    sent = 0
    for holder, cases in overdue_by_holder(now).items():
        account = db.session.get(Account, holder)
        if account is None or account.disabled_at is not None:
            continue
        outbox.enqueue(_email(account, cases), "backoffice.overdue_cases")
        sent += 1
    return sent


def _email(account: Account, cases: list[Overdue]) -> mail.Email:
    lang = account.language
    zone = ZoneInfo(account.time_zone)
    with writing_in(lang):
        subject = ngettext(
            "You hold %(num)s case past its legal deadline",
            "You hold %(num)s cases past their legal deadline",
            len(cases),
        )
        listed = []
        for case in cases[:LISTED]:
            procedure = catalogue.get(case.procedure_slug)
            assert procedure is not None  # noqa: S101 - filtered in overdue_by_holder
            due = format_date(case.due_at.astimezone(zone).date(), "long", locale=lang)
            listed.append((case.reference, procedure.text(lang).title, due))
        context = {
            "subject": subject,
            "lang": lang,
            "cases": listed,
            "more": len(cases) - len(listed),
            "link": mail.public_url("backoffice.inbox", lang=lang, assigned="mine", overdue="1"),
        }
        text = render_template("backoffice/email/overdue.txt", **context)
        html = render_template("backoffice/email/overdue.html", **context)
    return mail.Email(to=account.email, subject=subject, text=text, html=html, language=lang)
