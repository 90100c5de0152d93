"""The emails a citizen gets about an application, in the language they applied in."""

from __future__ import annotations

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from identity.models import Account
from portal import mail
from portal.extensions import db
from procedures.definitions import Procedure
from procedures.models import Application, TimelineEvent


def _public_url(endpoint: str, **values: object) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for(endpoint, **values)


def submitted(application: Application, procedure: Procedure, account: Account) -> None:
    """The confirmation with the registry number; recorded so a resubmission does not resend it."""
    lang = application.language
    with force_locale(lang):
        entry = application.registry_entry
        assert entry is not None  # noqa: S101 - for the type checker; guaranteed by the caller
        subject = _("Application received: %(number)s", number=entry.number)
        context = {
            "subject": subject,
            "lang": lang,
            "application": application,
            "procedure": procedure,
            "entry": entry,
            "link": _public_url(
                "applications.confirmation", lang=lang, reference=application.reference
            ),
        }
        text = render_template("procedures/email/submitted.txt", **context)
        html = render_template("procedures/email/submitted.html", **context)
    mail.send(mail.Email(to=account.email, subject=subject, text=text, html=html, language=lang))
    db.session.add(
        TimelineEvent(
            application_id=application.id,
            kind="receipt_emailed",
            actor="system",
            visible_to_citizen=False,
        )
    )
    db.session.commit()
