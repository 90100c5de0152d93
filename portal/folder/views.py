"""The folder's pages: thin views over ``portal.folder.cases`` and ``data_use``."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import MultipleFileField, RadioField, SelectChoice, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from identity import signin
from identity.models import utcnow
from portal import notifications, suggestions
from portal.extensions import db, limiter
from portal.folder import blueprint, cases, data_use, export, satisfaction
from portal.folder import my_data as my_data_module
from procedures import applications, appointments, documents, offices, uploads, workflow
from procedures.models import IssuedDocument
from procedures.views import current_lang, pdf_attachment

ANSWER_MAX = 5000
CORRECTION_MAX = 500


@blueprint.before_request
@login_required
def _signed_in() -> None:
    """Every folder page is the signed-in citizen's own."""


def page_count(total: int, size: int, page: int) -> int:
    """How many pages ``total`` rows fill (at least one); 404 for a page past the last."""
    pages = max(1, -(-total // size))
    if page > pages:
        abort(404)
    return pages


def page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


@blueprint.route("/")
def overview() -> str:
    lang = current_lang()
    upcoming = appointments.upcoming(current_user)
    return render_template(
        "folder/overview.html",
        waiting=cases.waiting_for_citizen(current_user.id, lang),
        expiring=cases.expiring_drafts(current_user.id, lang),
        next_appointment=upcoming[0] if upcoming else None,
        offices=offices.current().offices,
        recent=cases.recent(current_user.id, lang),
        documents_count=documents.count_for_account(current_user.id),
        unread=notifications.unread_count(current_user.id),
        suggestions=suggestions.for_account(current_user.id, lang),
    )


@blueprint.route("/cases")
def case_list() -> str:
    lang = current_lang()
    page = page_number()
    found, total = cases.submitted(current_user.id, lang, page)
    pages = page_count(total, cases.PAGE_SIZE, page)
    return render_template(
        "folder/cases.html",
        cases=found,
        total=total,
        page=page,
        pages=pages,
        drafts=cases.drafts(current_user.id, lang) if page == 1 else [],
    )


def _own_case(reference: str) -> cases.Case:
    case = cases.find(current_user.id, reference, current_lang())
    if case is None:
        abort(404)
    return case


def _timeline(case: cases.Case) -> list[dict[str, Any]]:
    titles = {
        "submitted": _("You sent your application"),
        "information_requested": _("We asked you for information"),
        "information_provided": _("You answered our request"),
        "receipt_emailed": _("We emailed you the receipt"),
        "notification_opened": _("You opened our formal notification"),
    }
    lang = current_lang()
    states = case.procedure.workflow.states
    events = []
    for event in reversed(case.application.events):
        if not event.visible_to_citizen:
            continue
        title = titles.get(event.kind)
        if title is None and event.to_state in states:
            title = _("Status: %(status)s", status=states[event.to_state].citizen(lang))
        events.append(
            {
                "title": title or event.kind,
                "datetime": event.at.isoformat(),
                "time_text": format_datetime(event.at, "medium"),
                "body": event.reason,
            }
        )
    return events


@blueprint.route("/cases/<reference>")
def case(reference: str) -> str:
    found = _own_case(reference)
    return render_template(
        "folder/case.html",
        case=found,
        events=_timeline(found),
        documents=documents.for_account(current_user.id, found.application.id),
        files=found.application.files,
        can_withdraw=applications.can_withdraw(found.application, found.procedure),
        survey=satisfaction.invitation(found.application.id),
    )


class SatisfactionForm(FlaskForm):
    rating = RadioField(
        _l("Overall, how did you feel about the service you received?"),
        choices=[SelectChoice(str(value), text) for value, text in satisfaction.RATINGS.items()],
        validate_choice=False,  # checked below, with our translated message
        validators=[InputRequired(_l("Select how satisfied you were"))],
    )
    comment = TextAreaField(
        _l("How could we improve this service?"),
        validators=[
            Length(
                max=satisfaction.COMMENT_MAX,
                message=_l("Write no more than %(max)s characters", max=satisfaction.COMMENT_MAX),
            )
        ],
    )

    def validate_rating(self, field: RadioField) -> None:
        if field.data not in {str(value) for value in satisfaction.RATINGS}:
            raise ValidationError(_l("Select how satisfied you were"))


@blueprint.route("/cases/<reference>/satisfaction", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def satisfaction_survey(reference: str) -> str | Response:
    """Rate a closed case, once (``portal.folder.satisfaction``: the answer is anonymous)."""
    found = _own_case(reference)
    survey = satisfaction.invitation(found.application.id)
    if survey is None:
        abort(404)
    if survey.answered:
        flash(_("You have already told us how we did. Thank you."), "success")
        return redirect(url_for(".case", reference=reference))
    form = SatisfactionForm()
    if form.validate_on_submit():
        rating = int(form.rating.data)
        comment = form.comment.data or ""
        if satisfaction.answer(found.application, found.procedure, rating, comment, current_lang()):
            db.session.commit()
            flash(_("Thank you. Your answer helps us improve this service."), "success")
        else:  # answered meanwhile, in another tab
            db.session.rollback()
            flash(_("You have already told us how we did. Thank you."), "success")
        return redirect(url_for(".case", reference=reference))
    return render_template(
        "folder/satisfaction.html", case=found, form=form, comment_max=satisfaction.COMMENT_MAX
    )


class AnswerForm(FlaskForm):
    message = TextAreaField(validators=[Length(max=ANSWER_MAX)])
    files = MultipleFileField()


@blueprint.route("/cases/<reference>/answer", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def answer(reference: str) -> str | Response:
    """Answer a request for information: a message, files, or both, on one page."""
    found = _own_case(reference)
    if found.request is None:
        return redirect(url_for(".case", reference=reference))
    form = AnswerForm()
    form.message.label.text = _("Your answer")
    form.files.label.text = _("Files")
    form.message.validators[0].message = _("Write no more than %(max)s characters", max=ANSWER_MAX)
    if form.validate_on_submit():
        message = (form.message.data or "").strip()
        files = [f for f in (form.files.data or []) if f and f.filename]
        if not message and not files:
            form.message.errors = [_("Write your answer or choose a file to send")]
        else:
            try:
                workflow.answer_request(found.application, found.procedure, message, files)
                db.session.commit()
            except uploads.UploadError as error:
                db.session.rollback()
                form.files.errors = [str(error)]
            except workflow.TransitionRefusedError:
                db.session.rollback()
                flash(_("This request has already been answered or closed."), "important")
                return redirect(url_for(".case", reference=reference))
            else:
                flash(_("We have received your answer. The case is back with us."), "success")
                return redirect(url_for(".case", reference=reference))
    return render_template("folder/answer.html", case=found, form=form)


@blueprint.route("/documents")
def document_list() -> str:
    return render_template(
        "folder/documents.html", documents=documents.for_account(current_user.id)
    )


@blueprint.route("/documents/<code>/document.pdf")
def document(code: str) -> Response:
    found = db.session.scalar(
        select(IssuedDocument).where(
            IssuedDocument.csv == (documents.normalise(code) or ""),
            IssuedDocument.account_id == current_user.id,
        )
    )
    if found is None:
        abort(404)
    return pdf_attachment(documents.pdf_of(found), documents.file_name(found))


@blueprint.route("/my-data")
def my_data() -> str:
    return render_template("folder/my_data.html", rows=my_data_module.rows(current_user))


class CorrectionForm(FlaskForm):
    correct = TextAreaField(validators=[Length(max=CORRECTION_MAX)])


@blueprint.route("/my-data/<name>/correct", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def correct(name: str) -> str | Response:
    """ "This is wrong": say what it should be; a general application carries it to staff."""
    if name not in my_data_module.LABELS:
        abort(404)
    form = CorrectionForm()
    label = str(my_data_module.LABELS[name])
    form.correct.label.text = _("What should your %(what)s be?", what=label.lower())
    form.correct.validators[0].message = _(
        "Write no more than %(max)s characters", max=CORRECTION_MAX
    )
    if form.validate_on_submit():
        value = (form.correct.data or "").strip()
        if not value:
            form.correct.errors = [_("Write what it should be")]
        else:
            application = my_data_module.start_correction(current_user, name, value, current_lang())
            return redirect(url_for("applications.resume", reference=application.reference))
    row = next(r for r in my_data_module.rows(current_user) if r.name == name)
    return render_template("folder/correct.html", form=form, row=row)


@blueprint.route("/data-use")
def data_use_list() -> str:
    by = request.args.get("by")
    if by not in data_use.FILTERS:
        by = None
    return render_template(
        "folder/data_use.html",
        uses=data_use.uses_for(current_user.id, current_lang(), by),
        by=by,
    )


@blueprint.route("/my-data/export")
@signin.reauthentication_required
def export_page() -> str:
    return render_template("folder/export.html", sections=export.sections(current_user.id))


def _export_name(extension: str) -> str:
    return f"portal-ciudadano-{utcnow().date().isoformat()}.{extension}"


@blueprint.route("/my-data/export.json")
@signin.reauthentication_required
def export_json() -> Response:
    response = make_response(export.as_json(current_user.id))
    response.mimetype = "application/json"
    response.headers["Content-Disposition"] = f'attachment; filename="{_export_name("json")}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.route("/my-data/export.html")
@signin.reauthentication_required
def export_html() -> Response:
    html = render_template(
        "folder/export_download.html", sections=export.sections(current_user.id), now=utcnow()
    )
    response = make_response(html)
    response.headers["Content-Disposition"] = f'attachment; filename="{_export_name("html")}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.route("/suggestions/<rule_id>/<trigger>/dismiss", methods=["POST"])
def dismiss_suggestion(rule_id: str, trigger: str) -> Response:
    if not suggestions.dismiss(current_user.id, rule_id, trigger):
        abort(404)
    db.session.commit()
    flash(_("We will not suggest it again."), "success")
    return redirect(url_for(".overview"))
