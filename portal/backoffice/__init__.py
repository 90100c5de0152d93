"""The back office under ``/<lang>/staff/``: the agency's case inbox and each case.

Every view is watched by ``portal.audit.guard``: one that loads a citizen's data without
recording why fails with an error instead of reading silently.
"""

from __future__ import annotations

from flask import Blueprint, Flask

blueprint = Blueprint("backoffice", __name__, url_prefix="/<lang:lang>/staff")


def init_app(app: Flask) -> None:
    from identity import signals as identity_signals
    from portal import audit
    from portal.backoffice import (
        complaints_views,  # noqa: F401 - registers its routes
        contacts_views,  # noqa: F401 - registers its routes
        counter,
        counter_views,  # noqa: F401 - registers its routes
        figures_views,  # noqa: F401 - registers its routes
        models,  # noqa: F401 - registers the tables
        opinions_views,  # noqa: F401 - registers its routes
        staff,
        team_views,  # noqa: F401 - registers its routes
        views,
    )
    from procedures import catalogue
    from procedures.views import current_lang

    app.extensions["make_staff"] = staff.make_staff
    app.extensions["counter_assistance"] = counter.may_assist
    identity_signals.account_closing.connect(staff.forget)
    app.register_blueprint(blueprint)
    app.jinja_env.globals.update(
        is_staff=views.is_staff,
        agency_name=lambda key: catalogue.agency_name(key, current_lang()),
        staff_role=lambda role: audit.ROLES.get(role, role),
    )
