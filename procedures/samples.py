"""Valid sample answers for any procedure's form, made from the definition itself.

Demo data fills a busy folder with them and tests apply for every shipped procedure with
them, so one place knows what a valid answer to each field type looks like.
"""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from typing import Any

from werkzeug.datastructures import FileStorage

from procedures import applications, uploads
from procedures.definitions import Field, Procedure
from procedures.models import Application

#: The smallest file the upload check accepts as a PDF.
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
#: One value for each pattern a definition may set (DNI, number plate, IBAN, CIF, postcode, phone).
PATTERN_SAMPLES = [
    "12345678Z",
    "1234 BCD",
    "ES9121000418450200051332",
    "B12345678",
    "28999",
    "600123456",
]


def sample(one: Field, choice: int = 0) -> Any:
    """A valid answer for ``one`` (``choice`` picks another option for choice fields)."""
    if one.type == "text":
        if one.pattern:
            return next(s for s in PATTERN_SAMPLES if re.match(one.pattern, s))
        return "Texto de prueba"
    if one.type == "email":
        return "ana@example.es"
    if one.type == "phone":
        return "600 123 456"
    if one.type == "number":
        low = one.min if one.min is not None else 1
        return str(max(low, 1) if one.max is None or one.max >= 1 else low)
    if one.type == "date":
        if one.future:
            return (date.today() + timedelta(days=10)).isoformat()
        return "2000-01-15"
    if one.type in ("radios", "select"):
        return one.options[min(choice, len(one.options) - 1)].value
    if one.type == "checkboxes":
        return [one.options[min(choice, len(one.options) - 1)].value]
    if one.type == "yes_no":
        return "yes" if choice == 0 else "no"
    if one.type == "textarea":
        return "Una explicación con acentos: ñandú, pingüino."
    if one.type == "address":
        return {
            "street": "Calle Nueva",
            "number": "7",
            "floor_door": "1º A",
            "postcode": "28999",
            "municipality": "Villanueva",
            "province": "Madrid",
        }
    if one.type == "file":
        return "upload"
    raise ValueError(one.type)


def fill(
    application: Application,
    procedure: Procedure,
    stop_at: str | None = None,
    answers: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Answer every page in order (up to the page ``stop_at``), uploading a small PDF for
    each file, and store the answers in the draft. The caller commits or submits."""
    answers = dict(answers or {})
    target = applications.find_page(procedure, stop_at) if stop_at else None
    if target is not None and target.show_if is not None:  # answer so that the page is asked
        condition = target.show_if
        kind = applications.find_field(procedure, condition.field).type  # type: ignore[union-attr]
        answers[condition.field] = (
            [condition.values[0]] if kind == "checkboxes" else condition.values[0]
        )
    for _ in range(100):
        page = applications.first_unanswered(procedure, answers)
        if page is None or page.id == stop_at:
            break
        for one in page.fields:
            if one.id in answers:
                continue
            if one.type == "file":
                upload = FileStorage(io.BytesIO(PDF), filename=f"{one.id}.pdf")
                stored = uploads.store(application, one.id, upload)
                answers[one.id] = {
                    "file_id": stored.id,
                    "name": stored.original_name,
                    "size": stored.size,
                }
            elif one.id == "oppose_consultations":
                answers[one.id] = [one.options[0].value]  # objects, so the upload page shows
            else:
                answers[one.id] = sample(one)
    application.answers = answers
    return answers
