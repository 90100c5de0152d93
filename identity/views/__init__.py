"""The identity pages, under ``/<lang>/account/``: one module per journey.

Views stay thin: they read a form, call ``identity``'s plain functions, commit
and choose the next page. Every page a journey can end on (success, wrong
code, locked, expired link) is a real page with its own ``h1``, in every
language, so it can be tested, and checked by axe, like any other.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Blueprint, Flask, Response
from flask_babel import format_timedelta

blueprint = Blueprint(
    "identity",
    __name__,
    url_prefix="/<lang:lang>/account",
    template_folder=str(Path(__file__).resolve().parent.parent / "templates"),
)


def init_app(app: Flask) -> None:
    """Bind sign-in to the app and give templates the labels they need."""
    from identity import devices, labels, signin

    signin.init_app(app)
    app.register_blueprint(blueprint)
    app.jinja_env.globals.update(
        describe_device=devices.describe,
        factor_kind_label=labels.factor_kind_label,
        event_label=labels.event_label,
        methods_label=labels.methods_label,
        time_zone_name=labels.time_zone_name,
    )


def sent(response: Response) -> bool:
    """For rate limits on forms that send email: only an accepted form (a redirect) counts,
    so a citizen fixing a typo is not locked out by their own mistakes."""
    return response.status_code in (302, 303)


def wait_text(seconds: int) -> str:
    """ "5 minutes", "40 seconds": how long to wait, in the page's language."""
    return format_timedelta(timedelta(seconds=seconds), threshold=1, add_direction=False)


from identity.views import creation, methods, recovery, reset, settings, signing_in  # noqa: E402, F401
