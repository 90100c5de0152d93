"""Documents we issue, each with a Código Seguro de Verificación (CSV).

The CSV is printed on the document with the address of the verify page, so whoever holds
a printed or forwarded copy (a landlord, a bank, another office) can check it is authentic
and download the original, without an account (Ley 39/2015 art. 27.3.a). Codes are 20
symbols from a 32-letter alphabet without look-alikes (100 random bits): with the verify
page limited to a few tries a minute, guessing a valid code would take longer than the
universe has existed.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import func, select
from weasyprint import HTML

from identity.models import utcnow
from portal.extensions import db
from portal.mail import public_url
from procedures import catalogue, signals
from procedures.models import Application, IssuedDocument

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LENGTH = 20
KINDS = ("receipt", "certificate", "resolution")
_SEPARATORS = re.compile(r"[\s\-.·]+")


def new_csv() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def grouped(csv: str) -> str:
    """``ABCD-EFGH-…``: how the code is printed and read aloud."""
    return "-".join(csv[i : i + 4] for i in range(0, len(csv), 4))


def normalise(typed: str) -> str | None:
    """The code as stored, from what a person typed (any case, spaces or hyphens), or None
    when it cannot be a code at all (wrong length or a symbol we never print)."""
    code = _SEPARATORS.sub("", typed or "").upper()
    if len(code) != LENGTH or any(symbol not in ALPHABET for symbol in code):
        return None
    return code


def find(code: str) -> IssuedDocument | None:
    return db.session.scalar(select(IssuedDocument).where(IssuedDocument.csv == code))


def issue_receipt(application: Application, now: datetime | None = None) -> IssuedDocument:
    """The registry receipt's CSV, in the submission's own transaction (the caller commits)."""
    procedure = catalogue.from_snapshot(application.snapshot)
    document = IssuedDocument(
        csv=new_csv(),
        kind="receipt",
        account_id=application.account_id,
        application_id=application.id,
        agency=procedure.agency.key,
        title={lang: procedure.text(lang).title for lang in procedure.texts},
        language=application.language,
        issued_at=now or utcnow(),
    )
    db.session.add(document)
    return document


def issue(
    application: Application,
    kind: str,
    title: dict[str, str],
    body: dict[str, list[str]],
    now: datetime | None = None,
) -> IssuedDocument:
    """Issue a certificate or resolution for ``application`` in its citizen's language, as a
    tagged PDF with the CSV and the verify address printed on it. The caller commits.

    ``title`` and ``body`` hold the texts per language; the PDF uses the application's
    language (or Spanish, when the texts lack it), and the exact bytes are kept.
    """
    if kind not in KINDS[1:]:
        raise ValueError(f"unknown document kind {kind!r}")
    procedure = catalogue.from_snapshot(application.snapshot)
    lang = application.language if application.language in body else "es"
    document = IssuedDocument(
        csv=new_csv(),
        kind=kind,
        account_id=application.account_id,
        application_id=application.id,
        agency=procedure.agency.key,
        title=title,
        language=lang,
        issued_at=now or utcnow(),
    )
    with force_locale(lang):
        html = render_template(
            "procedures/document_pdf.html",
            document=document,
            title=title_of(document, lang),
            agency=procedure.agency,
            application=application,
            paragraphs=body[lang],
            lang=lang,
            csv=grouped(document.csv),
            verify_url=verify_url(document),
        )
    content: bytes = HTML(string=html, base_url=None).write_pdf(
        pdf_variant="pdf/ua-1", pdf_tags=True
    )
    document.content = content
    document.sha256 = hashlib.sha256(content).hexdigest()
    db.session.add(document)
    db.session.flush()
    signals.document_issued.send(document)
    return document


def verify_url(document: IssuedDocument) -> str:
    """The address printed on the document: on ``PUBLIC_URL``, never the request's Host."""
    return public_url("verify.verify", lang=document.language, code=grouped(document.csv))


def title_of(document: IssuedDocument, lang: str) -> str:
    titles = document.title or {}
    return titles.get(lang) or titles.get(document.language) or next(iter(titles.values()), "")


def for_account(account_id: int, application_id: int | None = None) -> list[IssuedDocument]:
    """The citizen's documents, newest first (only one application's, if given)."""
    query = select(IssuedDocument).where(IssuedDocument.account_id == account_id)
    if application_id is not None:
        query = query.where(IssuedDocument.application_id == application_id)
    return list(
        db.session.scalars(
            query.order_by(IssuedDocument.issued_at.desc(), IssuedDocument.id.desc())
        )
    )


def count_for_account(account_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(IssuedDocument)
            .where(IssuedDocument.account_id == account_id)
        )
        or 0
    )


def receipt_of(application: Application) -> IssuedDocument | None:
    return db.session.scalar(
        select(IssuedDocument).where(
            IssuedDocument.application_id == application.id, IssuedDocument.kind == "receipt"
        )
    )


def pdf_of(document: IssuedDocument) -> bytes:
    """The document's PDF: the bytes issued, or the receipt drawn in its citizen's language."""
    if document.content is not None:
        return document.content
    from procedures import receipts

    application = document.application
    if application is None or application.registry_entry is None:
        raise LookupError(f"receipt {document.id} has no registry entry")
    with force_locale(document.language):
        return receipts.pdf(
            application, catalogue.from_snapshot(application.snapshot), document.language
        )


def file_name(document: IssuedDocument) -> str:
    if document.kind == "receipt" and document.application and document.application.registry_entry:
        return f"{document.application.registry_entry.number}.pdf"
    return f"{document.kind}-{grouped(document.csv)}.pdf"
