"""Applying: question pages, the task list, check your answers, submission and the receipt.

Every page of a draft is addressed by the application's random reference, and only its
owner can open it (anyone else gets a 404, so references cannot be probed).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import TextAreaField
from wtforms.validators import Length

from portal.extensions import db, limiter
from procedures import applications, catalogue, forms, receipts, uploads
from procedures.definitions import Page, Procedure
from procedures.models import Application, ApplicationFile
from procedures.views import applications_blueprint as blueprint
from procedures.views import current_lang, pdf_attachment


class SubmitForm(FlaskForm):
    """Only the CSRF token: the answers are already in the draft."""


def _own(reference: str) -> tuple[Application, Procedure]:
    """The citizen's own application (withdrawing it is theirs alone)."""
    application = db.session.scalar(select(Application).where(Application.reference == reference))
    if application is None or application.account_id != current_user.id:
        abort(404)
    return application, applications.definition_of(application)


def _fillable(reference: str) -> tuple[Application, Procedure]:
    """The application, for its citizen or for the staff member helping them at a counter."""
    application = db.session.scalar(select(Application).where(Application.reference == reference))
    if application is None or not applications.may_fill(application, current_user.id):
        abort(404)
    return application, applications.definition_of(application)


def _draft(reference: str) -> tuple[Application, Procedure]:
    application, procedure = _fillable(reference)
    if not application.is_draft:
        return abort(redirect(url_for(".confirmation", reference=reference)))  # type: ignore[func-returns-value]
    return application, procedure


def _sectioned(procedure: Procedure) -> bool:
    return procedure.form is not None and len(procedure.form.sections) >= 2


def _page_url(application: Application, page: Page, **values: Any) -> str:
    return url_for(".page", reference=application.reference, page_id=page.id, **values)


def _resume_url(application: Application, procedure: Procedure) -> str:
    if _sectioned(procedure):
        return url_for(".tasks", reference=application.reference)
    page = applications.first_unanswered(procedure, application.answers)
    if page is None:
        return url_for(".check", reference=application.reference)
    return _page_url(application, page)


@blueprint.route("/start/<slug>", methods=["POST"])
@login_required
@limiter.limit("30 per minute")
def start(slug: str) -> Response:
    procedure = catalogue.get(slug)
    if procedure is None or procedure.form is None:
        abort(404)
    if not SubmitForm().validate_on_submit():
        abort(400)
    application = applications.start(current_user, procedure, current_lang())
    return redirect(_resume_url(application, procedure))


@blueprint.route("/<reference>/")
@login_required
def resume(reference: str) -> Response:
    """Back to where the citizen left off: the first page not yet answered."""
    application, procedure = _fillable(reference)
    if not application.is_draft:
        return redirect(url_for(".confirmation", reference=reference))
    return redirect(_resume_url(application, procedure))


@blueprint.route("/<reference>/tasks")
@login_required
def tasks(reference: str) -> str:
    application, procedure = _draft(reference)
    answers = application.answers
    visible = applications.visible_pages(procedure, answers)
    items = []
    earlier_done = True
    assert procedure.form is not None  # noqa: S101 - for the type checker; guaranteed by the caller
    for index, section in enumerate(procedure.form.sections):
        pages = [p for p in visible if p.section == section]
        done = all(applications.is_answered(p, answers) for p in pages)
        first = next(
            (p for p in pages if not applications.is_answered(p, answers)),
            pages[0] if pages else None,
        )
        items.append(
            {
                "id": f"section-{index + 1}",
                "title": section(current_lang()),
                "href": _page_url(application, first) if first and earlier_done else None,
                "done": done,
                "startable": earlier_done,
            }
        )
        earlier_done = earlier_done and done
    return render_template(
        "procedures/tasks.html",
        application=application,
        procedure=procedure,
        items=items,
        complete=earlier_done,
    )


@blueprint.route("/<reference>/pages/<page_id>", methods=["GET", "POST"])
@login_required
def page(reference: str, page_id: str) -> str | Response:
    application, procedure = _draft(reference)
    found = applications.find_page(procedure, page_id)
    answers = application.answers
    if found is None or found not in applications.visible_pages(procedure, answers):
        abort(404)
    lang = current_lang()
    form_class = forms.page_form(found, lang)
    returning = request.args.get("return") == "check"
    if request.method == "POST":
        form = form_class()
        valid = forms.validate(found, form, lang, answers)
        kept_files = _take_uploads(application, found, form)
        valid = valid and not any(form[one.id].errors for one in found.fields if one.type == "file")
        if kept_files:
            answers.update(kept_files)
            applications.save_page(application, procedure, found, kept_files)
        if valid:
            values = forms.answers_from(found, form)
            for one in found.fields:
                if one.type == "file" and one.id not in values:
                    previous = answers.get(one.id)
                    values[one.id] = (
                        previous if isinstance(previous, dict) and previous.get("file_id") else None
                    )
            applications.save_page(application, procedure, found, values)
            return redirect(_after(application, procedure, found, returning))
    else:
        data = forms.initial_data(found, {**applications.prefilled(application), **answers})
        form = form_class(formdata=None, data=data)
    back = applications.previous_page(procedure, found, answers)
    if returning:
        back_url = url_for(".check", reference=reference)
    elif _sectioned(procedure) and (back is None or back.section != found.section):
        back_url = url_for(".tasks", reference=reference)
    elif back is not None:
        back_url = _page_url(application, back)
    else:
        back_url = url_for("procedures.procedure", slug=procedure.slug)
    return render_template(
        "procedures/question.html",
        application=application,
        procedure=procedure,
        page=found,
        form=form,
        answers=application.answers,
        provenance=application.provenance or {},
        back_url=back_url,
        returning=returning,
        address_labels=forms.address_labels(),
        address_autocomplete=forms.ADDRESS_AUTOCOMPLETE,
    )


