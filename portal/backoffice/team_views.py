"""Administrators' pages for their agency's staff (``team``)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from identity.models import Account
from portal.backoffice import blueprint, forms, staff, team
from portal.extensions import db, limiter

#: What each refusal says, on the field it concerns.
REFUSALS = {
    "no_account": (
        "email",
        _l(
            "There is no confirmed account with this email address. Ask the person to create "
            "an account and confirm their email address first."
        ),
    ),
    "other_agency": ("email", _l("This person is staff of another agency.")),
    "already": ("email", _l("This person is already a member of your agency.")),
    "yourself": (
        "email",
        _l("You cannot change your own staff access. Ask another administrator."),
    ),
    "administrator_needs_key": (
        "role",
        _l("An administrator needs a passkey or a security key. Ask the person to add one first."),
    ),
    "role": ("role", _l("Select a role")),
}


def _administrator() -> staff.Staff:
    me = staff.current()
    if not me.may("administrator"):
        abort(403)
    return me


@blueprint.get("/team/")
def team_list() -> str:
    me = _administrator()
    return render_template("backoffice/team.html", me=me, members=team.members(me.agency))


@blueprint.route("/team/new", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def member_new() -> str | Response:
    me = _administrator()
    form = forms.MemberForm()
    if form.validate_on_submit():
        try:
            team.add(me, form.email.data, form.unit.data, form.role.data)
        except team.TeamError as refused:
            db.session.rollback()
            field, message = REFUSALS[refused.code]
            form[field].errors = [str(message)]
        else:
            db.session.commit()
            flash(_("%(email)s is now a member of your agency.", email=form.email.data), "success")
            return redirect(url_for(".team_list"))
    return render_template("backoffice/member_new.html", me=me, form=form)


@blueprint.route("/team/<int:member_id>", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def member(member_id: int) -> str | Response:
    me = _administrator()
    found = team.find(me, member_id)
    if found is None:
        abort(404)
    form = forms.MemberChangeForm(unit=found.unit, role=found.role)
    yourself = found.account_id == me.account_id
    if form.validate_on_submit():
        try:
            team.change(me, found, form.unit.data, form.role.data)
        except team.TeamError as refused:
            db.session.rollback()
            field, message = REFUSALS[refused.code]
            form[field if field in form else "role"].errors = [str(message)]
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for(".team_list"))
    email = db.session.scalar(select(Account.email).where(Account.id == found.account_id))
    return render_template(
        "backoffice/member.html", me=me, form=form, member=found, email=email, yourself=yourself
    )


@blueprint.post("/team/<int:member_id>/access")
@limiter.limit("30 per minute")
def member_access(member_id: int) -> Response:
    me = _administrator()
    found = team.find(me, member_id)
    if found is None:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        team.set_active(me, found, active=found.disabled_at is not None)
    except team.TeamError:
        db.session.rollback()
        flash(_("You cannot change your own staff access. Ask another administrator."), "important")
        return redirect(url_for(".member", member_id=member_id))
    db.session.commit()
    if found.disabled_at is None:
        flash(_("Staff access given back."), "success")
    else:
        flash(_("Staff access withdrawn. Their cases stay with them until reassigned."), "success")
    return redirect(url_for(".team_list"))
