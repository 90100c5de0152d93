"""The catalogue the running site serves: definitions loaded once per process, at start-up.

Parsing YAML per request would cost milliseconds on every page; the loaded catalogue is
immutable, so every request and thread can share it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import Flask, current_app

from procedures.definitions import (
    DEFINITIONS_DIR,
    Catalogue,
    Procedure,
    load_catalogue,
    parse_source,
)
from procedures.models import DefinitionSnapshot


def init_app(app: Flask) -> None:
    directory = Path(app.config.get("PROCEDURES_DIR") or DEFINITIONS_DIR)
    app.extensions["procedures"] = load_catalogue(directory)


def current() -> Catalogue:
    return current_app.extensions["procedures"]  # type: ignore[no-any-return]


def get(slug: str) -> Procedure | None:
    return current().get(slug)


def agency_name(key: str, lang: str) -> str:
    """The agency's name in ``lang``; the key itself for one no longer in agencies.yaml."""
    agency = current().agencies.get(key)
    return agency.name(lang) if agency else key


def by_topic(topic: str) -> list[Procedure]:
    return [p for p in current() if topic in p.topics]


def by_life_event(event: str) -> list[Procedure]:
    return [p for p in current() if event in p.life_events]


def from_snapshot(snapshot: DefinitionSnapshot) -> Procedure:
    return _parse(snapshot.slug, snapshot.sha256, snapshot.source)


@lru_cache(maxsize=64)
def _parse(slug: str, sha256: str, source: str) -> Procedure:
    return parse_source(slug, source)
