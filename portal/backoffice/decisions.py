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
    for one in LANGUAGES:
        with force_locale(one):
            name = procedure.text(one).title
            titles[one] = (
                _("Certificate: %(procedure)s", procedure=name)
                if kind == "certificate"
                else _("Resolution: %(procedure)s", procedure=name)
            )
    with force_locale(lang):
        values = {
            "agency": procedure.agency.name(lang),
            "procedure": procedure.text(lang).title,
            "reference": application.reference,
            "number": number,
            "sent": format_date(application.submitted_at, "long"),
            "decided": format_date(decided_at, "long"),
        }
        if kind == "certificate":
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


def _was(application: Application, state: str) -> bool:
    return any(event.to_state == state for event in application.events)
