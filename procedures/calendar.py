"""An appointment as an iCalendar file (RFC 5545), for any calendar app.

Written by hand: one event, a dozen properties. What matters is done to the letter:
CRLF line ends, lines folded at 75 octets without splitting a UTF-8 character, text
escaped, times in UTC, and a UID and SEQUENCE that stay with the booking, so a changed
or cancelled appointment replaces the entry already in the citizen's calendar instead
of adding a second one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from identity.models import utcnow
from portal.mail import public_url
from procedures import offices
from procedures.models import Appointment

PRODUCT = "-//Portal Ciudadano//Cita previa//ES"


def escape(text: str) -> str:
    """TEXT values (RFC 5545 §3.3.11): backslash, semicolon, comma and newline escaped."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (§3.1)."""
    out: list[str] = []
    current = ""
    size = 0
    limit = 75
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def event(
    *,
    uid: str,
    sequence: int,
    starts_at: datetime,
    minutes: int,
    summary: str,
    location: str,
    description: str,
    url: str,
    language: str,
    cancelled: bool = False,
    now: datetime | None = None,
) -> bytes:
    """One VEVENT in a VCALENDAR, as the bytes of an ``.ics`` file."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODUCT}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{_utc(now or utcnow())}",
        f"SEQUENCE:{sequence}",
        f"DTSTART:{_utc(starts_at)}",
        f"DTEND:{_utc(starts_at + timedelta(minutes=minutes))}",
        f"SUMMARY;LANGUAGE={language}:{escape(summary)}",
        f"LOCATION;LANGUAGE={language}:{escape(location)}",
        f"DESCRIPTION;LANGUAGE={language}:{escape(description)}",
        f"URL:{url}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode()


def for_appointment(appointment: Appointment) -> bytes:
    """The calendar entry of a booking, in the language it was booked in."""
    directory = offices.current()
    office = directory.offices[appointment.office]
    service = directory.services[appointment.service]
    lang = appointment.language
    with force_locale(lang):
        link = public_url("appointments.detail", lang=lang, reference=appointment.reference)
        summary = _("Appointment: %(service)s", service=service.name(lang))
        description = "\n".join(
            (
                _("Reference: %(reference)s", reference=appointment.reference),
                office.how_to_get_there(lang),
                _("Bring your DNI, NIE or passport."),
                _("To change or cancel it: %(link)s", link=link),
            )
        )
    return event(
        uid=f"{appointment.reference}@{urlsplit(current_app.config['PUBLIC_URL']).hostname}",
        sequence=appointment.sequence,
        starts_at=appointment.starts_at,
        minutes=appointment.minutes,
        summary=summary,
        location=f"{office.name(lang)}, {office.address}",
        description=description,
        url=link,
        language=lang,
        cancelled=not appointment.is_booked,
    )
