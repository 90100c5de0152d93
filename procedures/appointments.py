"""Booking, changing and cancelling appointments (cita previa), and finding those to remind.

A slot can be booked from two hours from now (time to get there) up to 30 days ahead.
A citizen holds one upcoming appointment per service, as the procedure says; to move it
they change it rather than book a second one. Every write is one transaction, with the
citizen's email in the outbox; a place taken by someone else in between is a
``SlotTaken`` the page explains, never a 500 (and no email).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from identity.models import Account, utcnow
from portal.extensions import db
from procedures import emails
from procedures.applications import new_reference
from procedures.models import BOOKED, CANCELLED, Appointment
from procedures.offices import Office, Service

LEAD = timedelta(hours=2)
HORIZON = timedelta(days=30)
DAYS_PER_PAGE = 7
REMIND_BEFORE = timedelta(days=1)


class BookingError(Exception):
    """Why a booking, change or cancellation could not be made (the page says it)."""


class SlotInvalid(BookingError):
    """Not a time this office offers for this service, or outside the booking window."""


class SlotTaken(BookingError):
    """Every place at that time has gone."""


class AlreadyBooked(BookingError):
    def __init__(self, appointment: Appointment) -> None:
        super().__init__(appointment.reference)
        self.appointment = appointment


class NotChangeable(BookingError):
    """Cancelled, or its time has passed."""


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    free: int


@dataclass(frozen=True)
class Day:
    day: date
    slots: list[Slot]


def first_day(office: Office, now: datetime | None = None) -> date:
    return office.today((now or utcnow()) + LEAD)


def last_day(office: Office, now: datetime | None = None) -> date:
    return office.today((now or utcnow()) + HORIZON)


def _in_window(starts_at: datetime, now: datetime) -> bool:
    return now + LEAD <= starts_at <= now + HORIZON


def free_days(
    office: Office, service: Service, start: date, now: datetime | None = None
) -> list[Day]:
    """The days from ``start`` (a page of ``DAYS_PER_PAGE``) with their free times, in one query."""
    now = now or utcnow()
    days = [start + timedelta(days=offset) for offset in range(DAYS_PER_PAGE)]
    candidates = {
        day: [s for s in office.slots_on(day, service) if _in_window(s, now)] for day in days
    }
    every = [slot for slots in candidates.values() for slot in slots]
    if not every:
        return []
    taken = dict(
        db.session.execute(
            select(Appointment.starts_at, func.count())
            .where(
                Appointment.office == office.key,
                Appointment.service == service.key,
                Appointment.seat.is_not(None),
                Appointment.starts_at.between(min(every), max(every)),
            )
            .group_by(Appointment.starts_at)
        ).all()
    )
    desks = office.desks[service.key]
    result = []
    for day in days:
        slots = [Slot(s, desks - taken.get(s, 0)) for s in candidates[day]]
        slots = [slot for slot in slots if slot.free > 0]
        if slots:
            result.append(Day(day, slots))
    return result


def is_offered(
    office: Office, service: Service, starts_at: datetime, now: datetime | None = None
) -> bool:
    """Whether ``starts_at`` is one of the office's slots for the service, and bookable now."""
    if not _in_window(starts_at, now or utcnow()):
        return False
    return starts_at in set(office.slots_on(office.today(starts_at), service))


def upcoming(account: Account, now: datetime | None = None) -> list[Appointment]:
    return list(
        db.session.scalars(
            select(Appointment)
            .where(
                Appointment.account_id == account.id,
                Appointment.status == BOOKED,
                Appointment.starts_at > (now or utcnow()),
            )
            .order_by(Appointment.starts_at)
        )
    )


