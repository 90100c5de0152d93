"""The application factory: it only wires parts together (no queries, no I/O at import)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import flask_babel
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import (
    components,
    compression,
    errors,
    i18n,
    inputs,
    observability,
    security,
    static_files,
)
from portal import config as config_module
from portal.extensions import babel, csrf, db, limiter, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the portal. ``config`` overrides what the environment says (tests use it)."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
        static_folder=str(ROOT / "static"),
        static_url_path="/static",
    )
    overrides = config or {}
    instance = Path(overrides.get("INSTANCE_PATH", app.instance_path))
    app.instance_path = str(instance)
    environ = dict(os.environ)
    if "PORTAL_ENV" in overrides:  # decides whether secrets may be generated into instance/
        environ["PORTAL_ENV"] = overrides["PORTAL_ENV"]
    app.config.from_mapping(config_module.from_environment(instance, environ))
    app.config.from_mapping(overrides)
    config_module.refuse_embedded_defaults(app.config, instance)
    observability.init_app(app)  # first: what follows may already log
    inputs.init_app(app)
    configure_extensions(app)
    configure_templates(app)
    components.init_app(app)
    i18n.init_app(app)  # before the blueprints: their URLs use its "lang" converter
    configure_blueprints(app)
    security.init_app(app)
    errors.init_app(app)
    static_files.init_app(app)
    compression.init_app(app)
    configure_cli(app)
    if app.config["PROXY_FIX_HOPS"]:
        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    return app


def configure_extensions(app: Flask) -> None:
    import identity.models
    import identity.oidc.models  # noqa: F401
    import portal.audit
    import portal.backoffice.models
    import portal.outbox
    import portal.schedule  # noqa: F401
    import procedures.models  # noqa: F401

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    babel.init_app(
        app,
        locale_selector=i18n.locale_selector,
        timezone_selector=i18n.timezone_selector,
        default_translation_directories=str(ROOT / "translations"),
    )
    csrf.init_app(app)
    # Flask-Login is bound by identity (it owns the user loader), not here.
    limiter.init_app(app)


def configure_templates(app: Flask) -> None:
    # Whole sentences in {% trans %} blocks lose their line breaks and indents,
    # so translators see one clean string (as Indico does).
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    # Lets the layout link to parts that other packages add (sign-in, catalogue)
    # only once they exist, instead of linking to a page that is not there.
    # Dates, times and numbers always go through Babel, in the page's locale.
    app.jinja_env.globals.update(
        format_date=flask_babel.format_date,
        format_time=flask_babel.format_time,
        format_datetime=flask_babel.format_datetime,
        format_number=flask_babel.format_number,
        format_percent=flask_babel.format_percent,
        format_timedelta=flask_babel.format_timedelta,
    )
    app.jinja_env.globals["endpoint_exists"] = lambda endpoint: endpoint in app.view_functions


def configure_blueprints(app: Flask) -> None:
    import identity.oidc
    import identity.views
    import procedures.views
    from portal import audit, backoffice, folder, notifications, outbox, suggestions
    from portal.pages.views import blueprint as pages

    app.register_blueprint(pages)
    identity.views.init_app(app)
    identity.oidc.init_app(app)
    procedures.views.init_app(app)
    folder.init_app(app)
    backoffice.init_app(app)
    audit.init_app(app)
    notifications.init_app(app)
    suggestions.init_app(app)
    outbox.init_app(app)


def configure_cli(app: Flask) -> None:
    import identity.demo
    import portal.backoffice.demo
    import portal.folder.demo
    from identity.cli import users
    from identity.oidc.cli import oidc
    from portal import worker
    from portal.cli import DEMO_LOADERS, demo

    for loader in (identity.demo.load, portal.folder.demo.load, portal.backoffice.demo.load):
        if loader not in DEMO_LOADERS:
            DEMO_LOADERS.append(loader)
    app.cli.add_command(demo)
    app.cli.add_command(users)
    app.cli.add_command(oidc)
    worker.init_app(app)
