"""Contacts' pages: the agency's list, recording one, reading one (``contacts``)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from identity import signin
from identity.models import Account
from portal.audit import PURPOSES
from portal.backoffice import blueprint, cases, contacts, forms, staff
from portal.backoffice import citizens as citizens_module
from portal.backoffice.views import found_person
from portal.extensions import db, limiter
from portal.folder.views import page_count, page_number
from procedures.views import current_lang


@blueprint.get("/contacts/")
def contact_list() -> str:
    me = staff.current()
    due_only = request.args.get("due") == "1"
    page = page_number()
    rows, total, due = contacts.agency_list(me, due_only, page)
    return render_template(
        "backoffice/contacts.html",
        me=me,
        rows=rows,
        total=total,
        due=due,
        due_only=due_only,
        page=page,
        pages=page_count(total, contacts.PAGE_SIZE, page),
        query={"due": "1"} if due_only else {},
        channels=contacts.CHANNELS,
        outcomes=contacts.OUTCOMES,
    )


def _procedure_choices(me: staff.Staff) -> list[tuple[str, str]]:
    lang = current_lang()
    offered = sorted(cases.agency_procedures(me.agency), key=lambda one: one.text(lang).title)
    return [("", _("None"))] + [(one.slug, one.text(lang).title) for one in offered]


@blueprint.route("/contacts/new", methods=["GET", "POST"])
@limiter.limit("60 per minute", methods=["POST"])
def record_contact() -> str | Response:
    """Record a contact, with a person found for a purpose (``?citizen=``) or with no one."""
    me = staff.current()
    citizen_id = request.args.get("citizen", type=int)
    grant = None
    name = None
    if citizen_id is not None:
        found = found_person(citizen_id)
        if isinstance(found, Response):
            return found
        grant, person = found
        name = citizens_module.name_of(person)
    form = forms.ContactForm()
    form.procedure.choices = _procedure_choices(me)
    if form.validate_on_submit():
        try:
            contact = contacts.record(
                me,
                citizen_id=citizen_id,
                channel=form.channel.data,
                topic=form.topic.data,
                summary=form.summary.data,
                outcome=form.outcome.data,
                procedure_slug=form.procedure.data or None,
                reference=(form.reference.data or "").strip().upper() or None,
                follow_up_on=form.follow_up_on.data,
                purpose=grant.purpose if grant else None,
                purpose_detail=grant.purpose_detail if grant else None,
            )
        except contacts.ContactError:
            db.session.rollback()
            form.reference.errors = [_("Enter the reference of one of this person's cases")]
        else:
            db.session.commit()
            flash(_("Contact recorded."), "success")
            if citizen_id is not None:
                return redirect(url_for(".citizen", account_id=citizen_id))
            return redirect(url_for(".contact", contact_id=contact.id))
    return render_template(
        "backoffice/contact_form.html", me=me, form=form, citizen_id=citizen_id, name=name
    )


@blueprint.get("/contacts/<int:contact_id>")
def contact(contact_id: int) -> str | Response:
    me = staff.current()
    found = contacts.find(me, contact_id)
    if found is None:
        abort(404)
    grant = None
    if found.citizen_account_id is not None:
        grant = contacts.current_grant(me, found)
        if grant is None:
            return redirect(url_for(".open_contact", contact_id=contact_id))
    person = db.session.get(Account, found.citizen_account_id) if grant else None
    return render_template(
        "backoffice/contact.html",
        me=me,
        contact=found,
        name=citizens_module.name_of(person) if person else None,
        recorded_by=cases.email_of(found.recorded_by_account_id),
        channels=contacts.CHANNELS,
        outcomes=contacts.OUTCOMES,
        procedure_title=_procedure_title(found.procedure_slug),
        grant_purpose=(grant.purpose_detail or PURPOSES.get(grant.purpose, grant.purpose))
        if grant
        else None,
    )


def _procedure_title(slug: str | None) -> str | None:
    from procedures import catalogue

    procedure = catalogue.get(slug) if slug else None
    return procedure.text(current_lang()).title if procedure else slug


@blueprint.route("/contacts/<int:contact_id>/open", methods=["GET", "POST"])
def open_contact(contact_id: int) -> str | Response:
    me = staff.current()
    found = contacts.find(me, contact_id)
    if found is None or found.citizen_account_id is None:
        abort(404)
    form = forms.PurposeForm()
    form.purpose.label.text = _("Why are you reading this contact?")
    if form.validate_on_submit():
        contacts.open_contact(me, found, form.purpose.data, form.detail.data)
        db.session.commit()
        return redirect(url_for(".contact", contact_id=contact_id))
    return render_template("backoffice/open_contact.html", me=me, form=form, contact_id=contact_id)


@blueprint.post("/contacts/<int:contact_id>/done")
@limiter.limit("60 per minute")
def contact_done(contact_id: int) -> Response:
    me = staff.current()
    found = contacts.find(me, contact_id)
    if found is None:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    contacts.follow_up_done(found)
    db.session.commit()
    flash(_("Follow-up marked as done."), "success")
    target = signin.safe_next(request.form.get("next"))
    return redirect(target or url_for(".contact_list", due="1"))