def past(account: Account, now: datetime | None = None) -> list[Appointment]:
    """Appointments that have happened or were cancelled, newest first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(Appointment)
            .where(
                Appointment.account_id == account.id,
                (Appointment.status == CANCELLED) | (Appointment.starts_at <= now),
            )
            .order_by(Appointment.starts_at.desc())
            .limit(50)
        )
    )


def upcoming_for_service(
    account: Account, service: str, now: datetime | None = None
) -> Appointment | None:
    return next((a for a in upcoming(account, now) if a.service == service), None)


def _free_seat(office: Office, service: Service, starts_at: datetime) -> int | None:
    held = set(
        db.session.scalars(
            select(Appointment.seat).where(
                Appointment.office == office.key,
                Appointment.service == service.key,
                Appointment.starts_at == starts_at,
                Appointment.seat.is_not(None),
            )
        )
    )
    return next((n for n in range(1, office.desks[service.key] + 1) if n not in held), None)


def _by_request_key(account: Account, key: str | None) -> Appointment | None:
    if not key:
        return None
    found = db.session.scalar(select(Appointment).where(Appointment.request_key == key))
    return found if found is not None and found.account_id == account.id else None


def book(
    account: Account,
    office: Office,
    service: Service,
    starts_at: datetime,
    language: str,
    request_key: str | None = None,
    procedure_slug: str | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Book a place at ``starts_at``; the same confirmation posted again returns the same one."""
    now = now or utcnow()
    made = _by_request_key(account, request_key)
    if made is not None:
        return made
    if not is_offered(office, service, starts_at, now):
        raise SlotInvalid(starts_at.isoformat())
    held = upcoming_for_service(account, service.key, now)
    if held is not None:
        if held.office == office.key and held.starts_at == starts_at:
            return held
        raise AlreadyBooked(held)
    for _ in range(office.desks[service.key] + 1):
        seat = _free_seat(office, service, starts_at)
        if seat is None:
            break
        appointment = Appointment(
            reference=new_reference(),
            account_id=account.id,
            service=service.key,
            office=office.key,
            starts_at=starts_at,
            minutes=service.minutes,
            seat=seat,
            language=language,
            request_key=request_key,
            procedure_slug=procedure_slug,
            created_at=now,
            updated_at=now,
        )
        db.session.add(appointment)
        try:
            db.session.flush()  # the seat is taken here, or IntegrityError
            emails.appointment(appointment, "booked", account)
            db.session.commit()
            return appointment
        except IntegrityError:
            # Someone took that place first, or this very form was posted twice at once.
            db.session.rollback()
            made = _by_request_key(account, request_key)
            if made is not None:
                return made
    raise SlotTaken(starts_at.isoformat())


def reschedule(
    appointment: Appointment,
    office: Office,
    service: Service,
    starts_at: datetime,
    now: datetime | None = None,
) -> Appointment:
    """Move a booking to another time at the same office, keeping its reference."""
    now = now or utcnow()
    if not appointment.is_booked or appointment.starts_at <= now:
        raise NotChangeable(appointment.reference)
    if appointment.starts_at == starts_at:
        return appointment  # posted twice: already moved
    if not is_offered(office, service, starts_at, now):
        raise SlotInvalid(starts_at.isoformat())
    for _ in range(office.desks[service.key] + 1):
        seat = _free_seat(office, service, starts_at)
        if seat is None:
            break
        appointment.starts_at = starts_at
        appointment.seat = seat
        appointment.sequence += 1
        appointment.updated_at = now
        appointment.reminded_at = None
        try:
            db.session.flush()  # the seat is taken here, or IntegrityError
            _announce(appointment, "changed")
            db.session.commit()
            return appointment
        except IntegrityError:
            db.session.rollback()
            if appointment.starts_at == starts_at:
                return appointment
    raise SlotTaken(starts_at.isoformat())


def cancel(appointment: Appointment, now: datetime | None = None) -> bool:
    """Free the place. False when it was already cancelled (a second click changes nothing)."""
    now = now or utcnow()
    if appointment.status == CANCELLED:
        return False
    if appointment.starts_at <= now:
        raise NotChangeable(appointment.reference)
    _release(appointment, now)
    _announce(appointment, "cancelled")
    db.session.commit()
    return True


def _announce(appointment: Appointment, kind: str) -> None:
    """The citizen's email about the change, in its transaction."""
    account = db.session.get(Account, appointment.account_id) if appointment.account_id else None
    if account is not None:
        emails.appointment(appointment, kind, account)


def _release(appointment: Appointment, now: datetime) -> None:
    appointment.status = CANCELLED
    appointment.seat = None
    appointment.cancelled_at = now
    appointment.updated_at = now
    appointment.sequence += 1


def release_upcoming(account: Account, **_: object) -> None:
    """The account is closing: its upcoming appointments free their places for others.
    The caller commits."""
    now = utcnow()
    for appointment in upcoming(account, now):
        _release(appointment, now)


def to_remind(now: datetime | None = None) -> list[tuple[Appointment, Account]]:
    """Booked appointments starting within a day, not yet reminded, and booked (or moved)
    more than a day before (someone who booked this morning for tomorrow already knows),
    each with its citizen, in one query."""
    now = now or utcnow()
    rows = db.session.execute(
        select(Appointment, Account)
        .join(Account, Account.id == Appointment.account_id)
        .where(
            Appointment.status == BOOKED,
            Appointment.reminded_at.is_(None),
            Appointment.starts_at > now,
            Appointment.starts_at <= now + REMIND_BEFORE,
        )
    )
    return [(a, account) for a, account in rows if a.updated_at <= a.starts_at - REMIND_BEFORE]
