"""What the citizen reads for our internal names: kinds of method, events, sign-in methods."""

from __future__ import annotations

from babel.dates import get_timezone_location
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from identity.events import EventKind
from identity.models import FactorKind, SecurityEvent

FACTOR_KINDS = {
    FactorKind.PASSKEY: _l("Passkey"),
    FactorKind.SECURITY_KEY: _l("Security key"),
    FactorKind.TOTP: _l("Authenticator app"),
}

EVENTS = {
    EventKind.ACCOUNT_CREATED: _l("Account created"),
    EventKind.EMAIL_VERIFIED: _l("Email address confirmed"),
    EventKind.SIGNED_IN: _l("Signed in"),
    EventKind.SIGN_IN_FAILED: _l("Failed sign-in: wrong password"),
    EventKind.CODE_FAILED: _l("Failed sign-in: wrong code"),
    EventKind.SIGNED_OUT: _l("Signed out"),
    EventKind.FACTOR_ADDED: _l("Sign-in method added"),
    EventKind.FACTOR_REMOVED: _l("Sign-in method removed"),
    EventKind.FACTOR_RENAMED: _l("Sign-in method renamed"),
    EventKind.RECOVERY_CODES_CREATED: _l("Recovery codes created"),
    EventKind.RECOVERY_CODE_USED: _l("Recovery code used"),
    EventKind.PASSWORD_CHANGED: _l("Password changed"),
    EventKind.PASSWORD_RESET: _l("Password reset by email"),
    EventKind.EMAIL_CHANGED: _l("Email address changed"),
    EventKind.SESSION_REVOKED: _l("Device signed out"),
    EventKind.SESSION_EXTENDED: _l("Stayed signed in"),
    EventKind.ACCOUNT_SECURED: _l("Account secured after “This wasn't me”"),
    EventKind.LANGUAGE_CHANGED: _l("Language changed"),
    EventKind.SERVICE_CONNECTED: _l("You agreed to share your data with a service"),
    EventKind.DATA_SHARED: _l("A service received your data"),
    EventKind.SERVICE_DISCONNECTED: _l("You disconnected a service"),
    EventKind.STAFF_ACCESS_CHANGED: _l("An administrator changed your staff access"),
}

#: RFC 8176 method references, as the citizen would name them.
METHODS = {
    "pwd": _l("password"),
    "otp": _l("one-time code"),
    "hwk": _l("security key or passkey"),
    "swk": _l("passkey"),
}


def factor_kind_label(kind: str) -> str:
    return str(FACTOR_KINDS.get(kind, kind))


def event_label(event: SecurityEvent) -> str:
    label = str(EVENTS.get(event.kind, event.kind))
    name = (event.details or {}).get("name")
    if name and event.kind in (
        EventKind.FACTOR_ADDED,
        EventKind.FACTOR_REMOVED,
        EventKind.FACTOR_RENAMED,
        EventKind.SERVICE_CONNECTED,
        EventKind.DATA_SHARED,
        EventKind.SERVICE_DISCONNECTED,
        EventKind.STAFF_ACCESS_CHANGED,
    ):
        return _("%(event)s: %(name)s", event=label, name=name)
    return label


def methods_label(amr: list[str]) -> str:
    names = [str(METHODS[method]) for method in amr if method in METHODS]
    return ", ".join(names) or "-"


def time_zone_name(zone: str) -> str:
    return get_timezone_location(zone, locale=get_locale())
