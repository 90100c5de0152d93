"""What an agency may learn about a citizen: scopes, the claims they carry, subjects, assurance.

Claims come from the citizen record (``identity.record``) and only for the
scopes the citizen agreed to. ``*_verified`` is true only when the record's
source verified the value (the police for the identifier, the census for the
address); the national identifier is released only when verified.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from identity import record
from identity.models import Account

#: Every scope a client may ask for, in the order the consent screen lists them.
SCOPES = ("openid", "profile", "email", "address", "phone", "citizen_id", "offline_access")

#: What each scope shares, in the citizen's words (the consent screen and connected services).
SCOPE_LABELS = {
    "profile": _l("Your name, surname, date of birth and language"),
    "email": _l("Your email address"),
    "address": _l("Your home address"),
    "phone": _l("Your phone number"),
    "citizen_id": _l("Your DNI or NIE number"),
    "offline_access": _l("Keep access while you are not using its site, until you disconnect it"),
}

CLAIMS_BY_SCOPE = {
    "profile": ("name", "given_name", "family_name", "birthdate", "locale"),
    "email": ("email", "email_verified"),
    "address": ("address",),
    "phone": ("phone_number", "phone_number_verified"),
    "citizen_id": ("citizen_id", "citizen_id_verified"),
}
CLAIMS = ("sub", *(claim for claims in CLAIMS_BY_SCOPE.values() for claim in claims))

#: Assurance: the session's methods decide which level it reached (RFC 8176 ``amr``).
ACR_MFA = "urn:portal-ciudadano:acr:mfa"
ACR_PHISHING_RESISTANT = "urn:portal-ciudadano:acr:phishing-resistant"
ACR_VALUES = (ACR_MFA, ACR_PHISHING_RESISTANT)
_ACR_RANK = {ACR_MFA: 1, ACR_PHISHING_RESISTANT: 2}


def session_acr(amr: list[str]) -> str:
    """Every session passed a second factor; a WebAuthn key (hwk, swk) is phishing-resistant."""
    return ACR_PHISHING_RESISTANT if {"hwk", "swk"} & set(amr) else ACR_MFA


def required_acr(acr_values: str | None) -> str | None:
    """The weakest level the client accepts among those it named; unknown values are ignored."""
    known = [value for value in (acr_values or "").split() if value in _ACR_RANK]
    return min(known, key=_ACR_RANK.__getitem__) if known else None


def acr_satisfied(amr: list[str], acr_values: str | None) -> bool:
    wanted = required_acr(acr_values)
    return wanted is None or _ACR_RANK[session_acr(amr)] >= _ACR_RANK[wanted]


def subject(account: Account, sector: str, subject_type: str = "pairwise") -> str:
    """A stable ``sub`` for ``account``: per sector when pairwise, so two agencies cannot
    join their records on it (OpenID Connect Core §8.1). An HMAC with a secret of its own,
    never the database id: the id would leak how many citizens signed up before."""
    secret = current_app.config["OIDC_SUBJECT_SECRET"].encode()
    scope = sector if subject_type == "pairwise" else "public"
    mac = hmac.new(secret, f"{scope}\x00{account.id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


@dataclass(frozen=True)
class Shared:
    """One line of the consent screen: what a scope shares, with the values we would send."""

    scope: str
    label: str
    values: list[str]


def _address(value: dict[str, Any]) -> dict[str, str]:
    street = " ".join(str(value.get(k) or "") for k in ("street", "number", "floor_door")).strip()
    parts = {
        "street_address": street,
        "locality": str(value.get("municipality") or ""),
        "region": str(value.get("province") or ""),
        "postal_code": str(value.get("postcode") or ""),
        "country": "ES",
    }
    lines = [street, f"{parts['postal_code']} {parts['locality']}".strip(), parts["region"]]
    parts["formatted"] = "\n".join(line for line in lines if line)
    return {key: text for key, text in parts.items() if text}


def claims_for(account: Account, scopes: list[str]) -> dict[str, Any]:
    """The userinfo claims for ``scopes`` (``sub`` is added by the caller)."""
    held = record.attributes(account)

    def value(name: str) -> Any:
        attribute = held.get(name)
        return attribute.value if attribute is not None else None

    def verified(name: str) -> bool:
        attribute = held.get(name)
        return attribute is not None and attribute.verified

    found: dict[str, Any] = {}
    if "profile" in scopes:
        given, family = value("given_name"), value("family_name")
        found.update(
            name=" ".join(part for part in (given, family) if part) or None,
            given_name=given,
            family_name=family,
            birthdate=value("birth_date"),
            locale=account.language,
        )
    if "email" in scopes and "email" in held:
        found.update(email=account.email, email_verified=True)
    if "address" in scopes and isinstance(value("address"), dict):
        found["address"] = _address(value("address"))
    if "phone" in scopes and value("phone"):
        found.update(
            phone_number=str(value("phone")).replace(" ", ""),
            phone_number_verified=verified("phone"),
        )
    if "citizen_id" in scopes and verified("national_id"):
        found.update(citizen_id=value("national_id"), citizen_id_verified=True)
    return {name: item for name, item in found.items() if item is not None}


def shared(account: Account, scopes: list[str]) -> list[Shared]:
    """What the consent screen lists: each scope in plain words, with the values it carries."""
    claims = claims_for(account, scopes)
    lines = []
    for scope in SCOPES:
        if scope not in scopes or scope not in SCOPE_LABELS:
            continue
        values: list[str] = []
        if scope == "profile":
            values = [claims["name"]] if "name" in claims else []
            if "birthdate" in claims:
                values.append(format_date(date.fromisoformat(claims["birthdate"]), "long"))
        elif scope == "email" and "email" in claims:
            values = [claims["email"]]
        elif scope == "address" and "address" in claims:
            values = [claims["address"]["formatted"].replace("\n", ", ")]
        elif scope == "phone" and "phone_number" in claims:
            values = [claims["phone_number"]]
        elif scope == "citizen_id" and "citizen_id" in claims:
            values = [claims["citizen_id"]]
        lines.append(Shared(scope, str(SCOPE_LABELS[scope]), values))
    return lines
