"""Signing in (password then a second factor, or a passkey alone), re-authenticating, signing out.

The second-factor pages serve two purposes: finishing a sign-in, and
re-authenticating a signed-in citizen before a sensitive change. Which one is
in the pending step (``identity.signin``).
"""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from identity import accounts, emails, factors, sessions, signin, throttle, totp, webauthn
from identity.accounts import InvalidCredentialsError
from identity.factors import Assurance
from identity.forms import CodeForm, PasswordForm, RecoveryCodeForm, SignInForm, WebAuthnForm
from identity.models import Account, Factor, FactorKind, utcnow
from identity.oidc import logout as oidc_logout
from identity.throttle import TooManyAttemptsError
from identity.views import blueprint
from identity.views.messages import (
    WEBAUTHN_ERRORS,
    WRONG_CREDENTIALS,
    code_error,
    locked,
    webauthn_error,
)
from portal.extensions import db, limiter

SECOND_STEP = (signin.SIGN_IN, signin.REAUTHENTICATE)


def _second_factor_url(account: Account) -> str:
    if account.factors_of(FactorKind.TOTP):
        return url_for("identity.second_factor_code")
    if account.factors_of(*factors.WEBAUTHN_KINDS):
        return url_for("identity.second_factor_key")
    return url_for("identity.second_factor_recovery")


def _after_password(account: Account, purpose: str, next_url: str | None) -> Response:
    if account.email_verified_at is None:
        if throttle.may_email(account.email):
            emails.verify_email(account)
        session["check_email"] = account.email
        session["registered"] = account.id
        db.session.commit()
        return redirect(url_for("identity.check_email"))
    db.session.commit()  # a rehashed password
    if not factors.has_second_factor(account):
        signin.begin_pending(account, signin.ENROL, next_url)
        return redirect(url_for("identity.choose_method"))
    signin.begin_pending(account, purpose, next_url)
    return redirect(_second_factor_url(account))


def _finish(account: Account, purpose: str, assurance: Assurance) -> Response:
    if purpose == signin.REAUTHENTICATE:
        target = signin.finish_reauthentication(assurance)
    else:
        target = signin.finish_sign_in(account, assurance)
    db.session.commit()
    return redirect(target)


@blueprint.route("/sign-in", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def sign_in() -> str | Response | tuple[str, int]:
    next_url = signin.safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("identity.account"))
    form = SignInForm()
    status = 200
    wait = None
    if form.validate_on_submit():
        try:
            account = accounts.check_password(
                form.email.data, form.password.data, request.remote_addr
            )
        except TooManyAttemptsError as error:
            wait = locked(error.retry_after)
            form.password.errors.append(wait)
            status = 429
        except InvalidCredentialsError:
            db.session.commit()  # the failure is in the account's history
            form.password.errors.append(WRONG_CREDENTIALS)
        else:
            return _after_password(account, signin.SIGN_IN, next_url)
    reason = request.args.get("reason")
    return render_template(
        "identity/sign_in.html",
        form=form,
        passkey_form=WebAuthnForm(prefix="passkey"),
        next_url=next_url,
        inactive=reason == "inactive",
        locked_message=wait,
    ), status


@blueprint.route("/sign-in/passkey", methods=["POST"])
@limiter.limit("30 per minute")
def sign_in_with_passkey() -> str | Response | tuple[str, int]:
    """The passkey alone: the authenticator names the account (usernameless)."""
    passkey_form = WebAuthnForm(prefix="passkey")
    answer = _passkey_answer(passkey_form, None)
    if not isinstance(answer, str):
        account, assurance = answer
        return _finish(account, signin.SIGN_IN, assurance)
    db.session.commit()
    return render_template(
        "identity/sign_in.html",
        form=SignInForm(formdata=None),
        passkey_form=passkey_form,
        next_url=signin.safe_next(request.args.get("next")),
        inactive=False,
        locked_message=None,
        passkey_error=answer,
    ), 400


