"""The registry receipt as a tagged PDF (PDF/UA-1) in the citizen's language.

WeasyPrint writes the structure tree from the HTML (headings, tables, lists), the
document language and the title, so screen readers read the receipt as they read the
page. Fonts come from the system (DejaVu covers Latin and Arabic).
"""

from __future__ import annotations

from typing import Any

from flask import render_template
from weasyprint import HTML

from procedures.definitions import Procedure
from procedures.models import Application


def pdf(
    application: Application, procedure: Procedure, lang: str, rows: list[dict[str, Any]]
) -> bytes:
    html = render_template(
        "procedures/receipt_pdf.html",
        application=application,
        procedure=procedure,
        entry=application.registry_entry,
        rows=rows,
        lang=lang,
    )
    document = HTML(string=html, base_url=None)
    return document.write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True)  # type: ignore[no-any-return]
