"""Error messages the identity pages share: password rules, codes, WebAuthn answers.

Sign-in failures are deliberately generic ("email address or password"), so
the page never tells whether an address has an account.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from identity import totp
from identity.views import wait_text

PASSWORD_RULES = {
    "too_short": _l("Your password must be at least 12 characters long"),
    "too_long": _l("Your password must be 256 characters or fewer"),
    "common": _l("This password is too common: attackers try it first. Choose a different one"),
    "context": _l("Your password must not contain your email address or your name"),
    "guessable": _l(
        "This password would be easy to guess. Try three or four random words together"
    ),
}

WRONG_CREDENTIALS = _l("Enter the correct email address and password")

WEBAUTHN_ERRORS = {
    "missing": _l("Passkeys and security keys need JavaScript. Turn it on in your browser, or choose another way to sign in"),
    "expired": _l("The request timed out. Try again"),
    "invalid": _l("We could not check your passkey or security key. Try again"),
    "unknown_credential": _l("We do not recognise that passkey or security key. Try another one, or sign in with your password"),
    "user_not_verified": _l("Your device did not confirm it is you (with your fingerprint, face or PIN). Try again"),
    "cloned": _l("This security key may have been copied. For your safety it cannot be used: choose another way to sign in"),
    "taken": _l("You already use a sign-in method with that name. Choose a different name"),
}  # fmt: skip


def code_error(error: totp.InvalidCodeError) -> str:
    if isinstance(error, totp.MalformedCodeError):
        return _("Enter the 6-digit code from your app")
    if isinstance(error, totp.ReusedCodeError):
        return _(
            "That code has already been used. Wait for your app to show a new code and enter it"
        )
    if isinstance(error, totp.ClockSkewError):
        minutes = max(1, round(abs(error.seconds) / 60))
        return ngettext(
            "Your phone’s clock seems to be %(num)s minute out. Set it to update automatically, then enter a new code",
            "Your phone’s clock seems to be %(num)s minutes out. Set it to update automatically, then enter a new code",
            minutes,
        )
    return _("The code is not correct. Enter the newest code from your app")


def locked(seconds: int) -> str:
    return _("Too many wrong attempts. Wait %(wait)s, then try again", wait=wait_text(seconds))


def name_error(error: Exception) -> str:
    """For ``factors.FactorNameError``: empty after trimming, or already used."""
    if error.args and error.args[0] == "empty":
        return _("Enter a name")
    return str(WEBAUTHN_ERRORS["taken"])


def webauthn_error(failure: Exception) -> str:
    """For ``webauthn.WebAuthnError``: what to tell the citizen about its ``reason``."""
    reason = getattr(failure, "reason", "invalid")
    return str(WEBAUTHN_ERRORS.get(reason, WEBAUTHN_ERRORS["invalid"]))
