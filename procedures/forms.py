"""The form engine: a definition's page becomes a WTForms class, and answers go both ways.

Answers are stored as plain JSON values (dates as ``YYYY-MM-DD``, numbers as strings,
checkboxes as lists, addresses as mappings, files as ``{"file_id", "name", "size"}`` or
``{"provided": {"when", "to_whom"}}``), so a draft can be read back into any page and
hashed into the registry entry. Error messages follow GOV.UK's: they say what to do.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import Field as WTField
from wtforms import Form as PlainForm
from wtforms import FormField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.fields import EmailField, TelField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.utils import unset_value
from wtforms.validators import ValidationError

from identity.record import ADDRESS_KEYS
from procedures import identifiers
from procedures.definitions import Field, Page
from procedures.search import fold

POSTCODE = re.compile(r"^[0-9]{5}$")
#: The longest answer a one-line text takes when its definition sets no limit (an address's
#: parts and where a document was handed in included: nothing a citizen types is unbounded).
TEXT_LIMIT = 200
PHONE = re.compile(r"^\+?[0-9 ().-]{6,20}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class DateParts(WTField):
    """A date as three boxes (day, month, year), after GOV.UK's date input.

    What the citizen typed stays in ``parts`` so a wrong date comes back as typed.
    """

    def __init__(self, *args: Any, past: bool = False, future: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.past, self.future = past, future
        self.parts = {"day": "", "month": "", "year": ""}

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        self.process_errors = []
        self.data = None
        keys = {part: f"{self.name}-{part}" for part in self.parts}
        if formdata is not None and any(key in formdata for key in keys.values()):
            self.parts = {part: (formdata.get(key) or "").strip() for part, key in keys.items()}
            self.raw_data = list(self.parts.values())
            self.data = _date(self.parts)
        elif isinstance(data, str) and data:
            self.data = date.fromisoformat(data)
            self.parts = {
                "day": str(self.data.day),
                "month": str(self.data.month),
                "year": str(self.data.year),
            }

    def check(self, label: str, optional: bool) -> None:
        filled = [part for part, value in self.parts.items() if value]
        if not filled:
            if not optional:
                raise ValidationError(_("Enter a date for “%(label)s”", label=label))
            return
        if len(filled) < 3:
            missing = [p for p in ("day", "month", "year") if p not in filled]
            names = {"day": _("a day"), "month": _("a month"), "year": _("a year")}
            raise ValidationError(
                _("“%(label)s” must include %(part)s", label=label, part=names[missing[0]])
            )
        if self.data is None:
            raise ValidationError(_("“%(label)s” must be a real date", label=label))
        if self.past and self.data > date.today():
            raise ValidationError(_("“%(label)s” must be today or in the past", label=label))
        if self.future and self.data < date.today():
            raise ValidationError(_("“%(label)s” must be today or in the future", label=label))


def _date(parts: dict[str, str]) -> date | None:
    try:
        year = int(parts["year"])
        if year < 1900 or year > 2200:
            return None
        return date(year, int(parts["month"]), int(parts["day"]))
    except (ValueError, TypeError):
        return None


class PartsInvalid(ValidationError):
    """The errors are already on the field's parts (an address's street or postcode, when and
    to whom a document was handed in), so the summary links to the part to put right."""


class AddressForm(PlainForm):
    """Spanish postal address: street, number, floor and door, postcode, municipality, province."""

    street = StringField()
    number = StringField()
    floor_door = StringField()
    postcode = StringField()
    municipality = StringField()
    province = StringField()


ADDRESS_AUTOCOMPLETE = {
    "street": "address-line1",
    "number": "address-line2",
    "floor_door": "address-line3",
    "postcode": "postal-code",
    "municipality": "address-level2",
    "province": "address-level1",
}


def address_labels() -> dict[str, str]:
    return {
        "street": _("Street"),
        "number": _("Number"),
        "floor_door": _("Floor and door"),
        "postcode": _("Postcode"),
        "municipality": _("Town or city"),
        "province": _("Province"),
    }


def _yes_no() -> list[SelectChoice]:
    return [SelectChoice("yes", _("Yes")), SelectChoice("no", _("No"))]


def page_form(page: Page, lang: str) -> type[FlaskForm]:
    """A FlaskForm class for one page, in ``lang``; answers are checked by :func:`validate`."""

    class PageForm(FlaskForm):
        pass

    for one in page.fields:
        label = one.label(lang)
        kind = one.type
        wt: WTField
        if kind in ("text",):
            wt = StringField(label)
        elif kind == "email":
            wt = EmailField(label)
        elif kind == "phone":
            wt = TelField(label)
        elif kind == "number":
            wt = StringField(label)
        elif kind == "textarea":
            wt = TextAreaField(label)
        elif kind == "date":
            wt = DateParts(label, past=one.past, future=one.future)
        elif kind == "radios":
            wt = RadioField(
                label,
                choices=[SelectChoice(o.value, o.label(lang)) for o in one.options],
                validate_choice=False,
            )
        elif kind == "select":
            choices = [SelectChoice("", _("Choose an option"))] + [
                SelectChoice(o.value, o.label(lang)) for o in one.options
            ]
            wt = SelectField(label, choices=choices, validate_choice=False)
        elif kind == "checkboxes":
            wt = SelectMultipleField(
                label,
                choices=[SelectChoice(o.value, o.label(lang)) for o in one.options],
                validate_choice=False,
            )
        elif kind == "yes_no":
            wt = RadioField(label, choices=_yes_no(), validate_choice=False)
        elif kind == "address":
            wt = FormField(AddressForm, label, separator="-")
        elif kind == "file":
            wt = FileField(label)
            if one.may_be_already_provided:
                setattr(
                    PageForm,
                    f"{one.id}__how",
                    RadioField(
                        _("How will you give us this document?"),
                        choices=[
                            SelectChoice("upload", _("I will upload it now")),
                            SelectChoice("provided", _("I have already handed it in")),
                        ],
                        validate_choice=False,
                    ),
                )
                setattr(PageForm, f"{one.id}__when", StringField(_("When did you hand it in?")))
                setattr(
                    PageForm, f"{one.id}__to_whom", StringField(_("To which office or service?"))
                )
        else:  # pragma: no cover - the loader allows only the types above
            raise ValueError(kind)
        setattr(PageForm, one.id, wt)
    return PageForm


def initial_data(page: Page, answers: dict[str, Any]) -> dict[str, Any]:
    """Stored answers as the ``data`` a page form starts from."""
    data: dict[str, Any] = {}
    for one in page.fields:
        value = answers.get(one.id)
        if value is None:
            continue
        if one.type == "file":
            provided = value.get("provided") if isinstance(value, dict) else None
            if provided:
                data[f"{one.id}__how"] = "provided"
                data[f"{one.id}__when"] = provided.get("when", "")
                data[f"{one.id}__to_whom"] = provided.get("to_whom", "")
            continue
        data[one.id] = value
    return data


def validate(page: Page, form: FlaskForm, lang: str, stored: dict[str, Any]) -> bool:
    """Check every field of the page; errors go on the fields, as WTForms does.

    ``stored`` are the answers already saved, so a file uploaded before need not be sent again.
    """
    form.validate()  # CSRF, and WTForms' own processing
    ok = not form.errors.get("csrf_token")
    for one in page.fields:
        field = form[one.id]
        label = one.label(lang)
        try:
            _check(one, field, form, label, stored, lang)
        except PartsInvalid:
            ok = False
        except ValidationError as error:
            field.errors = [str(error)]
            ok = False
    return ok


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _check(
    one: Field, field: WTField, form: FlaskForm, label: str, stored: dict[str, Any], lang: str
) -> None:
    kind = one.type
    if kind == "date":
        field.check(label, one.optional)
        return
    if kind == "address":
        _check_address(field, label, one.optional)
        return
    if kind == "file":
        _check_file(one, form, label, stored)
        return
    value = field.data
    if _blank(value):
        if one.optional:
            return
        if kind in ("radios", "select", "yes_no"):
            raise ValidationError(_("Select an answer for “%(label)s”", label=label))
        if kind == "checkboxes":
            raise ValidationError(_("Select at least one option for “%(label)s”", label=label))
        raise ValidationError(_("Enter an answer for “%(label)s”", label=label))
    if kind in ("radios", "select") and value not in {o.value for o in one.options}:
        raise ValidationError(_("Select an answer for “%(label)s”", label=label))
    if kind == "yes_no" and value not in ("yes", "no"):
        raise ValidationError(_("Select an answer for “%(label)s”", label=label))
    if kind == "checkboxes":
        allowed = {o.value for o in one.options}
        if not set(value) <= allowed:
            raise ValidationError(_("Select at least one option for “%(label)s”", label=label))
        if one.min_choices and len(value) < one.min_choices:
            raise ValidationError(
                _(
                    "Select at least %(count)s options for “%(label)s”",
                    count=one.min_choices,
                    label=label,
                )
            )
    if isinstance(value, str):
        value = value.strip()
        limit = one.max_length or (2000 if kind == "textarea" else TEXT_LIMIT)
        if len(value) > limit:
            raise ValidationError(_too_long(label, limit))
    if kind == "email" and not EMAIL.match(value):
        raise ValidationError(
            _("Enter an email address in the right format, like name@example.com")
        )
    if kind == "phone" and not PHONE.match(value):
        raise ValidationError(_("Enter a phone number, like 600 123 456 or +34 600 123 456"))
    if kind == "number":
        _check_number(one, value, label)
    if one.pattern and not re.match(one.pattern, value):
        raise ValidationError(one.pattern_error(lang) if one.pattern_error else label)
    if one.check and isinstance(value, str) and not identifiers.CHECKS[one.check](value):
        raise ValidationError(one.pattern_error(lang) if one.pattern_error else label)


def _too_long(label: str, limit: int) -> str:
    return _("“%(label)s” must be %(limit)s characters or fewer", label=label, limit=limit)


def _check_number(one: Field, value: str, label: str) -> None:
    try:
        number = Decimal(value.replace(" ", "").replace(",", "."))
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():  # "Infinity" and "NaN" parse, but are not amounts
        raise ValidationError(_("“%(label)s” must be a number", label=label))
    if one.whole and number != number.to_integral_value():
        raise ValidationError(_("“%(label)s” must be a whole number", label=label))
    if one.min is not None and number < one.min:
        raise ValidationError(_("“%(label)s” must be %(min)s or more", label=label, min=one.min))
    if one.max is not None and number > one.max:
        raise ValidationError(_("“%(label)s” must be %(max)s or less", label=label, max=one.max))


def _check_address(field: FormField, label: str, optional: bool) -> None:
    values = {key: (field[key].data or "").strip() for key in ADDRESS_KEYS}
    if optional and not any(values.values()):
        return
    names = address_labels()
    for key in ("street", "number", "postcode", "municipality", "province"):
        if not values[key]:
            field[key].errors = [_("Enter the %(part)s", part=names[key].lower())]
    if values["postcode"] and not POSTCODE.match(values["postcode"]):
        field["postcode"].errors = [_("Enter a postcode of 5 digits, like 28999")]
    for key in ADDRESS_KEYS:
        if not field[key].errors and len(values[key]) > TEXT_LIMIT:
            field[key].errors = [_too_long(names[key], TEXT_LIMIT)]
    if any(field[key].errors for key in ADDRESS_KEYS):
        raise PartsInvalid()


def _check_file(one: Field, form: FlaskForm, label: str, stored: dict[str, Any]) -> None:
    """Files themselves are checked by ``procedures.uploads`` when stored; here only presence."""
    how = form[f"{one.id}__how"].data if one.may_be_already_provided else "upload"
    if how == "provided":
        parts = (form[f"{one.id}__when"], form[f"{one.id}__to_whom"])
        blank = next((part for part in parts if _blank(part.data)), None)
        if blank is not None:  # the message asks for both; it sits on the first one missing
            blank.errors = [_("Say when and to whom you handed in “%(label)s”", label=label)]
        for part in parts:
            if not part.errors and len((part.data or "").strip()) > TEXT_LIMIT:
                part.errors = [_too_long(str(part.label.text), TEXT_LIMIT)]
        if any(part.errors for part in parts):
            raise PartsInvalid()
        return
    upload = form[one.id].data
    has_upload = upload is not None and getattr(upload, "filename", "")
    previous = stored.get(one.id)
    if not has_upload and not (isinstance(previous, dict) and previous.get("file_id")):
        if one.optional:
            return
        raise ValidationError(_("Choose a file for “%(label)s”", label=label))


def answers_from(page: Page, form: FlaskForm) -> dict[str, Any]:
    """A valid page's answers as stored JSON values (files are added by the caller)."""
    answers: dict[str, Any] = {}
    for one in page.fields:
        field = form[one.id]
        if one.type == "date":
            answers[one.id] = field.data.isoformat() if field.data else None
        elif one.type == "address":
            values = {key: (field[key].data or "").strip() for key in ADDRESS_KEYS}
            answers[one.id] = values if any(values.values()) else None
        elif one.type == "checkboxes":
            answers[one.id] = list(field.data or [])
        elif one.type == "file":
            if one.may_be_already_provided and form[f"{one.id}__how"].data == "provided":
                answers[one.id] = {
                    "provided": {
                        "when": form[f"{one.id}__when"].data.strip(),
                        "to_whom": form[f"{one.id}__to_whom"].data.strip(),
                    }
                }
        elif one.type == "number":
            value = (field.data or "").strip()
            answers[one.id] = value.replace(" ", "").replace(",", ".") if value else None
        else:
            value = field.data
            answers[one.id] = value.strip() if isinstance(value, str) and value.strip() else None
    return answers


def same_value(one: Field, a: Any, b: Any) -> bool:
    """Whether an answer still says what the record said (ignoring case and accents)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return all(fold(str(a.get(k) or "")) == fold(str(b.get(k) or "")) for k in ADDRESS_KEYS)
    return fold(str(a or "")) == fold(str(b or ""))
