"""Booking an appointment (cita previa) as a citizen: choose an office and a free time,
confirm once even when clicking twice, take it to a calendar, change it, cancel it; and
what happens when someone else takes the last place first."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from sqlalchemy import func, select

from identity.models import Account
from portal import outbox
from portal.extensions import db
from procedures import appointments, emails, offices
from procedures.models import Appointment
from tests.support import mailbox
from tests.support.citizen import Citizen
from tests.support.forms import post_form

pytestmark = pytest.mark.database

BOOK = "/{lang}/appointments/book/citizen-office"
SLOT = re.compile(r'name="slot" value="(\d{8}T\d{4}Z)"')


def _signed_in(citizen: Citizen, lang: str = "es") -> Citizen:
    citizen.lang = lang
    citizen.register()
    return citizen


def _free_times(client, url: str) -> list[str]:
    html = client.get(url).get_data(as_text=True)
    return SLOT.findall(html)


def _book(client, lang: str, office: str, slot_index: int = 0) -> str:
    """Book through every step; the booked page's path."""
    time_url = f"{BOOK.format(lang=lang)}/{office}"
    slot = _free_times(client, time_url)[slot_index]
    response = post_form(client, time_url, {"slot": slot})
    assert response.status_code == 302
    confirm_url = response.headers["Location"]
    response = post_form(client, confirm_url, {})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response.headers["Location"]


def _appointments(site) -> list[Appointment]:
    with site.app_context():
        rows = list(db.session.scalars(select(Appointment).order_by(Appointment.id)))
        db.session.expunge_all()
        return rows


