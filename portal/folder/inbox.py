"""The folder's notifications: the inbox, one notification, and which ones to email.

Thin views over :mod:`portal.notifications`. A formal notification is opened with a POST
(a button that says the moment is recorded), never by a GET: mail scanners and link
previews follow links, and must not open a notice whose legal effects run from that moment.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectMultipleField

from identity.forms import ConfirmForm
from portal import notifications
from portal.extensions import db
from portal.folder import blueprint
from portal.folder.views import page_count, page_number

SHOW = ("unread",)


@blueprint.route("/notifications")
def notification_list() -> str:
    show = request.args.get("show") if request.args.get("show") in SHOW else None
    kind = request.args.get("kind") if request.args.get("kind") in notifications.KINDS else None
    page = page_number()
    rows, total = notifications.inbox(current_user.id, show == "unread", kind, page)
    pages = page_count(total, notifications.PAGE_SIZE, page)
    return render_template(
        "folder/notifications.html",
        rows=rows,
        total=total,
        unread=notifications.unread_count(current_user.id),
        show=show,
        kind=kind,
        kinds=notifications.KINDS,
        page=page,
        pages=pages,
        form=ConfirmForm(),
    )


def _own(public_id: str) -> notifications.Notification:
    found = notifications.find(current_user.id, public_id)
    if found is None:
        abort(404)
    return found


@blueprint.route("/notifications/<public_id>")
def notification(public_id: str) -> str:
    found = _own(public_id)
    if not found.sealed and found.read_at is None:
        notifications.open_notification(found)
        db.session.commit()
    return render_template("folder/notification.html", notification=found, form=ConfirmForm())


@blueprint.route("/notifications/<public_id>/open", methods=["POST"])
def open_notification(public_id: str) -> Response:
    found = _own(public_id)
    if ConfirmForm().validate_on_submit():
        notifications.open_notification(found)
        db.session.commit()
    return redirect(url_for(".notification", public_id=public_id))


@blueprint.route("/notifications/<public_id>/unread", methods=["POST"])
def mark_unread(public_id: str) -> Response:
    found = _own(public_id)
    if ConfirmForm().validate_on_submit():
        notifications.mark_unread(found)
        db.session.commit()
        flash(_("Marked as unread."), "success")
    return redirect(url_for(".notification_list"))


@blueprint.route("/notifications/read", methods=["POST"])
def mark_all_read() -> Response:
    if ConfirmForm().validate_on_submit():
        notifications.mark_all_read(current_user.id)
        db.session.commit()
        flash(
            _("All your notifications are marked as read, except formal ones you have not opened."),
            "success",
        )
    return redirect(url_for(".notification_list"))


class EmailPreferencesForm(FlaskForm):
    #: Only a tampered form sends a value that is not a kind: it is ignored, not an error
    #: (WTForms' message for it is untranslated in most of our languages).
    email = SelectMultipleField(validate_choice=False)


@blueprint.route("/my-data/notifications", methods=["GET", "POST"])
def notification_settings() -> str | Response:
    chosen = notifications.email_preferences(current_user.id)
    form = EmailPreferencesForm(
        data={"email": [key for key, wanted in chosen.items() if wanted]}
        if request.method == "GET"
        else None
    )
    form.email.choices = [(key, str(kind.label)) for key, kind in notifications.KINDS.items()]
    form.email.label.text = _("Email me about")
    if form.validate_on_submit():
        wanted = set(form.email.data or []) & set(notifications.KINDS)
        notifications.set_email_preferences(current_user.id, wanted)
        db.session.commit()
        flash(_("Your notification settings have been saved."), "success")
        return redirect(url_for(".my_data"))
    return render_template(
        "folder/notification_settings.html", form=form, kinds=notifications.KINDS
    )
