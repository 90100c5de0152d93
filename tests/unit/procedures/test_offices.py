"""Offices and their slots: the shipped file is valid, a broken one is reported with file
and path, and slots follow the office's clock (summer time, holidays, closing time)."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime

from procedures.definitions import DEFINITIONS_DIR, load_catalogue
from procedures.offices import load_offices


def test_shipped_offices_are_valid_and_offer_every_service_a_procedure_books() -> None:
    loaded = load_offices()
    assert loaded.errors == []
    assert set(loaded.offices) == {"town-hall", "north-district"}
    for procedure in load_catalogue():
        if procedure.appointment_service:
            assert loaded.offering(procedure.appointment_service), procedure.slug


def test_a_broken_office_is_left_out_with_file_path_and_reason(tmp_path) -> None:
    shutil.copy(DEFINITIONS_DIR / "agencies.yaml", tmp_path / "agencies.yaml")
    source = (DEFINITIONS_DIR / "offices.yaml").read_text()
    broken = source.replace('thu: ["09:00-14:00", "16:00-18:30"]', 'thu: ["14:00-09:00", "9am"]')
    broken = broken.replace(
        'time_zone: Europe/Madrid\n    address: "Avenida',
        'time_zone: Mars/Olympus\n    address: "Avenida',
    )
    (tmp_path / "offices.yaml").write_text(broken)
    loaded = load_offices(tmp_path)
    messages = {str(error) for error in loaded.errors}
    assert "offices.yaml: offices.town-hall.hours.thu[0]: must close after it opens" in messages
    assert (
        'offices.yaml: offices.town-hall.hours.thu[1]: must be an interval like "09:00-14:00"'
        in messages
    )
    assert any("offices.north-district.time_zone" in m for m in messages)
    assert loaded.offices == {}


def test_nine_oclock_stays_nine_oclock_across_the_change_to_summer_time() -> None:
    loaded = load_offices()
    office, service = loaded.offices["town-hall"], loaded.services["citizen-office"]
    winter = list(office.slots_on(date(2027, 3, 22), service))
    summer = list(office.slots_on(date(2027, 3, 29), service))
    assert winter[0] == datetime(2027, 3, 22, 8, 0, tzinfo=UTC)  # 9:00 CET
    assert summer[0] == datetime(2027, 3, 29, 7, 0, tzinfo=UTC)  # 9:00 CEST
    # 9:00 to 14:00 in 15-minute appointments: 20, the last at 13:45.
    assert len(winter) == 20 and winter[-1] == datetime(2027, 3, 22, 12, 45, tzinfo=UTC)


def test_holidays_weekends_and_services_an_office_lacks_have_no_slots() -> None:
    loaded = load_offices()
    office, service = loaded.offices["town-hall"], loaded.services["citizen-office"]
    assert list(office.slots_on(date(2026, 12, 25), service)) == []  # Christmas, a Friday
    assert list(office.slots_on(date(2026, 12, 26), service)) == []  # Saturday
    thursday = list(office.slots_on(date(2026, 12, 3), service))
    assert len(thursday) == 20 + 10  # and the afternoon, 16:00 to 18:30
