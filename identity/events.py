"""The security history: each sign-in, failure and account change is a row the citizen sees."""

from __future__ import annotations

import enum
from typing import Any

from flask import has_request_context, request

from identity.models import Account, SecurityEvent
from portal.extensions import db


class EventKind(enum.StrEnum):
    ACCOUNT_CREATED = "account_created"
    EMAIL_VERIFIED = "email_verified"
    SIGNED_IN = "signed_in"
    SIGN_IN_FAILED = "sign_in_failed"
    CODE_FAILED = "code_failed"
    SIGNED_OUT = "signed_out"
    FACTOR_ADDED = "factor_added"
    FACTOR_REMOVED = "factor_removed"
    RECOVERY_CODES_CREATED = "recovery_codes_created"
    RECOVERY_CODE_USED = "recovery_code_used"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - an event name, not a password
    PASSWORD_RESET = "password_reset"  # noqa: S105 - an event name
    EMAIL_CHANGED = "email_changed"
    FACTOR_RENAMED = "factor_renamed"
    SESSION_REVOKED = "session_revoked"
    SESSION_EXTENDED = "session_extended"
    ACCOUNT_SECURED = "account_secured"
    LANGUAGE_CHANGED = "language_changed"
    #: OpenID Connect: the citizen agreed to share data with an agency's service...
    SERVICE_CONNECTED = "service_connected"
    #: ...the service received it (a token was issued)...
    DATA_SHARED = "data_shared"
    #: ...and the citizen withdrew the consent.
    SERVICE_DISCONNECTED = "service_disconnected"
    #: An administrator of an agency gave, changed or withdrew the account's staff access.
    STAFF_ACCESS_CHANGED = "staff_access_changed"


def record(account: Account, kind: EventKind, **details: Any) -> SecurityEvent:
    """Add an event with the request's IP and browser, in the caller's transaction."""
    event = SecurityEvent(account_id=account.id, kind=str(kind), details=details)
    if has_request_context():
        event.ip_address = request.remote_addr
        event.user_agent = (request.user_agent.string or "")[:400] or None
    db.session.add(event)
    return event
