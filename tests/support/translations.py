"""Look up what a message says in a language, so tests assert the translated text itself."""

from __future__ import annotations

from flask import Flask, g
from flask_babel import force_locale, gettext


def translate(app: Flask, lang: str, message: str, **variables: object) -> str:
    with app.test_request_context(f"/{lang}/"), force_locale(lang):
        g.lang = lang
        return gettext(message, **variables)