def _passkey_answer(
    form: WebAuthnForm, expected: Account | None
) -> tuple[Account, Assurance] | str:
    """What a posted passkey answer proves, or the message that says why it proves nothing."""
    if not form.validate_on_submit():
        return str(WEBAUTHN_ERRORS["expired"])
    if not form.credential.data:
        return str(WEBAUTHN_ERRORS["missing"])
    try:
        return _passkey_account(form.credential.data, expected)
    except webauthn.WebAuthnError as failure:
        return webauthn_error(failure)


def _passkey_account(credential: str, expected: Account | None) -> tuple[Account, Assurance]:
    """The account a passkey answer proves; ``expected`` when re-authenticating."""
    factor = factors.find_webauthn(webauthn.credential_id_of(credential))
    handle = webauthn.user_handle_of(credential)
    if (
        factor is None
        or factor.kind != FactorKind.PASSKEY
        or (handle is not None and handle != factor.account.webauthn_user_handle)
        or not factor.account.is_active
        or (expected is not None and factor.account_id != expected.id)
    ):
        session.pop("webauthn", None)
        raise webauthn.WebAuthnError("unknown_credential")
    webauthn.verify_authentication(factor, credential, expected, FactorKind.PASSKEY)
    factor.last_used_at = utcnow()
    return factor.account, factors.assurance(factor, with_password=False)


@blueprint.route("/webauthn/options/<purpose>", methods=["POST"])
@limiter.limit("60 per minute")
def webauthn_options(purpose: str) -> Response:
    """Options for ``static/js/webauthn.js``: JSON, fetched with the page's CSRF token."""
    if purpose == "passkey":  # sign in with a passkey alone
        options = webauthn.authentication_options(None, FactorKind.PASSKEY)
    elif purpose == "second-factor":
        state = signin.pending(*SECOND_STEP)
        if state is None:
            abort(403)
        options = webauthn.authentication_options(state[0], FactorKind.SECURITY_KEY)
    elif purpose == "reauthenticate":
        if not current_user.is_authenticated:
            abort(403)
        options = webauthn.authentication_options(current_user, FactorKind.PASSKEY)
    elif purpose in ("register-passkey", "register-security-key"):
        from identity.views.methods import setting_up

        account = setting_up()
        if account is None:
            abort(403)
        kind = FactorKind.PASSKEY if purpose == "register-passkey" else FactorKind.SECURITY_KEY
        options = webauthn.registration_options(account, kind)
    else:
        abort(404)
    return Response(options, mimetype="application/json")


def _pending_or_restart() -> tuple[Account, str] | Response:
    state = signin.pending(*SECOND_STEP)
    if state is None:
        flash(_("Your sign-in took too long. For your security, start again."), "important")
        if current_user.is_authenticated:
            return redirect(url_for("identity.reauthenticate"))
        return redirect(url_for("identity.sign_in"))
    account, data = state
    return account, data["p"]


@blueprint.route("/sign-in/code", methods=["GET", "POST"])
def second_factor_code() -> str | Response | tuple[str, int]:
    state = _pending_or_restart()
    if isinstance(state, Response):
        return state
    account, purpose = state
    if not account.factors_of(FactorKind.TOTP):
        return redirect(_second_factor_url(account))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            factor = factors.check_totp(account, form.code.data)
        except TooManyAttemptsError as error:
            form.code.errors.append(locked(error.retry_after))
            status = 429
        except totp.InvalidCodeError as error:
            form.code.errors.append(code_error(error))
        else:
            return _finish(account, purpose, factors.assurance(factor, with_password=True))
        db.session.commit()
    return render_template(
        "identity/second_factor_code.html", form=form, account=account, locked=status == 429
    ), status


@blueprint.route("/sign-in/key", methods=["GET", "POST"])
def second_factor_key() -> str | Response | tuple[str, int]:
    state = _pending_or_restart()
    if isinstance(state, Response):
        return state
    account, purpose = state
    keys = account.factors_of(*factors.WEBAUTHN_KINDS)
    if not keys:
        return redirect(_second_factor_url(account))
    form = WebAuthnForm()
    error = None
    if form.validate_on_submit():
        if not form.credential.data:
            error = str(WEBAUTHN_ERRORS["missing"])
        else:
            try:
                factor = _check_key(account, form.credential.data)
            except webauthn.WebAuthnError as failure:
                error = webauthn_error(failure)
            else:
                return _finish(account, purpose, factors.assurance(factor, with_password=True))
    return render_template(
        "identity/second_factor_key.html", form=form, account=account, error=error
    ), (400 if error else 200)