def test_a_citizen_books_an_appointment_from_the_procedure_page(site, citizen) -> None:
    _signed_in(citizen)
    client = citizen.client
    start = citizen.page("/es/procedures/appointment-booking")
    book_link = start.find(".//a[@href='/es/appointments/book/citizen-office']")
    assert book_link is not None

    # Two offices offer the service: the citizen chooses one, and must choose.
    office_url = BOOK.format(lang="es")
    page = citizen.page(office_url)
    assert len(page.findall(".//input[@name='office']")) == 2
    empty = post_form(client, office_url, {})
    assert empty.status_code == 200
    assert "Elija una oficina" in empty.get_data(as_text=True) or "Choose an office" in (
        empty.get_data(as_text=True)
    )
    chosen = post_form(client, office_url, {"office": "north-district"})
    time_url = chosen.headers["Location"]
    assert time_url.endswith("/es/appointments/book/citizen-office/north-district")

    # Free times come as radios grouped by day; posting none is an error that keeps the page.
    page = citizen.page(time_url)
    days = page.findall(".//fieldset[@class='fieldset slot-day']")
    assert days, "no free times listed"
    assert all(day.find("legend") is not None for day in days)
    empty = post_form(client, time_url, {})
    assert empty.status_code == 200
    assert 'class="error-summary"' in empty.get_data(as_text=True)
    slot = SLOT.findall(client.get(time_url).get_data(as_text=True))[0]
    to_confirm = post_form(client, time_url, {"slot": slot})
    confirm_url = to_confirm.headers["Location"]
    assert confirm_url.endswith(f"/north-district/{slot}")

    # Confirming twice (a double click: the same form, the same key) books once.
    html = client.get(confirm_url).get_data(as_text=True)
    key = re.search(r'name="request_key"[^>]*value="([^"]+)"', html).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    headers = {"Referer": f"https://localhost{confirm_url}"}
    data = {"csrf_token": token, "request_key": key}
    first = client.post(confirm_url, data=data, headers=headers)
    second = client.post(confirm_url, data=data, headers=headers)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    [booked] = _appointments(site)
    assert booked.starts_at == datetime.strptime(slot, "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    assert booked.office == "north-district" and booked.seat == 1 and booked.language == "es"

    # One confirmation email, in Spanish, with the calendar file attached.
    sent = [m for m in mailbox.messages(site, citizen.email) if "cita-" in str(m)]
    assert len(sent) == 1
    attachment = next(sent[0].iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    entry = icalendar.Calendar.from_ical(attachment.get_content())
    event = entry.walk("VEVENT")[0]
    assert event.decoded("DTSTART") == booked.starts_at
    assert str(event["UID"]).startswith(booked.reference)

    booked_page = citizen.page(first.headers["Location"])
    assert booked.reference in " ".join(booked_page.itertext())

    # The same file from the page, for those who lost the email.
    ics = client.get(f"/es/appointments/{booked.reference}/appointment.ics")
    assert ics.mimetype == "text/calendar"
    event = icalendar.Calendar.from_ical(ics.data).walk("VEVENT")[0]
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=15)
    assert "Centro Cívico" in str(event["LOCATION"])

    # Booking again for the same service shows the appointment the citizen has.
    again = citizen.page(office_url)
    assert again.find(f".//a[@href='/es/appointments/{booked.reference}/change']") is not None


def test_a_citizen_changes_then_cancels_an_appointment(site, citizen) -> None:
    _signed_in(citizen, "en")
    client = citizen.client
    _book(client, "en", "town-hall")
    [booked] = _appointments(site)
    first_time = booked.starts_at

    change_url = f"/en/appointments/{booked.reference}/change"
    other = _free_times(client, change_url)[3]
    response = post_form(client, change_url, {"slot": other})
    confirm = response.headers["Location"]
    assert post_form(client, confirm, {}).status_code == 302
    [moved] = _appointments(site)
    assert moved.reference == booked.reference and moved.starts_at != first_time
    assert moved.sequence == 1
    assert first_time.strftime("%Y%m%dT%H%MZ") in _free_times(client, change_url + "?")

    cancel_url = f"/en/appointments/{booked.reference}/cancel"
    assert citizen.page(cancel_url) is not None
    response = post_form(client, cancel_url, {})
    assert response.status_code == 302
    detail = " ".join(citizen.page(response.headers["Location"]).itertext())
    assert "Cancelled" in detail
    [cancelled] = _appointments(site)
    assert cancelled.status == "cancelled" and cancelled.seat is None

    subjects = [m["Subject"] for m in mailbox.messages(site, citizen.email)]
    assert [s.split(":")[0] for s in subjects[-3:]] == [
        "Appointment booked",
        "Appointment changed",
        "Appointment cancelled",
    ]
    cancelled_ics = next(mailbox.last(site, citizen.email).iter_attachments()).get_content()
    event = icalendar.Calendar.from_ical(cancelled_ics).walk("VEVENT")[0]
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 2

    # A cancelled appointment cannot be changed or cancelled again; a new one can be booked.
    assert client.get(change_url).status_code == 302
    assert _book(client, "en", "town-hall")


def test_the_last_place_taken_meanwhile_sends_the_citizen_back_to_choose(site) -> None:
    ana = _signed_in(Citizen(site, site.test_client(), "ana@example.es"))
    luis = _signed_in(Citizen(site, site.test_client(), "luis@example.es"))
    time_url = f"{BOOK.format(lang='es')}/north-district"
    slot = _free_times(ana.client, time_url)[0]
    ana_confirm = post_form(ana.client, time_url, {"slot": slot}).headers["Location"]
    ana_form = ana.client.get(ana_confirm).get_data(as_text=True)
    # Luis books the same, one-desk time first.
    luis_confirm = post_form(luis.client, time_url, {"slot": slot}).headers["Location"]
    assert post_form(luis.client, luis_confirm, {}).status_code == 302
    # Ana's confirmation (the page she already had open) is refused kindly.
    token = re.search(r'name="csrf_token" value="([^"]+)"', ana_form).group(1)
    response = ana.client.post(
        ana_confirm,
        data={"csrf_token": token},
        headers={"Referer": f"https://localhost{ana_confirm}"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("?taken=1")
    page = ana.client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="error-summary"' in page
    assert slot not in SLOT.findall(page)
    assert len(_appointments(site)) == 1


def test_a_time_that_is_not_offered_cannot_be_booked(site, citizen) -> None:
    _signed_in(citizen)
    time_url = f"{BOOK.format(lang='es')}/town-hall"
    for bad in ("20261126T0807Z", "19990101T0900Z", "not-a-time", ""):
        response = post_form(citizen.client, time_url, {"slot": bad})
        assert response.status_code == 200, bad
        assert 'class="error-summary"' in response.get_data(as_text=True)
    assert citizen.client.get(f"{time_url}/20261126T0807Z").status_code == 302
    assert citizen.client.get(f"{time_url}/nonsense").status_code == 404
    assert citizen.client.get("/es/appointments/book/no-such-service").status_code == 404
    assert citizen.client.get(f"{BOOK.format(lang='es')}/no-such-office").status_code == 404
    assert _appointments(site) == []


def test_nobody_else_sees_or_changes_a_citizens_appointment(site) -> None:
    ana = _signed_in(Citizen(site, site.test_client(), "ana@example.es"))
    _book(ana.client, "es", "town-hall")
    [booked] = _appointments(site)
    luis = _signed_in(Citizen(site, site.test_client(), "luis@example.es"))
    for path in ("/", "/appointment.ics", "/change", "/cancel", "/booked"):
        assert luis.client.get(f"/es/appointments/{booked.reference}{path}").status_code == 404
    anonymous = site.test_client().get(f"/es/appointments/{booked.reference}/")
    assert anonymous.status_code == 302 and "/sign-in" in anonymous.headers["Location"]


def test_the_day_before_the_citizen_gets_one_reminder(site, citizen) -> None:
    _signed_in(citizen, "ca")
    with site.test_request_context("/ca/"):
        account = db.session.scalar(select(Account).where(Account.email == citizen.email))
        directory = offices.current()
        office = directory.offices["town-hall"]
        service = directory.services["citizen-office"]
        booked_on = datetime.now(UTC)
        slot = next(
            day.slots[0].starts_at
            for day in appointments.free_days(
                office, service, appointments.first_day(office, booked_on) + timedelta(days=3)
            )
        )
        appointment = appointments.book(account, office, service, slot, "ca", now=booked_on)
        assert emails.remind_appointments(booked_on) == 0  # days away
        day_before = slot - timedelta(hours=20)
        assert emails.remind_appointments(day_before) == 1
        assert emails.remind_appointments(day_before + timedelta(hours=1)) == 0
        assert db.session.scalar(select(func.count()).select_from(Appointment)) == 1
        assert outbox.deliver_due().sent == 2  # the booking's and the reminder, as the worker
        assert appointment.reference in mailbox.text_of(mailbox.last(site, citizen.email))
        assert "Recordatori" in mailbox.last(site, citizen.email)["Subject"]
        assert mailbox.last(site, citizen.email)["Content-Language"] == "ca"
