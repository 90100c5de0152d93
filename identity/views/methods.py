"""Sign-in methods: choosing the first one, adding more, renaming and removing them.

The same set-up pages serve a new account (right after confirming its email
address, or after a password sign-in of an account that has no second factor
yet) and a signed-in citizen adding another method, who must have proved who
they are in the last 15 minutes.
"""

from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from identity import emails, encryption, factors, sessions, signin, totp, webauthn
from identity.forms import (
    AuthenticatorAppForm,
    ChooseMethodForm,
    ConfirmForm,
    RenameForm,
    WebAuthnRegistrationForm,
)
from identity.models import Account, Factor, FactorKind
from identity.throttle import TooManyAttemptsError
from identity.views import blueprint
from identity.views.messages import WEBAUTHN_ERRORS, code_error, locked, name_error, webauthn_error
from portal.extensions import db

KINDS = {"passkey": FactorKind.PASSKEY, "security-key": FactorKind.SECURITY_KEY}
DEFAULT_NAMES = {
    FactorKind.PASSKEY: _l("My passkey"),
    FactorKind.SECURITY_KEY: _l("My security key"),
    FactorKind.TOTP: _l("My authenticator app"),
}


def setting_up() -> Account | None:
    """The account whose methods are being set up now, or ``None`` if none may be."""
    state = signin.pending(signin.ENROL)
    if state is not None:
        return state[0]
    account_session = signin.current_session()
    if account_session is not None and sessions.recently_authenticated(account_session):
        return current_user
    return None


def _set_up_account_or_redirect() -> Account | Response:
    account = setting_up()
    if account is not None:
        return account
    if current_user.is_authenticated:
        return signin.reauthenticate_first()
    flash(_("For your security, sign in again to set up your account."), "important")
    return redirect(url_for("identity.sign_in"))


def _after_factor_added(account: Account, factor: Factor) -> Response:
    enrolling = signin.pending(signin.ENROL) is not None
    if not enrolling:
        emails.notice(account, "factor_added", name=factor.name)
    if not account.unused_recovery_codes():
        codes = factors.new_recovery_codes(account)
        session["new_codes"] = encryption.encrypt(json.dumps(codes))
        session["enrolled_factor"] = factor.id
        db.session.commit()
        return redirect(url_for("identity.new_recovery_codes"))
    if enrolling:
        target = signin.finish_sign_in(account, factors.assurance(factor, with_password=True))
        db.session.commit()
        return redirect(target)
    db.session.commit()
    flash(_("“%(name)s” is ready to use.", name=factor.name), "success")
    return redirect(url_for("identity.account"))


@blueprint.route("/set-up", methods=["GET", "POST"])
def choose_method() -> str | Response:
    account = _set_up_account_or_redirect()
    if isinstance(account, Response):
        return account
    form = ChooseMethodForm()
    if form.validate_on_submit():
        if form.method.data == "authenticator-app":
            return redirect(url_for("identity.set_up_app"))
        return redirect(url_for("identity.set_up_key", kind=form.method.data))
    return render_template("identity/choose_method.html", form=form, first=not account.factors)


@blueprint.route("/set-up/authenticator-app", methods=["GET", "POST"])
def set_up_app() -> str | Response | tuple[str, int]:
    account = _set_up_account_or_redirect()
    if isinstance(account, Response):
        return account
    secret = _pending_secret()
    form = AuthenticatorAppForm(data={"name": str(DEFAULT_NAMES[FactorKind.TOTP])})
    status = 200
    if form.validate_on_submit():
        try:
            factor = factors.add_totp(account, secret, form.code.data, form.name.data)
        except TooManyAttemptsError as error:
            form.code.errors.append(locked(error.retry_after))
            status = 429
        except totp.InvalidCodeError as error:
            form.code.errors.append(code_error(error))
        except factors.FactorNameError as error:
            form.name.errors.append(name_error(error))
        else:
            session.pop("totp_secret", None)
            return _after_factor_added(account, factor)
    uri = totp.provisioning_uri(secret, account.email)
    return render_template(
        "identity/set_up_app.html",
        form=form,
        secret=totp.grouped(secret),
        uri=uri,
        qr=totp.qr_svg(uri, _("QR code for your authenticator app")),
    ), status


def _pending_secret() -> str:
    """One secret for the whole set-up (kept encrypted in the session), so a
    page reloaded after a wrong code still matches the app the citizen scanned."""
    stored = session.get("totp_secret")
    if stored:
        try:
            return encryption.decrypt(stored)
        except encryption.UndecryptableError:
            pass
    secret = totp.new_secret()
    session["totp_secret"] = encryption.encrypt(secret)
    return secret


@blueprint.route("/set-up/<any(passkey, 'security-key'):kind>", methods=["GET", "POST"])
def set_up_key(kind: str) -> str | Response | tuple[str, int]:
    account = _set_up_account_or_redirect()
    if isinstance(account, Response):
        return account
    factor_kind = KINDS[kind]
    form = WebAuthnRegistrationForm(data={"name": str(DEFAULT_NAMES[factor_kind])})
    error = None
    if form.validate_on_submit():
        if not form.credential.data:
            error = WEBAUTHN_ERRORS["missing"]
        else:
            try:
                credential = webauthn.verify_registration(
                    account, factor_kind, form.credential.data
                )
                factor = factors.add_webauthn(account, factor_kind, credential, form.name.data)
            except webauthn.WebAuthnError as failure:
                error = webauthn_error(failure)
            except factors.FactorNameError as error:
                form.name.errors.append(name_error(error))
            else:
                return _after_factor_added(account, factor)
    return render_template("identity/set_up_key.html", form=form, kind=kind, error=error), (
        400 if form.errors or error else 200
    )


@blueprint.route("/methods/<int:factor_id>/rename", methods=["GET", "POST"])
@login_required
def rename_method(factor_id: int) -> str | Response:
    factor = _own_factor(factor_id)
    form = RenameForm(data={"name": factor.name})
    if form.validate_on_submit():
        try:
            factors.rename(factor, form.name.data)
        except factors.FactorNameError as error:
            form.name.errors.append(name_error(error))
        else:
            db.session.commit()
            flash(_("The name has been changed to “%(name)s”.", name=factor.name), "success")
            return redirect(url_for("identity.account"))
    return render_template("identity/rename_method.html", form=form, factor=factor)


@blueprint.route("/methods/<int:factor_id>/remove", methods=["GET", "POST"])
@signin.reauthentication_required
def remove_method(factor_id: int) -> str | Response:
    factor = _own_factor(factor_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = factor.name
        factors.remove(factor)
        emails.notice(current_user, "factor_removed", name=name)
        db.session.commit()
        flash(_("“%(name)s” has been removed.", name=name), "success")
        return redirect(url_for("identity.account"))
    return render_template(
        "identity/remove_method.html", form=form, factor=factor, last=factors.is_last(factor)
    )


def _own_factor(factor_id: int) -> Factor:
    factor = db.session.get(Factor, factor_id)
    if factor is None or factor.account_id != current_user.id:
        abort(404)
    return factor