def _check_key(account: Account, credential: str) -> Factor:
    factor = factors.find_webauthn(webauthn.credential_id_of(credential))
    if factor is None or factor.account_id != account.id:
        session.pop("webauthn", None)
        raise webauthn.WebAuthnError("unknown_credential")
    webauthn.verify_authentication(factor, credential, account, FactorKind.SECURITY_KEY)
    factor.last_used_at = utcnow()
    return factor


@blueprint.route("/sign-in/recovery-code", methods=["GET", "POST"])
def second_factor_recovery() -> str | Response | tuple[str, int]:
    state = _pending_or_restart()
    if isinstance(state, Response):
        return state
    account, purpose = state
    form = RecoveryCodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            left = factors.use_recovery_code(account, form.code.data)
        except TooManyAttemptsError as error:
            form.code.errors.append(locked(error.retry_after))
            status = 429
        except totp.InvalidCodeError:
            form.code.errors.append(
                _("That recovery code is not correct, or it has already been used")
            )
        else:
            emails.notice(account, "recovery_code_used", left=left)
            # After _finish: starting the session clears the cookie, flashes included.
            response = _finish(account, purpose, factors.assurance(None, with_password=True))
            flash(
                ngettext(
                    "You used a recovery code. You have %(num)s left.",
                    "You used a recovery code. You have %(num)s left.",
                    left,
                ),
                "success" if left > 3 else "important",
            )
            return response
        db.session.commit()
    return render_template(
        "identity/second_factor_recovery.html", form=form, account=account, locked=status == 429
    ), status


@blueprint.route("/reauthenticate", methods=["GET", "POST"])
@login_required
def reauthenticate() -> str | Response | tuple[str, int]:
    """Prove it is you again (password and second factor, or a passkey) before a change."""
    next_url = signin.safe_next(request.args.get("next"))
    form = PasswordForm()
    passkey_form = WebAuthnForm(prefix="passkey")
    status = 200
    passkey_error = None
    if "passkey-credential" in request.form:
        answer = _passkey_answer(passkey_form, current_user)
        if not isinstance(answer, str):
            signin.begin_pending(current_user, signin.REAUTHENTICATE, next_url)
            return _finish(current_user, signin.REAUTHENTICATE, answer[1])
        passkey_error = answer
        status = 400
    elif form.validate_on_submit():
        try:
            account = accounts.check_password(
                current_user.email, form.password.data, request.remote_addr
            )
        except TooManyAttemptsError as error:
            form.password.errors.append(locked(error.retry_after))
            status = 429
        except InvalidCredentialsError:
            db.session.commit()
            form.password.errors.append(_("Enter the correct password"))
        else:
            return _after_password(account, signin.REAUTHENTICATE, next_url)
    return render_template(
        "identity/reauthenticate.html",
        form=form,
        passkey_form=passkey_form,
        passkey_error=passkey_error,
        has_passkey=bool(current_user.factors_of(FactorKind.PASSKEY)),
        next_url=next_url,
    ), status


@blueprint.route("/sign-out", methods=["POST"])
def sign_out() -> Response:
    ending = signin.current_session()
    account = current_user._get_current_object() if current_user.is_authenticated else None
    signin.sign_out()
    db.session.commit()
    if ending is not None and account is not None:
        oidc_logout.session_ended(account, ending.id)  # agencies' sites signed in through it, too
    flash(_("You have signed out."), "success")
    return redirect(url_for("pages.home"))


@blueprint.route("/session/extend", methods=["POST"])
@login_required
def extend_session() -> Response:
    """ "Stay signed in" (WCAG 2.2.1): any request counts as activity; this one says so."""
    account_session = signin.current_session()
    if account_session is not None:
        account_session.last_seen_at = utcnow()
        db.session.commit()
    if request.accept_mimetypes.best == "application/json":
        left = sessions.seconds_left(account_session) if account_session else 0
        return jsonify(seconds_left=left)
    return redirect(signin.safe_next(request.form.get("next")) or url_for("identity.account"))
