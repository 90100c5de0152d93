"""Take your data with you (GDPR arts. 15 and 20): every row that refers to the citizen.

The rows are found by walking the schema, not by a list kept by hand: a table belongs in
the export when one of its foreign keys points at the citizen's account, or at a row that
does (an application's files, a sign-in's tokens). A new table is therefore exported the
day it is created, and ``tests/web/test_export.py`` fails until it has a heading here and
each of its columns is either labelled, internal (kept in the JSON only) or withheld with
a reason. Encrypted columns are given decrypted: the data is the citizen's, not the cipher.

What is withheld are secrets that protect the account itself (password and code
fingerprints, the authenticator app's secret): handing them out would help whoever
gets hold of the file, and they say nothing about the citizen.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import ColumnElement, Table, and_, false, or_, select

from identity import encryption
from identity.models import utcnow
from portal.extensions import db

FORMAT = "portal-ciudadano-export/1"

#: Every table that can refer to a citizen, in the order the readable page shows them.
TABLES: dict[str, LazyString] = {
    "accounts": _l("Your account"),
    "citizen_attributes": _l("Data the administration holds about you"),
    "citizen_lookup_terms": _l("How staff find your record"),
    "applications": _l("Your applications"),
    "registry_entries": _l("Registry entries"),
    "application_files": _l("Files you sent"),
    "timeline_events": _l("What happened to your applications"),
    "issued_documents": _l("Documents issued to you"),
    "appointments": _l("Your appointments"),
    "contacts": _l("Your calls, visits and letters to us"),
    "satisfaction_invitations": _l("Questions about our service"),
    "notifications": _l("Notifications"),
    "notification_preferences": _l("Notification emails"),
    "dismissed_suggestions": _l("Suggestions you dismissed"),
    "data_accesses": _l("Who used your data"),
    "oidc_consents": _l("Connected services"),
    "oidc_codes": _l("Sign-ins to services"),
    "oidc_tokens": _l("Access given to services"),
    "factors": _l("Ways you sign in"),
    "recovery_codes": _l("Recovery codes"),
    "account_sessions": _l("Devices you signed in on"),
    "security_events": _l("Security history"),
    "staff_members": _l("Your work as staff"),
}

#: Links that name who acted on a row, not whose data it holds: a caseworker's export does
#: not gather the cases they touched, nor the citizens whose data they read.
ACTING = frozenset(
    {
        ("timeline_events", "actor_account_id"),
        ("data_accesses", "viewer_account_id"),
        ("case_assignments", "staff_account_id"),
        ("case_assignments", "assigned_by_account_id"),
        ("applications", "assisted_by_account_id"),
        ("contacts", "recorded_by_account_id"),
        ("case_opinions", "asked_by_account_id"),
        ("case_opinions", "answered_by_account_id"),
        ("case_routes", "routed_by_account_id"),
    }
)
#: The back office's working data about a case (who holds it), never the citizen's.
BACK_OFFICE = frozenset({"case_assignments", "case_opinions", "case_routes"})
#: The email outbox holds an address and a copy of each email, but only while the email
#: travels and a week after (``portal.outbox``): what it says comes from rows exported here
#: (the application, the appointment, the notification), and the email itself is in the
#: citizen's mailbox. It is the portal's machinery, like the worker's job times; no key
#: points at an account, and the walk leaves them out even if one is added.
INTERNAL_TABLES = frozenset({"outbox_emails", "scheduled_jobs"})


def _shown_to_owner(table: Table) -> ColumnElement[bool] | None:
    """Rows of an owned table the owner never sees: internal notes on their case."""
    if table.name == "timeline_events":
        return table.c.visible_to_citizen.is_(True)
    return None


SECRET = _l(
    "Not included: a secret that protects your account. It says nothing about you, and "
    "would help anyone who got hold of this file."
)
WITHHELD: dict[tuple[str, str], LazyString] = {
    ("accounts", "password_hash"): SECRET,
    ("factors", "totp_secret_encrypted"): SECRET,
    ("recovery_codes", "code_hash"): SECRET,
    ("account_sessions", "token_hash"): SECRET,
    ("oidc_codes", "code_hash"): SECRET,
    ("oidc_tokens", "access_token_hash"): SECRET,
    ("oidc_tokens", "refresh_token_hash"): SECRET,
    ("issued_documents", "content"): _l(
        "Not included here: download each document as a PDF from your documents."
    ),
}

#: Encrypted columns, given under another key with their value decrypted.
DECODED: dict[tuple[str, str], tuple[str, Callable[[str], Any]]] = {
    ("applications", "answers_encrypted"): (
        "answers",
        lambda text: json.loads(encryption.decrypt(text)) if text else {},
    ),
    ("citizen_attributes", "value_encrypted"): (
        "value",
        lambda text: json.loads(encryption.decrypt(text)),
    ),
    ("contacts", "summary_encrypted"): ("summary", encryption.decrypt),
}

#: Links between rows and technical counters: in the JSON, not on the readable page.
INTERNAL = frozenset(
    {
        "id",
        "account_id",
        "application_id",
        "citizen_account_id",
        "viewer_account_id",
        "actor_account_id",
        "assisted_by_account_id",
        "recorded_by_account_id",
        "client_pk",
        "code_id",
        "session_id",
        "snapshot_id",
        "public_id",
        "webauthn_user_handle",
        "stored_name",
        "request_key",
        "emailed_sequence",
        "totp_last_step",
        "credential_id",
        "public_key",
        "sign_count",
        "nonce",
        "code_challenge",
        "family",
    }
)

LABELS: dict[str, LazyString] = {
    "email": _l("Email address"),
    "email_verified_at": _l("Email address confirmed on"),
    "password_changed_at": _l("Password last changed on"),
    "language": _l("Language"),
    "time_zone": _l("Time zone"),
    "created_at": _l("Created on"),
    "updated_at": _l("Last changed on"),
    "disabled_at": _l("Disabled on"),
    "deleted_at": _l("Deleted on"),
    "name": _l("Name"),
    "value": _l("Value"),
    "source": _l("Source"),
    "verified": _l("Checked"),
    "reference": _l("Reference"),
    "procedure_slug": _l("Procedure"),
    "status": _l("Status"),
    "answers": _l("Your answers"),
    "provenance": _l("Where prefilled answers came from"),
    "expires_at": _l("Expires on"),
    "reminded_at": _l("Reminder sent on"),
    "submitted_at": _l("Sent on"),
    "due_at": _l("Legal deadline"),
    "clock_paused_at": _l("Deadline paused since"),
    "channel": _l("How it reached us (online, at an office, by phone, email or letter)"),
    "topic": _l("What it was about"),
    "summary": _l("What was said"),
    "outcome": _l("Outcome"),
    "follow_up_on": _l("We were to come back to you by"),
    "follow_up_done_at": _l("We came back to you on"),
    "age_band": _l("Your age band, kept for statistics"),
    "district": _l("Your postcode district, kept for statistics"),
    "reached_page": _l("The page of the form you had reached, kept for statistics"),
    "number": _l("Registry number"),
    "year": _l("Year"),
    "sequence": _l("Number within the year"),
    "registered_at": _l("Registered on"),
    "sha256": _l("Fingerprint (SHA-256)"),
    "field_id": _l("Question"),
    "original_name": _l("File name"),
    "content_type": _l("File type"),
    "size": _l("Size in bytes"),
    "uploaded_at": _l("Sent on"),
    "at": _l("When"),
    "kind": _l("Kind"),
    "from_state": _l("From status"),
    "to_state": _l("To status"),
    "actor": _l("Who"),
    "reason": _l("Message"),
    "visible_to_citizen": _l("Shown to you"),
    "csv": _l("Secure verification code"),
    "agency": _l("Agency"),
    "title": _l("Title"),
    "issued_at": _l("Issued on"),
    "service": _l("Service"),
    "office": _l("Office"),
    "starts_at": _l("Starts at"),
    "minutes": _l("Minutes"),
    "seat": _l("Desk"),
    "cancelled_at": _l("Cancelled on"),
    "formal": _l("Formal notification"),
    "params": _l("Details"),
    "body": _l("Message"),
    "read_at": _l("Read on"),
    "opened_at": _l("Opened on"),
    "email_wanted": _l("Email wanted"),
    "emailed_at": _l("Emailed on"),
    "unit": _l("Unit"),
    "role": _l("Role"),
    "what": _l("What"),
    "purpose": _l("Why"),
    "purpose_detail": _l("Why, in their words"),
    "scopes": _l("Data shared"),
    "scope": _l("Data shared"),
    "remembered": _l("Remembered"),
    "granted_at": _l("Agreed on"),
    "last_used_at": _l("Last used on"),
    "revoked_at": _l("Ended on"),
    "redirect_uri": _l("Address of the service"),
    "auth_time": _l("Signed in at"),
    "acr": _l("Level of assurance"),
    "amr": _l("Ways used to sign in"),
    "aal": _l("Level of assurance"),
    "used_at": _l("Used on"),
    "access_expires_at": _l("Access ends on"),
    "refresh_expires_at": _l("Renewal possible until"),
    "refreshed_at": _l("Renewed on"),
    "last_seen_at": _l("Last seen on"),
    "ip_address": _l("Internet address"),
    "user_agent": _l("Browser"),
    "authenticated_at": _l("Identity last proved on"),
    "transports": _l("How the key connects"),
    "backup_eligible": _l("Can be backed up"),
    "backup_state": _l("Backed up"),
    "occurred_at": _l("When"),
    "details": _l("Details"),
    "rule_id": _l("Suggestion"),
    "trigger": _l("Prompted by your application"),
    "dismissed_at": _l("Dismissed on"),
    "invited_at": _l("Asked on"),
    "term": _l("Search key: a keyed fingerprint of your name, identifier or phone, not the value"),
    "answered": _l("Answered (what you answered is anonymous and kept apart)"),
}


@dataclass(frozen=True)
class Section:
    table: str
    heading: str
    rows: list[dict[str, Any]]


def _owner_conditions() -> dict[str, Callable[[int], ColumnElement[bool]]]:
    """For each table that can refer to a citizen: the condition selecting their rows.

    Tables come parents first (``sorted_tables``), so a child's condition can build on its
    parents': ``application_files.application_id IN (the citizen's applications)``."""
    accounts = db.metadata.tables["accounts"]
    conditions: dict[str, Callable[[int], ColumnElement[bool]]] = {
        "accounts": lambda account_id: accounts.c.id == account_id
    }
    for table in db.metadata.sorted_tables:
        if table.name in BACK_OFFICE | INTERNAL_TABLES:
            continue
        links = []
        for key in table.foreign_keys:
            parent = key.column.table.name
            if (table.name, key.parent.name) in ACTING:
                continue
            if parent == "accounts":
                links.append((key.parent, None))
            elif parent in conditions and parent != table.name:
                links.append((key.parent, (key.column, parent)))
        if not links or table.name == "accounts":
            continue
        conditions[table.name] = _condition(links, conditions, _shown_to_owner(table))
    return conditions


def _condition(
    links: list[tuple[Any, tuple[Any, str] | None]],
    known: dict[str, Callable[[int], ColumnElement[bool]]],
    shown: ColumnElement[bool] | None,
) -> Callable[[int], ColumnElement[bool]]:
    def build(account_id: int) -> ColumnElement[bool]:
        parts: list[ColumnElement[bool]] = []
        for column, parent in links:
            if parent is None:
                parts.append(column == account_id)
            else:
                target, name = parent
                parts.append(column.in_(select(target).where(known[name](account_id))))
        owned = or_(false(), *parts)
        return owned if shown is None else and_(owned, shown)

    return build


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row(table: Table, mapping: Any) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column in table.columns:
        key = (table.name, column.name)
        if key in WITHHELD:
            continue
        value = mapping[column]
        if key in DECODED:
            name, decode = DECODED[key]
            row[name] = decode(value)
        else:
            row[column.name] = value
    return row


def collect(account_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row that refers to the citizen, by table, with Python values."""
    found: dict[str, list[dict[str, Any]]] = {}
    for name, condition in _owner_conditions().items():
        table = db.metadata.tables[name]
        order = list(table.primary_key.columns)
        result = db.session.execute(select(table).where(condition(account_id)).order_by(*order))
        found[name] = [_row(table, mapping) for mapping in result.mappings()]
    return found


def as_json(account_id: int, now: datetime | None = None) -> str:
    tables = collect(account_id)
    document = {
        "format": FORMAT,
        "exported_at": (now or utcnow()).isoformat(),
        "tables": {
            name: [{key: _plain(value) for key, value in row.items()} for row in rows]
            for name, rows in tables.items()
        },
        "withheld": {
            f"{table}.{column}": str(reason) for (table, column), reason in WITHHELD.items()
        },
    }
    return json.dumps(document, ensure_ascii=False, indent=2, default=str)


def sections(account_id: int) -> list[Section]:
    """The readable page: a section per table, in the order of :data:`TABLES`; rows keep
    only the labelled columns."""
    tables = collect(account_id)
    found = []
    for name, heading in TABLES.items():
        rows = [
            {key: value for key, value in row.items() if key not in INTERNAL}
            for row in tables.get(name, [])
        ]
        found.append(Section(name, str(heading), rows))
    return found


def label(column: str) -> str:
    return str(LABELS.get(column, column))


def structured_text(value: Any) -> str:
    """A mapping or a list as the page shows it: JSON, with accents left as they are."""
    return json.dumps(value, ensure_ascii=False, default=_plain)
