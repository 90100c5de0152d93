"""Creating an account and confirming its email address.

The answer is the same whether or not the address already has an account:
"check your email". The owner of a known address gets an email saying so
(with links to sign in or reset the password) instead of a verification link.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from identity import accounts, emails, signin, throttle, tokens
from identity.forms import CreateAccountForm, EmailForm
from identity.passwords import PasswordRejectedError
from identity.views import blueprint, sent
from identity.views.messages import PASSWORD_RULES
from portal.extensions import db, limiter
from portal.i18n import current_language


@blueprint.route("/create", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"], deduct_when=sent)
def create_account() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("identity.account"))
    form = CreateAccountForm()
    if form.validate_on_submit():
        email = accounts.normalise_email(form.email.data)
        try:
            account = accounts.create_account(email, form.password.data, current_language())
        except PasswordRejectedError as error:
            form.password.errors.append(PASSWORD_RULES[error.reason])
        else:
            if account is None:
                existing = accounts.find_by_email(email)
                if existing is not None and throttle.may_email(email):
                    emails.account_exists(existing)
            else:
                throttle.may_email(email)
                emails.verify_email(account)
                # Confirming in this same browser goes straight on to the second factor.
                session["registered"] = account.id
            db.session.commit()
            session["check_email"] = email
            return redirect(url_for("identity.check_email"))
    return render_template("identity/create_account.html", form=form)


@blueprint.route("/create/check-email", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"], deduct_when=sent)
def check_email() -> str | Response:
    """Says where the link went; its form sends the link again."""
    email = session.get("check_email")
    form = EmailForm(data={"email": email} if email else None)
    if form.validate_on_submit():
        address = accounts.normalise_email(form.email.data)
        account = accounts.find_by_email(address)
        if (
            account is not None
            and account.email_verified_at is None
            and throttle.may_email(address)
        ):
            emails.verify_email(account)
            db.session.commit()
        session["check_email"] = address
        flash(_("We have sent the email again. It can take a few minutes to arrive."), "success")
        return redirect(url_for("identity.check_email"))
    return render_template("identity/check_email.html", form=form, email=email)


@blueprint.route("/verify/<token>")
def verify_email(token: str) -> str | Response | tuple[str, int]:
    try:
        account = tokens.read(token, "verify_email")
    except tokens.TokenExpiredError:
        return render_template(
            "identity/link_problem.html", problem="expired", form=EmailForm()
        ), 400
    except tokens.TokenInvalidError:
        return render_template(
            "identity/link_problem.html", problem="invalid", form=EmailForm()
        ), 400
    accounts.mark_email_verified(account)
    db.session.commit()
    if session.pop("registered", None) == account.id:
        signin.begin_pending(account, signin.ENROL)
        flash(_("Your email address is confirmed."), "success")
        return redirect(url_for("identity.choose_method"))
    flash(_("Your email address is confirmed. Sign in to continue."), "success")
    return redirect(url_for("identity.sign_in"))
