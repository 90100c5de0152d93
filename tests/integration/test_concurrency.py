"""Many citizens at the same instant, on PostgreSQL (production's engine): submissions get
distinct registry numbers with no gap, and a one-place slot gets exactly one booking.

Each citizen is a thread with its own connection and session, released together by a
barrier, so the database, not Python, decides who is first. SQLite (one writer at a
time, by design) cannot race like this; ``.ci/run`` runs these in its PostgreSQL pass.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from identity import accounts
from identity.models import Account
from portal.extensions import db
from procedures import applications, appointments, catalogue, offices
from procedures.definitions import Procedure
from procedures.models import Appointment, RegistryEntry
from tests.support.applicant import sample

pytestmark = [
    pytest.mark.database,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="races need PostgreSQL; .ci/run runs them in its PostgreSQL pass",
    ),
]


def _citizens(count: int) -> list[int]:
    made = [
        accounts.create_account(f"citizen{n}@example.es", "una contraseña muy larga", "es")
        for n in range(count)
    ]
    db.session.commit()
    return [account.id for account in made]


def _all_at_once(app, ids: list[int], act: Callable[[Account], Any]) -> list[Any]:
    """Run ``act`` for every account in its own thread and session, all released together."""
    barrier = threading.Barrier(len(ids))

    def run(account_id: int) -> Any:
        with app.app_context():
            account = db.session.get(Account, account_id)
            barrier.wait(timeout=30)
            try:
                return act(account)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(ids)) as pool:
        return list(pool.map(run, ids))


def _simple_procedure() -> Procedure:
    """A procedure with neither uploads nor consultations: its answers are all samples."""
    for procedure in catalogue.current():
        if procedure.form is None or procedure.consultations:
            continue
        if all(one.type != "file" for _page, one in procedure.form.fields()):
            return procedure
    raise AssertionError("no procedure without uploads")


def test_fifty_simultaneous_submissions_get_fifty_consecutive_registry_numbers(db_app) -> None:
    procedure = _simple_procedure()
    ids = _citizens(50)
    drafts = {}
    for account_id in ids:
        application = applications.start(db.session.get(Account, account_id), procedure, "es")
        answers: dict[str, Any] = {}
        while (page := applications.first_unanswered(procedure, answers)) is not None:
            answers.update({one.id: sample(one) for one in page.fields})
        application.answers = answers
        drafts[account_id] = application.id
    db.session.commit()

    def submit(account: Account) -> str:
        from procedures.models import Application

        application = db.session.get(Application, drafts[account.id])
        submitted = applications.submit(application, catalogue.get(procedure.slug))
        return submitted.registry_entry.number

    numbers = _all_at_once(db_app, ids, submit)
    assert len(set(numbers)) == 50
    sequences = sorted(db.session.scalars(select(RegistryEntry.sequence)))
    assert sequences == list(range(1, 51))


def test_twenty_simultaneous_bookings_of_a_one_place_slot_make_one_booking(db_app) -> None:
    directory = offices.current()
    office = directory.offices["north-district"]
    service = directory.services["citizen-office"]
    assert office.desks[service.key] == 1
    first = appointments.first_day(office)
    slot = next(
        day.slots[0].starts_at
        for week in range(4)
        for day in appointments.free_days(office, service, first + timedelta(days=7 * week))
    )
    ids = _citizens(20)

    def book(account: Account) -> str:
        try:
            appointments.book(account, office, service, slot, "es")
        except appointments.SlotTaken:
            return "taken"
        return "booked"

    outcomes = _all_at_once(db_app, ids, book)
    assert sorted(outcomes) == ["booked"] + ["taken"] * 19
    held = db.session.scalar(
        select(func.count()).select_from(Appointment).where(Appointment.seat.is_not(None))
    )
    assert held == 1
