"""The emails a citizen gets about an application, in the language they applied in."""

from __future__ import annotations

from datetime import datetime

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from identity.models import Account, utcnow
from portal import mail
from portal.extensions import db
from portal.mail import public_url
from procedures import calendar, catalogue, labels, offices
from procedures.definitions import Procedure
from procedures.models import Application, Appointment, TimelineEvent


def submitted(application: Application, procedure: Procedure, account: Account) -> None:
    """The confirmation with the registry number; recorded so a resubmission does not resend it."""
    lang = application.language
    with force_locale(lang):
        entry = application.registry_entry
        assert entry is not None  # noqa: S101 - for the type checker; guaranteed by the caller
        subject = _("Application received: %(number)s", number=entry.number)
        context = {
            "subject": subject,
            "lang": lang,
            "application": application,
            "procedure": procedure,
            "entry": entry,
            "link": public_url(
                "applications.confirmation", lang=lang, reference=application.reference
            ),
        }
        text = render_template("procedures/email/submitted.txt", **context)
        html = render_template("procedures/email/submitted.html", **context)
    mail.send(mail.Email(to=account.email, subject=subject, text=text, html=html, language=lang))
    db.session.add(
        TimelineEvent(
            application_id=application.id,
            kind="receipt_emailed",
            actor="system",
            visible_to_citizen=False,
        )
    )
    db.session.commit()


APPOINTMENT_SUBJECTS = {
    "booked": lambda when: _("Appointment booked: %(when)s", when=when),
    "changed": lambda when: _("Appointment changed: %(when)s", when=when),
    "cancelled": lambda when: _("Appointment cancelled: %(when)s", when=when),
    "reminder": lambda when: _("Reminder: your appointment on %(when)s", when=when),
}


def _claim(appointment: Appointment, kind: str, now: datetime) -> bool:
    """Mark the email as sent before sending it, in one conditional UPDATE: of two requests
    racing (a double click), only one wins, so the citizen gets one email, not two."""
    table = Appointment.__table__
    if kind == "reminder":
        condition = table.c.reminded_at.is_(None)
        values = {"reminded_at": now}
    else:
        condition = table.c.emailed_sequence.is_(None) | (
            table.c.emailed_sequence < appointment.sequence
        )
        values = {"emailed_sequence": appointment.sequence}
    claimed = db.session.execute(
        table.update().where(table.c.id == appointment.id, condition).values(**values)
    ).rowcount
    db.session.commit()
    return bool(claimed)


def appointment(
    appointment: Appointment, kind: str, account: Account, now: datetime | None = None
) -> bool:
    """Booked, changed, cancelled or tomorrow: the email, in the language it was booked in,
    with the calendar entry attached. False when it had already been sent."""
    if not _claim(appointment, kind, now or utcnow()):
        return False
    directory = offices.current()
    office = directory.offices[appointment.office]
    service = directory.services[appointment.service]
    procedure = catalogue.get(appointment.procedure_slug or "")
    lang = appointment.language
    with force_locale(lang):
        when = labels.office_date(appointment.starts_at, office.time_zone)
        time = labels.office_time(appointment.starts_at, office.time_zone)
        subject = APPOINTMENT_SUBJECTS[kind](f"{when}, {time}")
        context = {
            "subject": subject,
            "lang": lang,
            "kind": kind,
            "appointment": appointment,
            "office": office,
            "service": service,
            "procedure": procedure,
            "when": when,
            "time": time,
            "link": public_url("appointments.detail", lang=lang, reference=appointment.reference),
            "book_link": public_url(
                "appointments.choose_office", lang=lang, service_key=service.key
            ),
        }
        text = render_template("appointments/email/appointment.txt", **context)
        html = render_template("appointments/email/appointment.html", **context)
    ics = mail.Attachment(
        f"cita-{appointment.reference}.ics",
        "text/calendar",
        calendar.for_appointment(appointment),
    )
    mail.send(
        mail.Email(
            to=account.email,
            subject=subject,
            text=text,
            html=html,
            language=lang,
            attachments=(ics,),
        )
    )
    return True


def remind_appointments(now: datetime | None = None) -> int:
    """The day-before reminders (run on a schedule by the worker): how many were sent."""
    from procedures import appointments

    return sum(
        appointment(one, "reminder", account, now) for one, account in appointments.to_remind(now)
    )
