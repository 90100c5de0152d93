"""Wrong answers for any field of any procedure, made from the field's type and validators.

Each one is what a citizen might really type (a date that does not exist, a number out of
range, a file that is not a document) with the error they must then read, in English. The
web tests post them on every page of every shipped procedure, so a new procedure, field
or validator is covered without a new test.

The messages are written out here, not taken from ``procedures.forms``: a test that read
its expectations from the code under test could not notice that code saying the wrong thing.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from procedures.definitions import Field
from procedures.samples import sample

ADDRESS_PARTS = ("street", "number", "floor_door", "postcode", "municipality", "province")
#: The parts of an address a citizen must give (the floor and door may be left out), and
#: how the error names each.
REQUIRED_ADDRESS_PARTS = {
    "street": "street",
    "number": "number",
    "postcode": "postcode",
    "municipality": "town or city",
    "province": "province",
}
#: Something that is clearly not a PDF, JPEG or PNG, whatever its name says.
NOT_A_DOCUMENT = b"MZ\x90\x00\x03\x00\x00\x00 this is a program, not a document"
#: Text fields and textareas refuse one character more than this when they set no limit.
DEFAULT_LIMITS = {"text": 200, "textarea": 2000}
#: For a field with a ``check``: the right shape, the wrong check letter or digits.
WRONG_CHECK = {"dni_nie": "12345678A", "iban": "ES92 2100 0418 4502 0005 1332"}
#: Tried in turn for a field with a pattern: the first one the pattern refuses is used.
NOT_MATCHING = ("12345", "ABC-123", "hola", "00000000000000", "ES12")
NOT_AN_OPTION = "not_an_option"


@dataclass(frozen=True)
class WrongAnswer:
    """One wrong answer to one field: what is posted, what the citizen must read, and where."""

    field: Field
    #: Why it is wrong, for the failure message ("too long", "not a real date").
    why: str
    #: The form data a browser posts for it (for this field's controls only).
    data: dict[str, Any]
    #: The error the citizen must read, in the summary and next to the field.
    message: str
    #: The id the summary links to and the inline error (``<id>-error``) belongs to.
    target: str


def quoted(one: Field) -> str:
    return f"“{one.label('en')}”"


def limit(one: Field) -> int:
    return one.max_length or DEFAULT_LIMITS[one.type]


def empty_data(one: Field) -> dict[str, Any]:
    """What a browser sends for the field left empty (radios and checkboxes send nothing)."""
    if one.type == "date":
        return {f"{one.id}-{part}": "" for part in ("day", "month", "year")}
    if one.type == "address":
        return {f"{one.id}-{part}": "" for part in ADDRESS_PARTS}
    if one.type == "file":
        data: dict[str, Any] = {one.id: (io.BytesIO(b""), "")}
        if one.may_be_already_provided:
            data.update(
                {f"{one.id}__how": "upload", f"{one.id}__when": "", f"{one.id}__to_whom": ""}
            )
        return data
    if one.type in ("radios", "checkboxes", "yes_no"):
        return {}
    return {one.id: ""}


def missing(one: Field) -> list[WrongAnswer]:
    """The field left empty: the errors that ask for it (none when it is optional; one
    per part an address must have)."""
    if one.optional:
        return []
    if one.type == "address":
        return [
            WrongAnswer(one, "left empty", empty_data(one), f"Enter the {name}", f"{one.id}-{part}")
            for part, name in REQUIRED_ADDRESS_PARTS.items()
        ]
    messages = {
        "date": f"Enter a date for {quoted(one)}",
        "radios": f"Select an answer for {quoted(one)}",
        "select": f"Select an answer for {quoted(one)}",
        "yes_no": f"Select an answer for {quoted(one)}",
        "checkboxes": f"Select at least one option for {quoted(one)}",
        "file": f"Choose a file for {quoted(one)}",
    }
    message = messages.get(one.type, f"Enter an answer for {quoted(one)}")
    return [WrongAnswer(one, "left empty", empty_data(one), message, one.id)]


def wrong_answers(one: Field) -> list[WrongAnswer]:
    """Every kind of wrong answer ``one``'s type and validators must refuse (besides empty)."""
    return _BY_TYPE[one.type](one)


def _typed(one: Field, why: str, value: str, message: str) -> WrongAnswer:
    return WrongAnswer(one, why, {one.id: value}, message, one.id)


def _too_long(one: Field) -> WrongAnswer:
    message = f"{quoted(one)} must be {limit(one)} characters or fewer"
    return _typed(one, "too long", "x" * (limit(one) + 1), message)


def _text(one: Field) -> list[WrongAnswer]:
    found = [_too_long(one)]
    if one.pattern and one.pattern_error:
        value = next(v for v in NOT_MATCHING if not re.match(one.pattern, v))
        found.append(_typed(one, f"not like {one.pattern}", value, one.pattern_error("en")))
    if one.check and one.pattern_error:
        # The right shape with the wrong check digits: a typing slip the pattern lets through.
        value = WRONG_CHECK[one.check]
        found.append(_typed(one, f"wrong {one.check} check", value, one.pattern_error("en")))
    return found


def _email(one: Field) -> list[WrongAnswer]:
    message = "Enter an email address in the right format, like name@example.com"
    return [_typed(one, "no @", "ana.example.es", message)]


