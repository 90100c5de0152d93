"""Catalogue search: case- and accent-insensitive, in the reader's language, with the same
results on SQLite (FTS5) and PostgreSQL (full-text search).

Both engines get text that is already folded here (lower case, accents and Arabic
diacritics removed, split into words), and both are asked the same question: every word of
the query must begin a word of the procedure's text. The engine only finds the matches;
the order is computed here, from the same folded text, so it cannot differ between them.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import text

from portal.extensions import db
from procedures.definitions import LANGUAGES, Catalogue, Procedure

WORD = re.compile(r"[^\W_]+")
MAX_TERMS = 8


def fold(value: str) -> str:
    """Lower case, no accents or diacritics, words separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(WORD.findall(bare))


def _documents(procedure: Procedure, lang: str) -> tuple[str, str, str]:
    texts = procedure.text(lang)
    keywords = " ".join(procedure.keywords.get(lang, ()))
    body = " ".join(
        (texts.summary, texts.description, texts.who_can_apply, procedure.agency.name(lang))
    )
    return fold(texts.title), fold(keywords), fold(body)


def sync(catalogue: Catalogue) -> None:
    """Rebuild the index when the definitions changed since it was last built."""
    fingerprint = catalogue.fingerprint
    stored = db.session.execute(
        text("SELECT fingerprint FROM procedure_search_state WHERE id = 1")
    ).scalar()
    if stored == fingerprint:
        return
    if stored is None:
        db.session.execute(
            text("INSERT INTO procedure_search_state (id, fingerprint) VALUES (1, :f)"),
            {"f": fingerprint},
        )
    else:  # on PostgreSQL this row lock makes a second rebuilder wait for the first
        db.session.execute(
            text("UPDATE procedure_search_state SET fingerprint = :f WHERE id = 1"),
            {"f": fingerprint},
        )
    db.session.execute(text("DELETE FROM procedure_search"))
    rows = []
    for procedure in catalogue:
        for lang in LANGUAGES:
            title, keywords, body = _documents(procedure, lang)
            rows.append(
                {"slug": procedure.slug, "lang": lang, "title": title, "body": f"{keywords} {body}"}
            )
    if rows:
        db.session.execute(
            text(
                "INSERT INTO procedure_search (slug, lang, title, body) "
                "VALUES (:slug, :lang, :title, :body)"
            ),
            rows,
        )
    db.session.commit()


#: Languages whose plurals end in -s or -es: a plural query word also finds the singular.
PLURAL_S = frozenset({"es", "en", "ca", "gl"})


def terms(query: str, lang: str = "es") -> list[str]:
    """The query's words, folded; in ``PLURAL_S`` languages without a plural ending, so that
    "becas escolares" finds "beca escolar" (words are matched as prefixes, so this only
    ever widens the match)."""
    words = fold(query).split()[:MAX_TERMS]
    if lang in PLURAL_S:
        words = [_singular(word) for word in words]
    return words


def _singular(word: str) -> str:
    if len(word) > 5 and word.endswith("es"):
        return word[:-2]
    if len(word) > 4 and word.endswith("s"):
        return word[:-1]
    return word


def search(catalogue: Catalogue, query: str, lang: str) -> list[Procedure]:
    """The procedures whose text has every word of ``query`` (as a word start), best first."""
    words = terms(query, lang)
    if not words:
        return []
    sync(catalogue)
    if db.engine.dialect.name == "sqlite":
        statement = text(
            "SELECT slug FROM procedure_search WHERE procedure_search MATCH :q AND lang = :lang"
        )
        match = " AND ".join(f'"{word}"*' for word in words)
    else:
        statement = text(
            "SELECT slug FROM procedure_search "
            "WHERE lang = :lang AND document @@ to_tsquery('simple', :q)"
        )
        match = " & ".join(f"{word}:*" for word in words)
    slugs = db.session.execute(statement, {"q": match, "lang": lang}).scalars().all()
    found = [p for slug in slugs if (p := catalogue.get(slug)) is not None]
    return sorted(found, key=lambda p: (-_score(p, lang, words), fold(p.text(lang).title)))


def _score(procedure: Procedure, lang: str, words: list[str]) -> int:
    """Title words weigh most, then keywords, then the rest of the text."""
    # Only the title and keywords decide the order: the longer text is not folded again.
    title_words = fold(procedure.text(lang).title).split()
    keyword_words = fold(" ".join(procedure.keywords.get(lang, ()))).split()
    score = 0
    for word in words:
        if any(w.startswith(word) for w in title_words):
            score += 3
        elif any(w.startswith(word) for w in keyword_words):
            score += 2
        else:
            score += 1
    return score


def outside_search_index(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """For Alembic's ``include_object``: the index tables are written in raw SQL per engine
    (FTS5 and its shadow tables on SQLite, a generated tsvector on PostgreSQL), not modelled."""
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
    return not (table or "").startswith("procedure_search")
