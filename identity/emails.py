"""The emails identity sends, each as text and HTML in the citizen's language.

Each email goes to the outbox (``portal.outbox``) in the transaction of the change it
reports or asks to confirm, and the view commits; the worker sends it.

Links in emails are built on ``PUBLIC_URL``, never on the request's Host
header: a forged Host must not turn a password-reset email into a link to
another site. Every notice of a sensitive change carries a "this wasn't me"
link (``identity.tokens`` purpose ``not_me``) that signs the account out
everywhere and forces a new password.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import has_request_context, render_template, request
from flask_babel import lazy_gettext as _l

from identity import devices, tokens
from identity.models import Account, utcnow
from portal import mail, outbox
from portal.i18n import writing_in
from portal.mail import public_url

#: Notices of sensitive changes: subject and the sentence that says what happened.
NOTICES = {
    "password_changed": (_l("Your password was changed"), _l("The password of your account was changed.")),
    "password_reset": (_l("Your password was reset"), _l("The password of your account was reset with a link sent to this address.")),
    "email_changed": (_l("Your email address was changed"), _l("The email address of your account was changed to %(new_email)s.")),
    "factor_added": (_l("A sign-in method was added"), _l("A sign-in method called “%(name)s” was added to your account.")),
    "factor_removed": (_l("A sign-in method was removed"), _l("The sign-in method called “%(name)s” was removed from your account.")),
    "recovery_code_used": (_l("A recovery code was used"), _l("A recovery code was used to sign in to your account. You have %(left)s recovery codes left.")),
    "recovery_codes_created": (_l("New recovery codes were created"), _l("New recovery codes were created for your account. The old ones no longer work.")),
    "account_deleted": (_l("Your account was deleted"), _l("Your account was deleted. You can no longer sign in with it.")),
}  # fmt: skip


def _send(
    to: str, language: str, name: str, subject: Any, kind: str | None = None, **context: Any
) -> None:
    """Render ``name``'s text and HTML templates, and ``subject`` (lazy), in ``language``,
    into the outbox: the caller commits, with the change the email reports."""
    with writing_in(language):
        subject = str(subject)
        context = {"lang": language, **context}
        text = render_template(f"identity/email/{name}.txt", subject=subject, **context)
        html = render_template(f"identity/email/{name}.html", subject=subject, **context)
    email = mail.Email(to=to, subject=subject, text=text, html=html, language=language)
    outbox.enqueue(email, f"identity.{kind or name}")


def _when(account: Account, moment: datetime | None = None) -> str:
    return format_datetime(
        moment or utcnow(), "long", tzinfo=ZoneInfo(account.time_zone), locale=account.language
    )


def verify_email(account: Account) -> None:
    link = public_url(
        "identity.verify_email", lang=account.language, token=tokens.make(account, "verify_email")
    )
    subject = _l("Confirm your email address")
    _send(account.email, account.language, "verify_email", subject, link=link, hours=24)


def account_exists(account: Account) -> None:
    """Someone tried to create an account with a known address: tell its owner, not them."""
    subject = _l("You already have an account")
    _send(
        account.email,
        account.language,
        "account_exists",
        subject,
        sign_in=public_url("identity.sign_in", lang=account.language),
        reset=public_url("identity.forgot_password", lang=account.language),
    )


def reset_password(account: Account) -> None:
    link = public_url(
        "identity.reset_password",
        lang=account.language,
        token=tokens.make(account, "reset_password"),
    )
    subject = _l("Reset your password")
    _send(account.email, account.language, "reset_password", subject, link=link)


def change_email(account: Account, new_email: str) -> None:
    """The confirmation link goes to the new address; nothing changes until it is followed."""
    token = tokens.make(account, "change_email", email=new_email)
    link = public_url("identity.confirm_email_change", lang=account.language, token=token)
    subject = _l("Confirm your new email address")
    _send(new_email, account.language, "change_email", subject, link=link)


def notice(account: Account, kind: str, to: str | None = None, **details: Any) -> None:
    """Tell the citizen about a sensitive change, with a "this wasn't me" link."""
    subject_text, sentence = NOTICES[kind]
    with writing_in(account.language):
        subject = str(subject_text)
        what = str(sentence) % details if details else str(sentence)
        user_agent = request.user_agent.string if has_request_context() else ""
        device = devices.describe(user_agent)
    not_me = None
    if kind != "account_deleted":
        not_me = public_url(
            "identity.not_me", lang=account.language, token=tokens.make(account, "not_me")
        )
    _send(
        to or account.email,
        account.language,
        "notice",
        subject,
        kind=kind,
        what=what,
        when=_when(account),
        device=device,
        ip=request.remote_addr if has_request_context() else None,
        not_me=not_me,
        help=public_url("pages.contact", lang=account.language),
    )
