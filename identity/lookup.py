"""Finding a citizen by identifier, name or phone when those values are encrypted at rest.

A blind index: each searchable value is cut into normalised terms (a DNI without spaces or
dashes, a phone's digits, each word of the names without case or accents), and each term
is stored only as a keyed HMAC. Staff type what the citizen tells them; the query is cut
and hashed the same way, and an account matches when it holds every hashed term. The
database never holds a searchable plaintext, and without the key the hashes cannot be
tested against guesses.

The key is derived from the newest encryption key, so after adding a key (rotation) the
index is rebuilt with ``flask --app wsgi users reindex``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from typing import Any

from flask import current_app
from sqlalchemy import ForeignKey, Index, String, delete, select
from sqlalchemy.orm import Mapped, aliased, mapped_column

from identity.models import Account
from portal.extensions import db

#: The attributes staff may search by; the email is searched on the account itself.
SEARCHABLE = ("given_name", "family_name", "national_id", "phone")
#: The fewest characters a name term needs: "Li" matches, "L" does not.
MIN_TERM = 2
#: More terms than anyone's full name has: a longer query is not a name.
MAX_TERMS = 8


class LookupTerm(db.Model):  # type: ignore[name-defined]
    __tablename__ = "citizen_lookup_terms"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    #: HMAC-SHA256 of one normalised term, hex.
    term: Mapped[str] = mapped_column(String(64), primary_key=True)

    #: The accounts holding a term, in order: a search starts from its rarest term and stops
    #: at a page of accounts holding the others (the primary key answers those).
    __table_args__ = (Index("ix_citizen_lookup_terms_term_account", "term", "account_id"),)


def _fold(text: str) -> str:
    """Lower case, without accents: "Núñez" and "nunez" are the same term."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def identifier_terms(text: str) -> set[str]:
    """A DNI, NIE or phone as one term: letters and digits only, with Spain's +34 dropped."""
    compact = re.sub(r"[^0-9a-z]", "", _fold(text))
    if compact.startswith("0034"):
        compact = compact[4:]
    elif compact.startswith("34") and len(compact) == 11 and compact.isdigit():
        compact = compact[2:]
    return {compact} if len(compact) >= MIN_TERM else set()


def name_terms(text: str) -> set[str]:
    return {word for word in re.split(r"[^0-9a-z]+", _fold(text)) if len(word) >= MIN_TERM}


def terms_of(name: str, value: Any) -> set[str]:
    if name not in SEARCHABLE or not isinstance(value, str):
        return set()
    return identifier_terms(value) if name in ("national_id", "phone") else name_terms(value)


def _key() -> bytes:
    newest = current_app.config["ENCRYPTION_KEYS"][0]
    return hmac.new(newest.encode(), b"portal-ciudadano citizen lookup", hashlib.sha256).digest()


def fingerprint(term: str) -> str:
    return hmac.new(_key(), term.encode(), hashlib.sha256).hexdigest()


def index(account: Account, values: dict[str, Any]) -> None:
    """Replace the account's terms with those of ``values`` (attribute name → value).
    The caller commits."""
    db.session.execute(delete(LookupTerm).where(LookupTerm.account_id == account.id))
    hashed = {fingerprint(term) for name, value in values.items() for term in terms_of(name, value)}
    db.session.add_all(LookupTerm(account_id=account.id, term=one) for one in sorted(hashed))


def query_terms(query: str) -> set[str]:
    """What a query is looked up by: the whole of it as an identifier, or else its words."""
    words = name_terms(query)
    compact = identifier_terms(query)
    if compact and any(char.isdigit() for char in next(iter(compact))):
        return compact
    return words


def find(query: str, limit: int = 10) -> list[int]:
    """Account ids holding every term of ``query`` (or with that email), at most ``limit``."""
    query = query.strip()
    if "@" in query:
        found = db.session.scalars(
            select(Account.id).where(Account.email == query.lower(), Account.deleted_at.is_(None))
        )
        return list(found)
    terms = query_terms(query)
    if not terms or len(terms) > MAX_TERMS:
        return []
    first, *others = sorted(fingerprint(term) for term in terms)
    holds = [aliased(LookupTerm) for _ in others]
    matches = select(LookupTerm.account_id).where(LookupTerm.term == first)
    for alias, term in zip(holds, others, strict=True):
        # One join per further term: the database can start from the rarest and stop at a
        # page, where grouping every account that holds any of them cost as much as a
        # common surname is common.
        matches = matches.join(
            alias, (alias.account_id == LookupTerm.account_id) & (alias.term == term)
        )
    return list(db.session.scalars(matches.order_by(LookupTerm.account_id).limit(limit)))
