"""What a decision says and the documents it produces, in the citizen's language.

Staff pick the grounds of a decision from a list (free words may be added); the list is
translated like every other string, so a caseworker reading Spanish decides and the
citizen who applied in Basque reads the grounds, the resolution and the certificate in
Basque. The texts are rendered under ``force_locale`` for the application's language.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from procedures.definitions import LANGUAGES, Procedure
from procedures.models import Application

FAVOURABLE = "resolved_favourable"
UNFAVOURABLE = "resolved_unfavourable"
OUTCOMES = {
    FAVOURABLE: _l("Favourable: approve the application"),
    UNFAVOURABLE: _l("Unfavourable: refuse the application"),
}
#: The grounds staff choose from, per outcome.
GROUNDS: dict[str, dict[str, LazyString]] = {
    FAVOURABLE: {
        "meets_requirements": _l(
            "The application meets every requirement of the procedure and the documents "
            "provided prove it."
        ),
        "meets_after_correction": _l(
            "After the information you sent at our request, the application meets every "
            "requirement of the procedure."
        ),
    },
    UNFAVOURABLE: {
        "requirements_not_met": _l(
            "The application does not meet the requirements of the procedure."
        ),
        "not_corrected": _l(
            "We asked you for information or a correction and did not receive it in time."
        ),
        "out_of_time": _l("The application was sent after the period for applying had closed."),
        "not_entitled": _l("The applicant is not among the people who may apply."),
    },
}


def grounds_text(outcome: str, key: str, extra: str, lang: str) -> str:
    """The grounds as the citizen reads them, in ``lang``, followed by the staff's words."""
    with force_locale(lang):
        text = str(GROUNDS[outcome][key])
    return f"{text}\n\n{extra.strip()}" if extra.strip() else text


def document_texts(
    application: Application,
    procedure: Procedure,
    kind: str,
    grounds: str,
    decided_at: datetime,
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The title in every language and the body in the application's language (the grounds
    are already in it), for ``procedures.documents.issue``."""
    lang = application.language if application.language in LANGUAGES else "es"
    number = application.registry_entry.number if application.registry_entry else ""
    titles: dict[str, str] = {}
    own = procedure.certificate if kind == "certificate" else None
    for one in LANGUAGES:
        with force_locale(one):
            name = procedure.text(one).title
            if own is not None:
                titles[one] = own.title(one)
            elif kind == "certificate":
                titles[one] = _("Certificate: %(procedure)s", procedure=name)
            else:
                titles[one] = _("Resolution: %(procedure)s", procedure=name)
    with force_locale(lang):
        values = {
            "agency": procedure.agency.name(lang),
            "procedure": procedure.text(lang).title,
            "reference": application.reference,
            "number": number,
            "sent": format_date(application.submitted_at, "long"),
            "decided": format_date(decided_at, "long"),
        }
        if own is not None:
            body = own.paragraphs(lang, {**values, **_about(application, procedure, lang)})
        elif kind == "certificate":
            body = [
                _(
                    "%(agency)s certifies that the application %(reference)s for "
                    "“%(procedure)s”, registered under number %(number)s on %(sent)s, was "
                    "approved on %(decided)s.",
                    **values,
                ),
            ]
        else:
            favourable = application.status == FAVOURABLE or _was(application, FAVOURABLE)
            body = [
                _(
                    "%(agency)s has examined the application %(reference)s for "
                    "“%(procedure)s”, registered under number %(number)s on %(sent)s.",
                    **values,
                ),
                _("Decision of %(decided)s: the application is approved.", **values)
                if favourable
                else _("Decision of %(decided)s: the application is refused.", **values),
                _("Grounds: %(grounds)s", grounds=grounds),
                _(
                    "You may appeal against this resolution within one month of receiving "
                    "it (Ley 39/2015, articles 112 and 121 to 124)."
                ),
            ]
    return titles, {lang: body}


def _about(application: Application, procedure: Procedure, lang: str) -> dict[str, str]:
    """What a procedure's own certificate may say of the applicant and their answers: the
    name and identifier as the application gave them (else as the record holds them now),
    each answer as on the receipt. What is unknown or unanswered is left out, so that the
    paragraph naming it is left out too (``DocumentTemplate.paragraphs``)."""
    from identity import record
    from identity.models import Account
    from portal.extensions import db
    from procedures import labels

    values = {"name": "", "national_id": ""}
    account = db.session.get(Account, application.account_id) if application.account_id else None
    if account is not None:
        held = record.attributes(account)
        names = [str(held[key].value) for key in ("given_name", "family_name") if key in held]
        values["name"] = " ".join(names)
        values["national_id"] = str(held["national_id"].value) if "national_id" in held else ""
    answers = application.answers
    given = " ".join(str(answers[key]) for key in ("given_name", "family_name") if answers.get(key))
    values["name"] = given or values["name"]
    values["national_id"] = str(answers.get("national_id") or values["national_id"])
    if procedure.form is not None:
        for _page, one in procedure.form.fields():
            if answers.get(one.id) not in (None, "", []):
                values[f"answer_{one.id}"] = labels.format_answer(one, answers[one.id], lang)
    return {key: value for key, value in values.items() if value}


def _was(application: Application, state: str) -> bool:
    return any(event.to_state == state for event in application.events)
