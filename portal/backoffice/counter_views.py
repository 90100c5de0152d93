"""Counter mode's page: start an application for the citizen at the desk (``counter``)."""

from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from werkzeug.wrappers import Response

from portal.backoffice import blueprint, counter, forms, staff
from portal.backoffice import citizens as citizens_module
from portal.backoffice.views import found_person
from portal.extensions import limiter
from procedures import catalogue
from procedures.views import current_lang


@blueprint.route("/citizens/<int:account_id>/counter", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def counter_start(account_id: int) -> str | Response:
    me = staff.current()
    found = found_person(account_id)
    if isinstance(found, Response):
        return found
    _grant, citizen = found
    lang = current_lang()
    offered = sorted(counter.procedures_for(me), key=lambda one: one.text(lang).title)
    form = forms.CounterForm(language=citizen.language or lang)
    form.procedure.choices = [(one.slug, one.text(lang).title) for one in offered]
    if form.validate_on_submit():
        procedure = catalogue.get(form.procedure.data)
        if procedure is None:
            abort(404)
        application = counter.start(me, citizen, procedure, form.language.data)
        return redirect(url_for("applications.resume", reference=application.reference))
    return render_template(
        "backoffice/counter.html",
        me=me,
        form=form,
        account_id=account_id,
        name=citizens_module.name_of(citizen),
    )
