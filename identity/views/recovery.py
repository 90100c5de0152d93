"""Recovery codes: shown once (copy, download, print), regenerated after re-authenticating.

The plain codes live only in the session cookie, encrypted, between being
created and the citizen confirming they saved them; the database keeps
their SHA-256 hashes only.
"""

from __future__ import annotations

import json

from flask import flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from identity import emails, encryption, factors, signin
from identity.forms import ConfirmForm, SavedCodesForm
from identity.models import Factor
from identity.views import blueprint
from portal.extensions import db


def _codes_to_show() -> list[str] | None:
    stored = session.get("new_codes")
    if not stored:
        return None
    try:
        return json.loads(encryption.decrypt(stored))
    except (encryption.UndecryptableError, ValueError):
        return None


@blueprint.route("/recovery-codes/new", methods=["GET", "POST"])
def new_recovery_codes() -> str | Response:
    codes = _codes_to_show()
    if codes is None:
        return redirect(
            url_for("identity.account" if current_user.is_authenticated else "identity.sign_in")
        )
    form = SavedCodesForm()
    if form.validate_on_submit():
        session.pop("new_codes", None)
        factor_id = session.pop("enrolled_factor", None)
        state = signin.pending(signin.ENROL)
        if state is not None:
            factor = db.session.get(Factor, factor_id) if factor_id else None
            target = signin.finish_sign_in(state[0], factors.assurance(factor, with_password=True))
            db.session.commit()
            flash(_("Your account is ready."), "success")
            return redirect(target)
        flash(_("Your new recovery codes are ready. The old ones no longer work."), "success")
        return redirect(url_for("identity.account"))
    return render_template("identity/new_recovery_codes.html", form=form, codes=codes)


@blueprint.route("/recovery-codes/new/recovery-codes.txt")
def download_recovery_codes() -> Response:
    codes = _codes_to_show()
    if codes is None:
        return redirect(url_for("identity.new_recovery_codes"))
    lines = [
        _("Portal Ciudadano: recovery codes"),
        "",
        _("Each code works once. Keep them somewhere safe, away from your phone and keys."),
        "",
        *codes,
        "",
    ]
    response = Response("\r\n".join(lines), mimetype="text/plain")
    response.headers["Content-Disposition"] = 'attachment; filename="recovery-codes.txt"'
    return response


@blueprint.route("/recovery-codes")
@login_required
def recovery_codes() -> str:
    return render_template(
        "identity/recovery_codes.html", left=len(current_user.unused_recovery_codes())
    )


@blueprint.route("/recovery-codes/regenerate", methods=["GET", "POST"])
@signin.reauthentication_required
def regenerate_recovery_codes() -> str | Response:
    """Re-authentication first: whoever holds the codes can get past the second factor."""
    form = ConfirmForm()
    if form.validate_on_submit():
        codes = factors.new_recovery_codes(current_user)
        emails.notice(current_user, "recovery_codes_created")
        session["new_codes"] = encryption.encrypt(json.dumps(codes))
        db.session.commit()
        return redirect(url_for("identity.new_recovery_codes"))
    return render_template("identity/regenerate_recovery_codes.html", form=form)
