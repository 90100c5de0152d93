"""The procedure pages: the catalogue under ``/<lang>/procedures/``, applications under
``/<lang>/applications/`` and appointments under ``/<lang>/appointments/``. Views read a
form, call ``procedures``' plain functions and choose the next page."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, make_response
from flask_babel import get_locale
from werkzeug.wrappers import Response

TEMPLATES = str(Path(__file__).resolve().parent.parent / "templates")

catalogue_blueprint = Blueprint(
    "procedures", __name__, url_prefix="/<lang:lang>/procedures", template_folder=TEMPLATES
)
applications_blueprint = Blueprint(
    "applications", __name__, url_prefix="/<lang:lang>/applications", template_folder=TEMPLATES
)

appointments_blueprint = Blueprint(
    "appointments", __name__, url_prefix="/<lang:lang>/appointments", template_folder=TEMPLATES
)

verify_blueprint = Blueprint(
    "verify", __name__, url_prefix="/<lang:lang>/verify", template_folder=TEMPLATES
)


def pdf_attachment(content: bytes, filename: str) -> Response:
    """A PDF the browser saves under ``filename`` (receipts, certificates, decisions)."""
    response = make_response(content)
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def current_lang() -> str:
    """The page's language (the URL prefix), for definition texts that come per language."""
    return str(get_locale() or "es")


def init_app(app: Flask) -> None:
    from identity import signals
    from procedures import applications, appointments, catalogue, documents, labels, offices

    signals.account_closing.connect(applications.forget_drafts)
    signals.account_closing.connect(appointments.release_upcoming)
    catalogue.init_app(app)
    offices.init_app(app)
    app.register_blueprint(catalogue_blueprint)
    app.register_blueprint(applications_blueprint)
    app.register_blueprint(appointments_blueprint)
    app.register_blueprint(verify_blueprint)
    app.context_processor(lambda: {"lang": current_lang()})
    app.jinja_env.globals.update(
        topic_label=labels.topic_label,
        life_event_label=labels.life_event_label,
        channel_label=labels.channel_label,
        format_fee=labels.format_fee,
        format_answer=labels.format_answer,
        provenance_text=labels.provenance_text,
        registry_time=labels.registry_time,
        office_date=labels.office_date,
        office_time=labels.office_time,
        day_label=labels.day_label,
        document_title=labels.document_title,
        document_kind_label=labels.document_kind_label,
        grouped_csv=documents.grouped,
        assisted_name=applications.owner_name,
    )


from procedures.views import applying, booking, browsing, verifying  # noqa: E402, F401
