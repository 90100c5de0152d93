"""A forgotten password, and "this wasn't me" from a security notice.

A reset link proves the citizen reads the address, nothing more: it sets a
new password but never signs in, so the second factor is still needed. It
signs the account out everywhere and emails a notice. "This wasn't me" ends
every session and removes the password, so the only way back in is a reset
link sent to the account's address.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from identity import accounts, emails, events, passwords, sessions, signin, throttle, tokens
from identity.events import EventKind
from identity.forms import ConfirmForm, EmailForm, NewPasswordForm
from identity.passwords import PasswordRejectedError
from identity.views import blueprint, sent
from identity.views.messages import PASSWORD_RULES
from identity.views.settings import set_password
from portal.extensions import db, limiter


@blueprint.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"], deduct_when=sent)
def forgot_password() -> str | Response:
    form = EmailForm()
    if form.validate_on_submit():
        address = accounts.normalise_email(form.email.data)
        account = accounts.find_by_email(address)
        if account is not None and account.disabled_at is None and throttle.may_email(address):
            emails.reset_password(account)
            db.session.commit()
        session["check_email"] = address
        return redirect(url_for("identity.forgot_password_sent"))
    return render_template("identity/forgot_password.html", form=form)


@blueprint.route("/forgot-password/sent")
def forgot_password_sent() -> str:
    return render_template("identity/forgot_password_sent.html", email=session.get("check_email"))


@blueprint.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> str | Response | tuple[str, int]:
    try:
        account = tokens.read(token, "reset_password")
    except tokens.TokenExpiredError:
        return render_template(
            "identity/link_problem.html", problem="reset_expired", form=None
        ), 400
    except tokens.TokenInvalidError:
        return render_template(
            "identity/link_problem.html", problem="reset_invalid", form=None
        ), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            passwords.check_password_rules(form.password.data, context=(account.email,))
        except PasswordRejectedError as error:
            form.password.errors.append(PASSWORD_RULES[error.reason])
        else:
            set_password(account, form.password.data)
            accounts.mark_email_verified(account)  # the link reached this address
            events.record(account, EventKind.PASSWORD_RESET)
            sessions.revoke_all(account)
            emails.notice(account, "password_reset")
            signin.sign_out()
            db.session.commit()
            flash(
                _("Your password has been reset and you have been signed out everywhere.")
                + " "
                + _("Sign in with your new password."),
                "success",
            )
            return redirect(url_for("identity.sign_in"))
    return render_template("identity/reset_password.html", form=form, account=account)


@blueprint.route("/not-me/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def not_me(token: str) -> str | Response | tuple[str, int]:
    try:
        account = tokens.read(token, "not_me")
    except tokens.TokenInvalidError:
        return render_template("identity/link_problem.html", problem="not_me", form=None), 400
    form = ConfirmForm()
    if form.validate_on_submit():
        sessions.revoke_all(account)
        account.password_hash = None
        events.record(account, EventKind.ACCOUNT_SECURED)
        emails.reset_password(account)
        signin.sign_out()
        db.session.commit()
        return redirect(url_for("identity.account_secured"))
    return render_template("identity/not_me.html", form=form)


@blueprint.route("/secured")
def account_secured() -> str:
    return render_template("identity/account_secured.html")
