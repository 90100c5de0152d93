"""The registry receipt as a tagged PDF (PDF/UA-1) in the citizen's language.

WeasyPrint writes the structure tree from the HTML (headings, tables, lists), the
document language and the title, so screen readers read the receipt as they read the
page. Fonts come from the system (DejaVu covers Latin and Arabic).
"""

from __future__ import annotations

from typing import Any

from flask import render_template
from markupsafe import Markup, escape
from weasyprint import HTML

from procedures import applications, forms, labels
from procedures.definitions import Procedure
from procedures.models import Application


def answer_rows(
    application: Application, procedure: Procedure, answers: dict[str, Any], lang: str
) -> list[dict[str, Any]]:
    """One row per question asked ({key, value, page}), with where a prefilled value came from."""
    rows = []
    provenance = application.provenance or {}
    for visible in applications.visible_pages(procedure, answers):
        for one in visible.fields:
            value = escape(labels.format_answer(one, answers.get(one.id), lang))
            source = provenance.get(one.id)
            if source and forms.same_value(one, answers.get(one.id), source.get("value")):
                note = labels.provenance_text(source)
                if note:
                    value = Markup('{}<span class="hint">{}</span>').format(value, note)
            rows.append({"key": one.label(lang), "value": value, "page": visible})
    return rows


def pdf(application: Application, procedure: Procedure, lang: str) -> bytes:
    """The receipt in ``lang`` (the caller sets the locale), with its CSV when it has one."""
    from procedures import documents

    receipt = documents.receipt_of(application)
    html = render_template(
        "procedures/receipt_pdf.html",
        application=application,
        procedure=procedure,
        entry=application.registry_entry,
        rows=answer_rows(application, procedure, application.answers, lang),
        lang=lang,
        csv=documents.grouped(receipt.csv) if receipt else None,
        verify_url=documents.verify_url(receipt) if receipt else None,
    )
    document = HTML(string=html, base_url=None)
    return document.write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True)  # type: ignore[no-any-return]
