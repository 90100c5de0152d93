"""Mi carpeta: the citizen's one place for their cases, documents, data and who used it.

Everything here is the signed-in citizen's own: each view selects by the citizen's
account, so another citizen's reference or code answers 404, never 403 (which would
confirm it exists).
"""

from __future__ import annotations

from flask import Blueprint, Flask

blueprint = Blueprint("folder", __name__, url_prefix="/<lang:lang>/folder")


def init_app(app: Flask) -> None:
    from portal.folder import export, inbox, my_data, satisfaction, views  # noqa: F401 - routes
    from procedures import signals

    signals.case_changed.connect(satisfaction.on_case_changed)
    app.register_blueprint(blueprint)
    app.jinja_env.globals["attribute_source"] = my_data.source_text
    app.jinja_env.globals["export_label"] = export.label
    app.jinja_env.globals["export_structured"] = export.structured_text
