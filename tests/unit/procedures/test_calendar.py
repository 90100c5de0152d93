"""The .ics we write is read back by a real calendar parser exactly as meant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar

from procedures import calendar

WHEN = datetime(2026, 12, 3, 8, 15, tzinfo=UTC)


def _event(**overrides: object) -> bytes:
    values: dict[str, object] = {
        "uid": "ABCD2345@portal.example",
        "sequence": 0,
        "starts_at": WHEN,
        "minutes": 15,
        "summary": "Cita: Atención ciudadana",
        "location": "Oficina de Atención Ciudadana, Plaza Mayor 1, 28999 Villanueva",
        "description": "Referencia: ABCD2345\nTrae tu DNI; o NIE, o pasaporte\\",
        "url": "https://portal.example/es/appointments/ABCD2345/",
        "language": "es",
    }
    return calendar.event(**{**values, **overrides})  # type: ignore[arg-type]


def test_every_line_ends_in_crlf_and_fits_in_75_octets() -> None:
    data = _event(description="ñ" * 200 + "مرحبا" * 30)
    lines = data.split(b"\r\n")
    assert lines[-1] == b""
    assert all(len(line) <= 75 for line in lines)
    assert b"\n" not in data.replace(b"\r\n", b"")
    for line in lines:
        line.decode()  # no UTF-8 character split across a fold


def test_a_calendar_app_reads_back_what_we_meant() -> None:
    description = "Referencia: ABCD2345\nTrae tu DNI; o NIE, o pasaporte\\" + " ñandú" * 30
    event = icalendar.Calendar.from_ical(_event(description=description)).walk("VEVENT")[0]
    assert event.decoded("DTSTART") == WHEN
    assert event.decoded("DTEND") == WHEN + timedelta(minutes=15)
    assert str(event["DESCRIPTION"]) == description
    assert str(event["LOCATION"]).startswith("Oficina de Atención Ciudadana, Plaza Mayor 1")
    assert str(event["UID"]) == "ABCD2345@portal.example"
    assert str(event["STATUS"]) == "CONFIRMED"


def test_a_cancellation_replaces_the_entry_with_a_higher_sequence() -> None:
    event = icalendar.Calendar.from_ical(_event(sequence=2, cancelled=True)).walk("VEVENT")[0]
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 2
