"""The signed-in citizen's account: password, email, preferences, sessions, history, deletion."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from identity import accounts, emails, events, passwords, sessions, signin, throttle, tokens
from identity.events import EventKind
from identity.forms import (
    ConfirmForm,
    DeleteAccountForm,
    NewEmailForm,
    NewPasswordForm,
    PreferencesForm,
)
from identity.models import Account, AccountSession, SecurityEvent, utcnow
from identity.passwords import PasswordRejectedError
from identity.views import blueprint
from identity.views.messages import PASSWORD_RULES
from portal.extensions import db

HISTORY_PAGE_SIZE = 20


@blueprint.route("/")
@login_required
def account() -> str:
    return render_template(
        "identity/account.html",
        account=current_user,
        codes_left=len(current_user.unused_recovery_codes()),
    )


@blueprint.route("/password", methods=["GET", "POST"])
@signin.reauthentication_required
def change_password() -> str | Response:
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            passwords.check_password_rules(form.password.data, context=(current_user.email,))
        except PasswordRejectedError as error:
            form.password.errors.append(PASSWORD_RULES[error.reason])
        else:
            set_password(current_user, form.password.data)
            events.record(current_user, EventKind.PASSWORD_CHANGED)
            ended = sessions.revoke_all(current_user, keep=signin.current_session())
            emails.notice(current_user, "password_changed")
            db.session.commit()
            message = _("Your password has been changed.")
            if ended:
                message += " " + _("We have signed you out on your other devices.")
            flash(message, "success")
            return redirect(url_for("identity.account"))
    return render_template("identity/change_password.html", form=form)


def set_password(account: Account, password: str) -> None:
    account.password_hash = passwords.hash_password(password)
    account.password_changed_at = utcnow()


@blueprint.route("/email", methods=["GET", "POST"])
@signin.reauthentication_required
def change_email() -> str | Response:
    form = NewEmailForm()
    if form.validate_on_submit():
        new_email = accounts.normalise_email(form.email.data)
        if new_email == current_user.email:
            form.email.errors.append(_("This is already your email address. Enter a different one"))
        else:
            if throttle.may_email(new_email):
                owner = accounts.find_by_email(new_email)
                if owner is None:
                    emails.change_email(current_user, new_email)
                else:
                    emails.account_exists(owner)  # tell its owner, not the person asking
                db.session.commit()
            session["check_email"] = new_email
            return redirect(url_for("identity.change_email_sent"))
    return render_template("identity/change_email.html", form=form)


@blueprint.route("/email/sent")
@login_required
def change_email_sent() -> str:
    return render_template("identity/change_email_sent.html", email=session.get("check_email"))


@blueprint.route("/email/confirm/<token>")
def confirm_email_change(token: str) -> str | Response | tuple[str, int]:
    try:
        account, data = tokens.read_data(token, "change_email")
    except tokens.TokenExpiredError:
        return render_template("identity/link_problem.html", problem="expired", form=None), 400
    except tokens.TokenInvalidError:
        return render_template("identity/link_problem.html", problem="invalid", form=None), 400
    new_email = data.get("email", "")
    if not new_email or accounts.find_by_email(new_email) is not None:
        return render_template("identity/link_problem.html", problem="taken", form=None), 400
    old_email = account.email
    account.email = new_email
    account.email_verified_at = utcnow()
    events.record(account, EventKind.EMAIL_CHANGED)
    emails.notice(account, "email_changed", to=old_email, new_email=new_email)
    db.session.commit()
    flash(_("Your email address is now %(email)s.", email=new_email), "success")
    if current_user.is_authenticated and current_user.id == account.id:
        return redirect(url_for("identity.account"))
    return redirect(url_for("identity.sign_in"))


@blueprint.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences() -> str | Response:
    form = PreferencesForm(obj=current_user)
    if form.validate_on_submit():
        if form.language.data != current_user.language:
            events.record(current_user, EventKind.LANGUAGE_CHANGED, language=form.language.data)
        current_user.language = form.language.data
        current_user.time_zone = form.time_zone.data
        db.session.commit()
        flash(_("Your preferences have been saved."), "success")
        return redirect(url_for("identity.account"))
    return render_template("identity/preferences.html", form=form)


@blueprint.route("/sessions")
@login_required
def list_sessions() -> str:
    return render_template(
        "identity/sessions.html",
        rows=sessions.live_sessions(current_user),
        current=signin.current_session(),
        form=ConfirmForm(),
    )


@blueprint.route("/sessions/<int:session_id>/sign-out", methods=["POST"])
@login_required
def revoke_session(session_id: int) -> Response:
    form = ConfirmForm()
    row = db.session.get(AccountSession, session_id)
    if not form.validate_on_submit() or row is None or row.account_id != current_user.id:
        abort(404)
    if row.id == getattr(signin.current_session(), "id", None):
        return redirect(url_for("identity.list_sessions"))
    sessions.revoke(row, current_user)
    db.session.commit()
    flash(_("That device has been signed out."), "success")
    return redirect(url_for("identity.list_sessions"))


@blueprint.route("/sessions/sign-out-others", methods=["POST"])
@login_required
def revoke_other_sessions() -> Response:
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    count = sessions.revoke_all(current_user, keep=signin.current_session())
    db.session.commit()
    if count:
        flash(_("All your other devices have been signed out."), "success")
    return redirect(url_for("identity.list_sessions"))


@blueprint.route("/history")
@login_required
def history() -> str:
    page = max(1, request.args.get("page", 1, type=int) or 1)
    total = (
        db.session.scalar(
            select(func.count())
            .select_from(SecurityEvent)
            .where(SecurityEvent.account_id == current_user.id)
        )
        or 0
    )
    pages = max(1, -(-total // HISTORY_PAGE_SIZE))
    if page > pages:
        abort(404)
    rows = db.session.scalars(
        select(SecurityEvent)
        .where(SecurityEvent.account_id == current_user.id)
        .order_by(SecurityEvent.occurred_at.desc(), SecurityEvent.id.desc())
        .limit(HISTORY_PAGE_SIZE)
        .offset((page - 1) * HISTORY_PAGE_SIZE)
    ).all()
    return render_template("identity/history.html", rows=rows, page=page, pages=pages)


@blueprint.route("/delete", methods=["GET", "POST"])
@signin.reauthentication_required
def delete_account() -> str | Response:
    form = DeleteAccountForm()
    if form.validate_on_submit():
        account = current_user._get_current_object()
        address = account.email
        accounts.delete_account(account)
        # In the same transaction: a deletion that failed is not announced as done.
        emails.notice(account, "account_deleted", to=address)
        db.session.commit()
        session.clear()
        return redirect(url_for("identity.account_deleted"))
    return render_template("identity/delete_account.html", form=form)


@blueprint.route("/deleted")
def account_deleted() -> str:
    return render_template("identity/account_deleted.html")
