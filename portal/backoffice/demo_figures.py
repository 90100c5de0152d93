"""Figures worth reading for the demo supervisor: three months of the City Council's service.

Fourteen neighbours apply, online or at the counter with the supervisor; most cases are
resolved within days, a few after a request for information (one of them late), a few
are still open; some forms were left half-way (two of them since deleted); the closed
cases were rated. Each table then has something in it, and the "who applied" tables
show figures beside small groups that are hidden. Every open case is well within its
legal deadline, so the inbox keeps exactly one overdue case (``portal.backoffice.demo``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from identity import accounts, record
from identity import demo as identity_demo
from identity.models import Account
from portal.backoffice.decisions import FAVOURABLE, UNFAVOURABLE
from portal.extensions import db
from portal.folder.satisfaction import Answer
from procedures import abandonment, applications, catalogue, samples, workflow
from procedures.abandonment import AbandonedDraft

BULKY, SPORTS = "bulky-waste-collection", "sports-centre-membership"
#: (name, born, postcode, language, [(procedure, days ago sent, days to resolve or None,
#: at the counter)]): the cases that take 30 days or more had a request for information.
NEIGHBOURS = (
    ("ines", "1988-02-11", "28999", "es", [(BULKY, 80, 3, False), (SPORTS, 25, 10, False)]),
    ("jorge", "1990-07-30", "28999", "es", [(SPORTS, 75, 12, False), (BULKY, 8, None, False)]),
    ("marc", "1986-10-02", "28999", "ca", [(BULKY, 70, 5, True)]),
    ("nuria", "1992-01-19", "28999", "es", [(SPORTS, 60, 30, False)]),
    ("pablo", "1985-05-05", "28998", "es", [(BULKY, 50, 2, False)]),
    ("rosa", "1989-12-24", "28998", "es", [(SPORTS, 40, None, False)]),
    ("sergio", "1970-03-15", "28999", "es", [(BULKY, 65, 38, False)]),  # past its deadline
    ("teresa", "1968-09-09", "28999", "en", [(SPORTS, 55, 45, False)]),
    ("ulises", "1972-06-21", "28997", "es", [(BULKY, 35, 6, True)]),
    ("victoria", "1965-11-03", "28997", "es", [(SPORTS, 20, None, False)]),
    ("xavier", "1975-04-27", "28997", "es", [(BULKY, 12, 4, False)]),
    ("yolanda", "1950-08-14", "28997", "es", [(SPORTS, 30, 15, True)]),
    ("zaid", "1948-01-01", "28997", "ar", [(BULKY, 10, None, False)]),
    ("alba", "2001-05-17", "28998", "es", [(BULKY, 45, 7, False)]),
)
#: Online forms left unsent: (name, procedure, days ago started, pages saved).
DRAFTS = (("carmen", BULKY, 6, 0), ("david", BULKY, 9, 2), ("elena", BULKY, 4, 4))
#: Drafts since deleted, as they were left: (procedure, days ago started, page reached).
DELETED = ((BULKY, 62, "pickup_address"), (SPORTS, 48, "membership_type"))
RATINGS = {BULKY: (5, 5, 4, 4, 5, 3, 4, 2), SPORTS: (4, 5, 3, 3, 5, 1)}


def load(supervisor: Account, now: datetime) -> None:
    """Add the season's cases; the caller commits (inside a request context)."""
    for name, born, postcode, lang, cases in NEIGHBOURS:
        neighbour = _neighbour(name, lang)
        record.record(neighbour, "birth_date", born, "police")
        address = {"street": "Calle Real", "number": "3", "postcode": postcode}
        record.record(neighbour, "address", {**address, "municipality": "Villanueva"}, "citizen")
        for slug, days_ago, resolve_in, counter in cases:
            helper = supervisor if counter else None
            _case(neighbour, slug, lang, now - timedelta(days=days_ago), resolve_in, helper)
    for name, slug, days_ago, saved in DRAFTS:
        procedure = catalogue.get(slug)
        started = now - timedelta(days=days_ago)
        draft = applications.start(_neighbour(name, "es"), procedure, "es", now=started)
        for page in applications.visible_pages(procedure, {})[:saved]:
            values = {field.id: samples.sample(field) for field in page.fields}
            applications.save_page(draft, procedure, page, values, now=started)
    for slug, days_ago, page in DELETED:
        started = (now - timedelta(days=days_ago)).astimezone(abandonment.zone()).date()
        db.session.add(
            AbandonedDraft(
                procedure_slug=slug,
                channel="online",
                started_on=started,
                reached_page=page,
            )
        )
    for slug, ratings in RATINGS.items():
        for n, rating in enumerate(ratings):
            month = (now - timedelta(days=20 * (n % 3))).date().replace(day=1)
            db.session.add(
                Answer(
                    procedure_slug=slug,
                    agency="city-council",
                    language="es",
                    month=month,
                    rating=rating,
                )
            )


def _neighbour(name: str, lang: str) -> Account:
    email = f"{name}@demo.portal.example"
    found = accounts.find_by_email(email) or accounts.create_account(
        email, identity_demo.PASSWORD, lang
    )
    assert found is not None  # noqa: S101 - created just above if missing
    accounts.mark_email_verified(found)
    return found


def _case(
    neighbour: Account,
    slug: str,
    lang: str,
    sent: datetime,
    resolve_in: int | None,
    helper: Account | None,
) -> None:
    procedure = catalogue.get(slug)
    helped = helper.id if helper is not None else None
    application = applications.start(neighbour, procedure, lang, now=sent, assisted_by=helped)
    samples.fill(application, procedure)
    applications.submit(application, procedure, now=sent, by_account_id=helped)
    case = (application, procedure)
    workflow.change_state(*case, "in_review", "staff", None, now=sent + timedelta(hours=20))
    if resolve_in is None:
        return
    if resolve_in >= 30:
        asked = sent + timedelta(days=4)
        message = "Adjunte el justificante de empadronamiento, por favor."
        workflow.request_information(*case, message, None, now=asked)
        workflow.answer_request(*case, "Adjunto.", [], now=asked + timedelta(days=5))
    outcome = UNFAVOURABLE if resolve_in == 45 else FAVOURABLE
    decided = sent + timedelta(days=resolve_in)
    workflow.change_state(*case, outcome, "staff", None, kind="decided", now=decided)
