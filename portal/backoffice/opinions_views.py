"""Opinions between units: ask one on a case, answer one, the unit's queue (``opinions``)."""

from __future__ import annotations

from flask import abort, flash, render_template
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from portal.audit import DataAccess
from portal.backoffice import blueprint, cases, complaints, forms, opinions, staff
from portal.backoffice.views import back_to_case, holding, opened
from portal.extensions import db, limiter
from procedures import catalogue
from procedures.views import current_lang


@blueprint.get("/opinions")
def opinions_queue() -> str:
    me = staff.current()
    lang = current_lang()
    asked = opinions.for_unit(me, pending_only=False)
    titles = {one.procedure_slug: _title(one.procedure_slug, lang) for one in asked}
    return render_template("backoffice/opinions.html", me=me, asked=asked, titles=titles)


def _title(slug: str, lang: str) -> str:
    procedure = catalogue.get(slug)
    return procedure.text(lang).title if procedure else slug


@blueprint.route("/cases/<reference>/opinion", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
@opened
def ask_opinion(found: cases.StaffCase, _grant: DataAccess) -> str | Response:
    holding(found)
    me = staff.current()
    form = forms.OpinionRequestForm()
    form.unit.choices = [("", _("Select a unit"))] + [
        (unit, unit) for unit in complaints.units(me.agency) if unit != me.unit
    ]
    if form.validate_on_submit():
        opinions.ask(me, found, form.unit.data, form.question.data)
        db.session.commit()
        flash(_("Opinion asked of %(unit)s.", unit=form.unit.data), "success")
        return back_to_case(found.reference)
    return render_template("backoffice/ask_opinion.html", me=me, case=found, form=form)


@blueprint.route("/cases/<reference>/opinions/<int:opinion_id>", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
@opened
def give_opinion(found: cases.StaffCase, _grant: DataAccess, opinion_id: int) -> str | Response:
    me = staff.current()
    asked = next(
        (one for one in opinions.of_case(found.application.id) if one.id == opinion_id), None
    )
    if asked is None:
        abort(404)
    if asked.to_unit != me.unit:
        abort(403)
    if asked.answered_at is not None:
        flash(_("Your unit has already given its opinion on this case."), "important")
        return back_to_case(found.reference)
    form = forms.OpinionAnswerForm()
    if form.validate_on_submit():
        try:
            opinions.give(me, found, opinion_id, form.answer.data)
        except opinions.OpinionError:
            db.session.rollback()
            flash(_("Your unit has already given its opinion on this case."), "important")
            return back_to_case(found.reference)
        db.session.commit()
        flash(_("Opinion given. The person handling the case can read it now."), "success")
        return back_to_case(found.reference)
    return render_template(
        "backoffice/give_opinion.html", me=me, case=found, form=form, asked=asked
    )
