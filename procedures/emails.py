"""The emails a citizen gets about an application or an appointment, in the language they
applied or booked in.

Each is written to the outbox (``portal.outbox``) in the transaction of what it reports:
the submission, the booking, the change; the worker sends it. So a submission that rolls
back sends no receipt, and one that commits cannot lose it to a mail server that is down.
Reminders claim their row (``reminded_at``) in the transaction that enqueues them, so
two workers, or a job run twice, remind once.
"""

from __future__ import annotations

from datetime import datetime

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import update

from identity.models import Account, utcnow
from portal import mail, outbox
from portal.extensions import db
from portal.i18n import writing_in
from portal.mail import public_url
from procedures import calendar, catalogue, labels, offices
from procedures.definitions import Procedure
from procedures.models import DRAFT, Application, Appointment, TimelineEvent


def submitted(application: Application, procedure: Procedure, account: Account) -> None:
    """The confirmation with the registry number, in the submission's transaction; the
    timeline records it (the folder says "we emailed you the receipt"). The caller commits."""
    lang = application.language
    with writing_in(lang):
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
    outbox.enqueue(
        mail.Email(to=account.email, subject=subject, text=text, html=html, language=lang),
        "application.submitted",
    )
    db.session.add(
        TimelineEvent(
            application_id=application.id,
            kind="receipt_emailed",
            actor="system",
            visible_to_citizen=False,
        )
    )


def draft_expiring(application: Application, procedure: Procedure, account: Account) -> None:
    """A week before an untouched draft is deleted: what it is, when it goes, and the link
    back to it. The caller commits."""
    lang = application.language
    expires_at = application.expires_at
    assert expires_at is not None  # noqa: S101 - drafts always expire
    with writing_in(lang):
        title = procedure.text(lang).title
        subject = _("Your application “%(title)s” will be deleted soon", title=title)
        context = {
            "subject": subject,
            "lang": lang,
            "title": title,
            "application": application,
            "deleted_on": labels.office_date(expires_at, account.time_zone),
            "link": public_url("applications.resume", lang=lang, reference=application.reference),
        }
        text = render_template("procedures/email/draft_expiring.txt", **context)
        html = render_template("procedures/email/draft_expiring.html", **context)
    outbox.enqueue(
        mail.Email(to=account.email, subject=subject, text=text, html=html, language=lang),
        "application.draft_expiring",
    )


def remind_drafts(now: datetime | None = None) -> int:
    """Tell each citizen, once, of a draft deleted within a week (run by the worker): how
    many were told. Each draft is claimed (``reminded_at``) in the transaction that
    enqueues its email, so a second run, or a second worker, finds nothing to do."""
    from procedures import applications

    now = now or utcnow()
    told = 0
    for draft in applications.drafts_to_remind(now):
        procedure = catalogue.get(draft.procedure_slug)
        account = db.session.get(Account, draft.account_id)
        if procedure is None or account is None or account.deleted_at is not None:
            continue
        claimed = db.session.execute(
            update(Application)
            .where(
                Application.id == draft.id,
                Application.status == DRAFT,
                Application.reminded_at.is_(None),
                # Saved again since it was listed: its clock restarted, no reminder yet.
                Application.expires_at <= now + applications.REMIND_BEFORE,
            )
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed:
            draft_expiring(draft, procedure, account)
            told += 1
        db.session.commit()
    return told


APPOINTMENT_SUBJECTS = {
    "booked": lambda when: _("Appointment booked: %(when)s", when=when),
    "changed": lambda when: _("Appointment changed: %(when)s", when=when),
    "cancelled": lambda when: _("Appointment cancelled: %(when)s", when=when),
    "reminder": lambda when: _("Reminder: your appointment on %(when)s", when=when),
}


def appointment(appointment: Appointment, kind: str, account: Account) -> None:
    """Booked, changed, cancelled or tomorrow: the email, in the language it was booked in,
    with the calendar entry attached, written to the outbox in the caller's transaction
    (the booking's, the change's), which the caller commits."""
    directory = offices.current()
    office = directory.offices[appointment.office]
    service = directory.services[appointment.service]
    procedure = catalogue.get(appointment.procedure_slug or "")
    lang = appointment.language
    with writing_in(lang):
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
    email = mail.Email(
        to=account.email,
        subject=subject,
        text=text,
        html=html,
        language=lang,
        attachments=(ics,),
    )
    outbox.enqueue(email, f"appointment.{kind}")
    if kind != "reminder":
        appointment.emailed_sequence = appointment.sequence


def remind_appointments(now: datetime | None = None) -> int:
    """The day-before reminders (run by the worker): how many were enqueued. Each is claimed
    (``reminded_at``) in the transaction that enqueues it: of two workers, one reminds."""
    from procedures import appointments

    now = now or utcnow()
    reminded = 0
    for one, account in appointments.to_remind(now):
        table = Appointment.__table__
        claimed = db.session.execute(
            table.update()
            .where(table.c.id == one.id, table.c.reminded_at.is_(None))
            .values(reminded_at=now)
        ).rowcount
        if claimed:
            appointment(one, "reminder", account)
            reminded += 1
        db.session.commit()
    return reminded
