"""Texts and helpers shared by the component macros in ``templates/components``.

The macros take every visible string as a parameter (so a component never
hard-codes a language, as in govuk-frontend); the strings most pages pass are
defined once here, lazily translated, and offered to templates as ``texts``.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

TEXTS = {
    "error_summary_title": _l("There is a problem"),
    "error_prefix": _l("Error:"),
    "optional": _l("(optional)"),
    "change": _l("Change"),
    "important": _l("Important"),
    "success": _l("Success"),
    "previous_page": _l("Previous page"),
    "next_page": _l("Next page"),
    "pages": _l("Pages"),
    "completed": _l("Completed"),
    "not_started": _l("Not yet started"),
    "cannot_start": _l("Cannot start yet"),
    "history": _l("History"),
}


def page_label(number: int) -> str:
    """The accessible name of a numbered page link ("Page 3")."""
    from flask_babel import gettext

    return gettext("Page %(number)s", number=number)


def form_errors(form: FlaskForm) -> Iterator[tuple[str, str]]:
    """(field id, first message) for every field with an error, in form order.

    The error summary links to the id; for a group of radios or checkboxes the
    id is the first option's, which is what the field macro gives it.
    """
    for field in form:
        if isinstance(field.errors, dict):  # a FormField (an address): its parts' errors
            for part in field:
                if part.errors:
                    yield part.id, str(part.errors[0])
        elif field.errors:
            yield field.id, str(field.errors[0])


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(texts=TEXTS, form_errors=form_errors, page_label=page_label)
