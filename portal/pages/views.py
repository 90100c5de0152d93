"""Views of the public pages; each URL of the blueprint is listed here."""

from __future__ import annotations

from datetime import date, time

from flask import Blueprint, current_app, render_template

blueprint = Blueprint("pages", __name__, url_prefix="/<lang:lang>")

#: When the accessibility statement was prepared and last reviewed (RD 1112/2018 art. 15).
STATEMENT_PREPARED = date(2026, 11, 21)
STATEMENT_REVIEWED = date(2026, 11, 21)

#: The help line's hours, shown in each language's own time format.
PHONE_OPENS = time(9, 0)
PHONE_CLOSES = time(18, 0)


@blueprint.get("/")
def home() -> str:
    return render_template("pages/home.html")


@blueprint.get("/accessibility")
def accessibility() -> str:
    return render_template(
        "pages/accessibility.html",
        prepared=STATEMENT_PREPARED,
        reviewed=STATEMENT_REVIEWED,
    )


@blueprint.get("/privacy")
def privacy() -> str:
    return render_template("pages/privacy.html")


@blueprint.get("/cookies")
def cookies() -> str:
    return render_template(
        "pages/cookies.html", session_cookie=current_app.config["SESSION_COOKIE_NAME"]
    )


@blueprint.get("/contact")
def contact() -> str:
    return render_template("pages/contact.html", opening=PHONE_OPENS, closing=PHONE_CLOSES)