def _take_uploads(application: Application, page: Page, form: FlaskForm) -> dict[str, Any]:
    """Keep every acceptable file sent with the page, even if other answers have errors,
    so the citizen never uploads the same file twice; a refused file gets its error."""
    kept: dict[str, Any] = {}
    for one in page.fields:
        if one.type != "file":
            continue
        if one.may_be_already_provided and form[f"{one.id}__how"].data == "provided":
            continue
        upload = form[one.id].data
        if upload is None or not getattr(upload, "filename", ""):
            continue
        try:
            stored = uploads.store(application, one.id, upload)
        except uploads.UploadError as error:
            form[one.id].errors = [str(error)]
            continue
        kept[one.id] = {"file_id": stored.id, "name": stored.original_name, "size": stored.size}
    return kept


def _after(application: Application, procedure: Procedure, page: Page, returning: bool) -> str:
    """Where a saved page leads: on through the form (to the task list between sections),
    or, for a change made from "check your answers", through only the questions that
    change now calls for and straight back (never via the task list, which would lose the
    way back and walk the citizen through answered pages again)."""
    answers = application.answers
    if returning and applications.first_unanswered(procedure, answers) is None:
        return url_for(".check", reference=application.reference)
    following = applications.next_page(procedure, page, answers)
    if following is not None and returning:
        following = applications.first_unanswered(procedure, answers)
    if following is None:
        return url_for(".check", reference=application.reference)
    if returning:
        return _page_url(application, following, **{"return": "check"})
    if _sectioned(procedure) and following.section != page.section:
        return url_for(".tasks", reference=application.reference)
    return _page_url(application, following)


def _rows(
    application: Application, procedure: Procedure, answers: dict[str, Any], change: bool
) -> list[dict[str, Any]]:
    rows = receipts.answer_rows(application, procedure, answers, current_lang())
    if change:
        for row in rows:
            row["actions"] = [
                {
                    "href": _page_url(application, row["page"], **{"return": "check"}),
                    "text": _change_text(),
                    "hidden_text": row["key"],
                }
            ]
    return rows


def _change_text() -> str:
    from portal.components import TEXTS

    return str(TEXTS["change"])


@blueprint.route("/<reference>/check")
@login_required
def check(reference: str) -> str | Response:
    application, procedure = _draft(reference)
    answers = applications.clean(procedure, application.answers)
    missing = applications.first_unanswered(procedure, answers)
    if missing is not None:
        return redirect(_page_url(application, missing))
    return render_template(
        "procedures/check.html",
        application=application,
        procedure=procedure,
        rows=_rows(application, procedure, answers, change=True),
        form=SubmitForm(),
    )


@blueprint.route("/<reference>/submit", methods=["POST"])
@login_required
@limiter.limit("20 per minute")
def submit(reference: str) -> Response:
    application, procedure = _fillable(reference)
    if not SubmitForm().validate_on_submit():
        abort(400)
    if application.is_draft:
        try:
            applications.submit(application, procedure, by_account_id=current_user.id)
        except applications.IncompleteError as error:
            return redirect(_page_url(application, error.page))
    return redirect(url_for(".confirmation", reference=reference))


@blueprint.route("/<reference>/confirmation")
@login_required
def confirmation(reference: str) -> str | Response:
    application, procedure = _fillable(reference)
    if application.is_draft:
        return redirect(_resume_url(application, procedure))
    return render_template(
        "procedures/confirmation.html",
        application=application,
        procedure=procedure,
        entry=application.registry_entry,
        rows=_rows(application, procedure, application.answers, change=False),
        can_withdraw=applications.can_withdraw(application, procedure),
    )


@blueprint.route("/<reference>/receipt.pdf")
@login_required
@limiter.limit("30 per minute")
def receipt(reference: str) -> Response:
    application, procedure = _fillable(reference)
    if application.is_draft or application.registry_entry is None:
        abort(404)
    lang = current_lang()
    pdf = receipts.pdf(application, procedure, lang)
    return pdf_attachment(pdf, f"{application.registry_entry.number}.pdf")


@blueprint.route("/<reference>/files/<int:file_id>")
@login_required
def download(reference: str, file_id: int) -> Response:
    application, _procedure = _fillable(reference)
    stored = db.session.get(ApplicationFile, file_id)
    if stored is None or stored.application_id != application.id:
        abort(404)
    return send_file(
        uploads.path_of(stored),
        mimetype=stored.content_type,
        as_attachment=True,
        download_name=stored.original_name,
    )


class WithdrawForm(FlaskForm):
    reason = TextAreaField(validators=[Length(max=2000)])


@blueprint.route("/<reference>/withdraw", methods=["GET", "POST"])
@login_required
@limiter.limit("20 per minute", methods=["POST"])
def withdraw(reference: str) -> str | Response:
    """Withdraw before the decision (Ley 39/2015 art. 94): the citizen may say why."""
    application, procedure = _own(reference)
    if not applications.can_withdraw(application, procedure):
        return redirect(url_for(".confirmation", reference=reference))
    form = WithdrawForm()
    form.reason.label.text = _("Why are you withdrawing it?")
    form.reason.validators[0].message = _("Write no more than %(max)s characters", max=2000)
    if form.validate_on_submit():
        if applications.withdraw(application, procedure, (form.reason.data or "").strip()):
            flash(_("You have withdrawn your application."), "success")
        return redirect(url_for(".confirmation", reference=reference))
    return render_template(
        "procedures/withdraw.html",
        form=form,
        application=application,
        procedure=procedure,
        entry=application.registry_entry,
        back_url=url_for(".confirmation", reference=reference),
    )
