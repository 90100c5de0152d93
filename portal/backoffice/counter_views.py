"""Counter mode's page: start an application for the citizen at the desk (``counter``)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from identity.models import Account
from portal.backoffice import access, blueprint, counter, forms, staff
from portal.backoffice import citizens as citizens_module
from portal.extensions import db, limiter
from procedures import catalogue
from procedures.views import current_lang


@blueprint.route("/citizens/<int:account_id>/counter", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def counter_start(account_id: int) -> str | Response:
    me = staff.current()
    grant = citizens_module.current_grant(me, account_id)
    if grant is None:
        flash(_("Find the person first, and say why you are looking for them."), "important")
        return redirect(url_for(".citizens"))
    access.admit(grant)
    citizen = db.session.get(Account, account_id)
    if citizen is None or citizen.deleted_at is not None:
        abort(404)
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
