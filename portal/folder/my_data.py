"""Your data: every attribute we hold, in the order a person reads a record, and the way
to say one is wrong (a correction request is a general application, so it gets a registry
receipt and reaches staff like any other case)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from identity import record
from identity.models import Account
from portal.extensions import db
from procedures import applications, catalogue, labels
from procedures.models import Application

#: What the folder lists, in order, with how the citizen reads each name.
LABELS = {
    "given_name": _l("Name"),
    "family_name": _l("Surnames"),
    "national_id": _l("DNI or NIE"),
    "birth_date": _l("Date of birth"),
    "address": _l("Home address"),
    "phone": _l("Phone number"),
    "email": _l("Email address"),
}
CORRECTION_PROCEDURE = "general-application"


@dataclass(frozen=True)
class Row:
    name: str
    label: str
    value: str
    attribute: record.Attribute | None


def _display(name: str, value: Any) -> str:
    if name == "address" and isinstance(value, dict):
        return labels.format_address(value)
    if name == "birth_date" and isinstance(value, str):
        try:
            return format_date(date.fromisoformat(value), "long")
        except ValueError:
            return value
    return str(value)


def rows(account: Account, held: dict[str, record.Attribute] | None = None) -> list[Row]:
    """The record as the folder lists it (from ``held``, when already read)."""
    held = record.attributes(account) if held is None else held
    return [
        Row(
            name,
            str(label),
            _display(name, held[name].value) if name in held else "",
            held.get(name),
        )
        for name, label in LABELS.items()
    ]


def source_text(attribute: record.Attribute) -> str:
    return _(
        "From %(source)s, %(date)s",
        source=str(record.SOURCES.get(attribute.source, attribute.source)),
        date=format_date(attribute.updated_at, "long"),
    )


def start_correction(account: Account, name: str, correct_value: str, lang: str) -> Application:
    """A general application asking to correct ``name``, with the subject and the request
    already written; the citizen checks the rest and sends it like any application."""
    procedure = catalogue.get(CORRECTION_PROCEDURE)
    if procedure is None:
        raise LookupError(f"{CORRECTION_PROCEDURE} is not in the catalogue")
    held = record.attributes(account)
    now_value = _display(name, held[name].value) if name in held else _("nothing")
    application = applications.start(account, procedure, lang)
    application.answers = {
        "subject": _("Correct my data: %(what)s", what=str(LABELS[name]).lower()),
        "request": _(
            "Your records say “%(now)s”. It should say: %(correct)s",
            now=now_value,
            correct=correct_value,
        ),
    }
    db.session.commit()
    return application