def _phone(one: Field) -> list[WrongAnswer]:
    message = "Enter a phone number, like 600 123 456 or +34 600 123 456"
    return [_typed(one, "words", "call me after six", message)]


def _number(one: Field) -> list[WrongAnswer]:
    found = [
        _typed(one, "words", "twelve", f"{quoted(one)} must be a number"),
        _typed(one, "infinite", "Infinity", f"{quoted(one)} must be a number"),
    ]
    if one.whole:
        found.append(_typed(one, "a fraction", "2.5", f"{quoted(one)} must be a whole number"))
    step = Decimal(1) if one.whole else Decimal("0.01")
    if one.min is not None:
        message = f"{quoted(one)} must be {one.min} or more"
        found.append(_typed(one, "too small", str(one.min - step), message))
    if one.max is not None:
        message = f"{quoted(one)} must be {one.max} or less"
        found.append(_typed(one, "too big", str(one.max + step), message))
    return found


def _date(one: Field) -> list[WrongAnswer]:
    def wrong(why: str, day: date | tuple[str, str, str], message: str) -> WrongAnswer:
        parts = (str(day.day), str(day.month), str(day.year)) if isinstance(day, date) else day
        data = dict(zip((f"{one.id}-day", f"{one.id}-month", f"{one.id}-year"), parts, strict=True))
        return WrongAnswer(one, why, data, f"{quoted(one)} {message}", one.id)

    found = [
        wrong("no day", ("", "3", "2001"), "must include a day"),
        wrong("no year", ("4", "3", ""), "must include a year"),
        wrong("30 February", ("30", "2", "2001"), "must be a real date"),
        wrong("words", ("first", "May", "2001"), "must be a real date"),
    ]
    if one.past:
        later = date.today() + timedelta(days=400)
        found.append(wrong("in the future", later, "must be today or in the past"))
    if one.future:
        earlier = date.today() - timedelta(days=1)
        found.append(wrong("in the past", earlier, "must be today or in the future"))
    return found


def _one_choice(one: Field) -> list[WrongAnswer]:
    """A value that is not one of the options (only a tampered form sends one)."""
    return [_typed(one, "not an option", NOT_AN_OPTION, f"Select an answer for {quoted(one)}")]


def _checkboxes(one: Field) -> list[WrongAnswer]:
    message = f"Select at least one option for {quoted(one)}"
    found = [WrongAnswer(one, "not an option", {one.id: [NOT_AN_OPTION]}, message, one.id)]
    if one.min_choices and one.min_choices > 1:
        message = f"Select at least {one.min_choices} options for {quoted(one)}"
        found.append(WrongAnswer(one, "too few", {one.id: [one.options[0].value]}, message, one.id))
    return found


def _textarea(one: Field) -> list[WrongAnswer]:
    return [_too_long(one)]


def _address(one: Field) -> list[WrongAnswer]:
    def wrong(why: str, part: str, value: str, message: str) -> WrongAnswer:
        typed = {**sample(one), part: value}
        data = {f"{one.id}-{key}": text for key, text in typed.items()}
        return WrongAnswer(one, why, data, message, f"{one.id}-{part}")

    found = [  # each missing part is asked for when the page is sent empty
        wrong(
            f"postcode {postcode}", "postcode", postcode, "Enter a postcode of 5 digits, like 28999"
        )
        for postcode in ("2899", "28 999", "ABCDE")
    ]
    found.append(
        wrong("street too long", "street", "x" * 201, "“Street” must be 200 characters or fewer")
    )
    return found


def _file(one: Field) -> list[WrongAnswer]:
    how = {f"{one.id}__how": "upload"} if one.may_be_already_provided else {}
    found = [
        WrongAnswer(
            one,
            "a program named .pdf",
            {one.id: (io.BytesIO(NOT_A_DOCUMENT), "contract.pdf"), **how},
            "The selected file must be a PDF, JPG or PNG",
            one.id,
        ),
        WrongAnswer(
            one,
            "an empty file",
            {one.id: (io.BytesIO(b""), "empty.pdf"), **how},
            "The selected file is empty",
            one.id,
        ),
    ]
    if one.may_be_already_provided:
        told = f"Say when and to whom you handed in {quoted(one)}"
        too_long = "“To which office or service?” must be 200 characters or fewer"
        for why, when, to_whom, part, message in (
            ("handed in, but not when", "", "Registro General", "when", told),
            ("handed in, but not to whom", "In March", "", "to_whom", told),
            ("handed in, to too long a name", "In March", "x" * 201, "to_whom", too_long),
        ):
            data = {
                one.id: (io.BytesIO(b""), ""),
                f"{one.id}__how": "provided",
                f"{one.id}__when": when,
                f"{one.id}__to_whom": to_whom,
            }
            found.append(WrongAnswer(one, why, data, message, f"{one.id}__{part}"))
    return found


_BY_TYPE = {
    "text": _text,
    "email": _email,
    "phone": _phone,
    "number": _number,
    "date": _date,
    "radios": _one_choice,
    "select": _one_choice,
    "yes_no": _one_choice,
    "checkboxes": _checkboxes,
    "textarea": _textarea,
    "address": _address,
    "file": _file,
}
