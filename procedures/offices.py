"""Offices, the services they book and their opening hours: where the appointment slots
come from.

Slots are not stored. They follow from the opening hours (``definitions/offices.yaml``),
so changing the hours changes the offer at once; only bookings are rows. Each slot has
as many places as the office has desks for the service. Times are the office's local
time: a 9:00 slot stays at 9:00 across a change to or from summer time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app

from procedures.definitions import (
    DEFINITIONS_DIR,
    SLUG,
    Agency,
    DefinitionError,
    Reader,
    Text,
    _join,
    _parse,
    load_agencies,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
INTERVAL = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Service:
    key: str
    name: Text
    minutes: int


@dataclass(frozen=True)
class Office:
    key: str
    agency: Agency
    name: Text
    address: str
    how_to_get_there: Text
    time_zone: str
    #: service key → places per slot (desks serving it at the same time)
    desks: dict[str, int]
    #: weekday (0 = Monday) → opening intervals in local time
    hours: dict[int, tuple[tuple[time, time], ...]]
    closed: frozenset[date]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def today(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()

    def slots_on(self, day: date, service: Service) -> Iterator[datetime]:
        """Every slot's start on ``day``, in UTC: appointments that fit before closing."""
        if service.key not in self.desks or day in self.closed:
            return
        length = timedelta(minutes=service.minutes)
        for opens, closes in self.hours.get(day.weekday(), ()):
            start = datetime.combine(day, opens, self.zone)
            end = datetime.combine(day, closes, self.zone)
            while start + length <= end:
                yield start.astimezone(UTC)
                start += length


@dataclass(frozen=True)
class Offices:
    services: dict[str, Service]
    offices: dict[str, Office]
    errors: list[DefinitionError]

    def offering(self, service: str) -> list[Office]:
        return [office for office in self.offices.values() if service in office.desks]


def load_offices(directory: Path = DEFINITIONS_DIR) -> Offices:
    """The offices in ``offices.yaml``; an office with errors is left out and reported."""
    path = directory / "offices.yaml"
    reader = Reader(path.name)
    agencies, _ = load_agencies(directory)
    data = reader.mapping(_parse(path, reader) if path.exists() else {}, "")
    reader.only(data, "", {"services", "offices"})
    services: dict[str, Service] = {}
    for key, node in reader.mapping(data.get("services") or {}, "services").items():
        where = f"services.{key}"
        node = reader.mapping(node, where)
        reader.only(node, where, {"name", "minutes"})
        name = reader.text(node.get("name"), _join(where, "name"))
        minutes = reader.integer(node.get("minutes"), _join(where, "minutes"), minimum=5)
        if reader.identifier(key, where, SLUG) and name:
            services[key] = Service(key, name, minutes)
    offices: dict[str, Office] = {}
    for key, node in reader.mapping(data.get("offices") or {}, "offices").items():
        before = len(reader.errors)
        office = _read_office(reader, f"offices.{key}", key, node, agencies, services)
        if office is not None and len(reader.errors) == before:
            offices[key] = office
    return Offices(services, offices, reader.errors)


def _read_office(
    reader: Reader,
    where: str,
    key: str,
    node: object,
    agencies: dict[str, Agency],
    services: dict[str, Service],
) -> Office | None:
    node = reader.mapping(node, where)
    reader.only(
        node,
        where,
        {
            "agency",
            "time_zone",
            "address",
            "name",
            "how_to_get_there",
            "services",
            "hours",
            "closed",
        },
    )
    agency = agencies.get(str(node.get("agency")))
    if agency is None:
        reader.error(_join(where, "agency"), f"must be one of: {', '.join(sorted(agencies))}")
    try:
        zone = ZoneInfo(str(node.get("time_zone")))
    except (ZoneInfoNotFoundError, ValueError):
        reader.error(_join(where, "time_zone"), "must be an IANA time zone, like Europe/Madrid")
        zone = None
    address = node.get("address")
    if not isinstance(address, str) or not address.strip():
        reader.error(_join(where, "address"), "is required")
    name = reader.text(node.get("name"), _join(where, "name"))
    directions = reader.text(node.get("how_to_get_there"), _join(where, "how_to_get_there"))
    desks: dict[str, int] = {}
    for service, count in reader.mapping(node.get("services"), _join(where, "services")).items():
        if service not in services:
            reader.error(
                _join(where, f"services.{service}"), "is not a service listed under services"
            )
        desks[service] = reader.integer(count, _join(where, f"services.{service}"), minimum=1)
    hours: dict[int, tuple[tuple[time, time], ...]] = {}
    for day, intervals in reader.mapping(node.get("hours"), _join(where, "hours")).items():
        path = _join(where, f"hours.{day}")
        if day not in WEEKDAYS:
            reader.error(path, f"must be a weekday: {', '.join(WEEKDAYS)}")
            continue
        hours[WEEKDAYS.index(day)] = tuple(_intervals(reader, intervals, path))
    closed = set()
    for index, value in enumerate(
        reader.sequence(node.get("closed") or [], _join(where, "closed"), least=0)
    ):
        try:
            closed.add(value if isinstance(value, date) else date.fromisoformat(str(value)))
        except ValueError:
            reader.error(_join(where, f"closed[{index}]"), "must be a date, YYYY-MM-DD")
    if agency is None or zone is None or name is None or directions is None:
        return None
    return Office(
        key, agency, name, str(address), directions, str(zone), desks, hours, frozenset(closed)
    )


def _intervals(reader: Reader, node: object, path: str) -> Iterator[tuple[time, time]]:
    for index, value in enumerate(reader.sequence(node, path)):
        match = INTERVAL.match(str(value))
        if match is None:
            reader.error(f"{path}[{index}]", 'must be an interval like "09:00-14:00"')
            continue
        opens = time(int(match[1]), int(match[2]))
        closes = time(int(match[3]), int(match[4]))
        if closes <= opens:
            reader.error(f"{path}[{index}]", "must close after it opens")
            continue
        yield opens, closes


def init_app(app: Flask) -> None:
    directory = Path(app.config.get("PROCEDURES_DIR") or DEFINITIONS_DIR)
    loaded = load_offices(directory)
    for error in loaded.errors:
        app.logger.error("office left out: %s", error)
    app.extensions["offices"] = loaded


def current() -> Offices:
    return current_app.extensions["offices"]  # type: ignore[no-any-return]
