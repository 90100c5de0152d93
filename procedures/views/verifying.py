"""The public verify page: anyone holding a document checks its CSV and downloads the original.

No account is needed (a landlord or a bank checks a citizen's certificate). Only lookups
that find nothing (404) count against the address's limit: guessing is what fails, so a
guesser is slowed to a few tries a minute against 2**100 codes, while a bank checking real
documents all day never is.
"""

from __future__ import annotations

from flask import abort, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField

from portal.extensions import limiter
from procedures import catalogue, documents
from procedures.views import current_lang, pdf_attachment
from procedures.views import verify_blueprint as blueprint

LOOKUPS = "20 per minute;200 per day"


def _found_nothing(response: Response) -> bool:
    return response.status_code == 404


class VerifyForm(FlaskForm):
    """Read from the query string (a GET form: a lookup changes nothing, and the printed
    address can carry the code)."""

    class Meta:
        csrf = False

    code = StringField()


def _looking_up() -> bool:
    return "code" in request.args


@blueprint.route("/")
@limiter.limit(LOOKUPS, exempt_when=lambda: not _looking_up(), deduct_when=_found_nothing)
def verify() -> str | Response:
    form = VerifyForm(request.args)
    form.code.label.text = _("Secure verification code (CSV)")
    document = None
    looked_up = _looking_up()
    if looked_up:
        code = documents.normalise(form.code.data or "")
        if not (form.code.data or "").strip():
            form.code.errors = [_("Enter the secure verification code")]
        elif code is None:
            form.code.errors = [
                _("Enter the code as it is printed on the document: 20 letters and numbers")
            ]
        else:
            document = documents.find(code)
    agency = None
    if document is not None:
        agency = catalogue.current().agencies.get(document.agency)
    html = render_template(
        "procedures/verify.html",
        form=form,
        looked_up=looked_up and not form.code.errors,
        document=document,
        agency=agency,
        title=documents.title_of(document, current_lang()) if document else None,
        csv=documents.grouped(document.csv) if document else None,
    )
    unknown = looked_up and not form.code.errors and document is None
    response = make_response(html, 404 if unknown else 400 if form.code.errors else 200)
    # The code in the address is as good as the document: keep it out of caches and referrers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blueprint.route("/<code>/document.pdf")
@limiter.limit(LOOKUPS, deduct_when=_found_nothing)
def download(code: str) -> Response:
    normal = documents.normalise(code)
    document = documents.find(normal) if normal else None
    if document is None:
        abort(404)
    response = pdf_attachment(documents.pdf_of(document), documents.file_name(document))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
