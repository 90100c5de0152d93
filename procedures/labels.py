"""How procedure facts read in the page's language: fees, channels, answers, provenance."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime
from babel.dates import format_time as babel_time
from flask_babel import format_currency, format_date, format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from identity.record import ADDRESS_KEYS, SOURCES
from procedures.definitions import Field
from procedures.taxonomy import LIFE_EVENTS, TOPICS


def topic_label(key: str) -> str:
    return str(TOPICS.get(key, key))


def life_event_label(key: str) -> str:
    return str(LIFE_EVENTS.get(key, key))


def channel_label(key: str) -> str:
    return {"online": _("Online"), "in_person": _("In person"), "phone": _("By phone")}.get(
        key, key
    )


def format_fee(fee: Decimal) -> str:
    return _("Free") if fee == 0 else format_currency(fee, "EUR")


def format_address(value: dict[str, Any]) -> str:
    first = " ".join(str(value.get(k) or "") for k in ("street", "number", "floor_door")).strip()
    second = " ".join(str(value.get(k) or "") for k in ("postcode", "municipality")).strip()
    return ", ".join(part for part in (first, second, str(value.get("province") or "")) if part)


def format_answer(one: Field, value: Any, lang: str) -> str:
    """An answer as the citizen reads it on "check your answers" and on the receipt."""
    if value is None or value == "" or value == []:
        return _("Not answered")
    if one.type == "date":
        return format_date(date.fromisoformat(value), "long")
    if one.type in ("radios", "select"):
        return one.option_label(value, lang)
    if one.type == "checkboxes":
        return ", ".join(one.option_label(v, lang) for v in value)
    if one.type == "yes_no":
        return _("Yes") if value == "yes" else _("No")
    if one.type == "address" and isinstance(value, dict):
        return format_address(value)
    if one.type == "number":
        return format_decimal(Decimal(value))
    if one.type == "file" and isinstance(value, dict):
        if value.get("provided"):
            provided = value["provided"]
            return _(
                "Already handed in (%(when)s, to %(to_whom)s)",
                when=provided.get("when", ""),
                to_whom=provided.get("to_whom", ""),
            )
        return value.get("name", "")
    return str(value)


def provenance_text(entry: dict[str, Any] | None) -> str | None:
    """ "From the municipal census, 12 March 2026": where a prefilled answer came from."""
    if not entry or entry.get("source") not in SOURCES:
        return None
    when = datetime.fromisoformat(entry["updated_at"])
    return _(
        "From %(source)s, %(date)s",
        source=str(SOURCES[entry["source"]]),
        date=format_date(when, "long"),
    )


__all__ = ["ADDRESS_KEYS"]


def registry_time(entry: Any) -> str:
    """The registry's date and time, in its own time zone and saying which (Ley 39/2015 art. 31)."""
    return babel_datetime(
        entry.registered_at, "full", tzinfo=ZoneInfo(entry.time_zone), locale=get_locale()
    )


def office_date(moment: datetime, zone: str) -> str:
    """ "Thursday, 26 November 2026": an appointment's day, as the office's clock reads it."""
    return babel_date(moment.astimezone(ZoneInfo(zone)).date(), "full", locale=get_locale())


def office_time(moment: datetime, zone: str) -> str:
    """ "9:15": an appointment's time on the office's clock (where the citizen must be)."""
    return babel_time(moment, "short", tzinfo=ZoneInfo(zone), locale=get_locale())


def day_label(day: date) -> str:
    return babel_date(day, "full", locale=get_locale())


DOCUMENT_KINDS = {
    "receipt": _l("Registry receipt"),
    "certificate": _l("Certificate"),
    "resolution": _l("Decision"),
}


def document_kind_label(kind: str) -> str:
    return str(DOCUMENT_KINDS.get(kind, kind))


def document_title(document: Any) -> str:
    """ "Registry receipt: Register in the census…" or the certificate's own title."""
    from procedures.documents import title_of

    title = title_of(document, str(get_locale() or "es"))
    if document.kind == "receipt":
        return _("%(kind)s: %(title)s", kind=document_kind_label("receipt"), title=title)
    return title
