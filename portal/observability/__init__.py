"""What operators watch: request ids, JSON logs, Prometheus metrics, liveness and readiness.

Every request is timed from the moment it reaches the app (``request_started``) to
the moment its response is final (``request_finished``, after every ``after_request``
and the session cookie), then written as one log line and counted.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request_finished, request_started

from portal.observability import logs, metrics, request_ids, views


def _finished(sender: Flask, response: Response, **_: Any) -> None:
    seconds = logs.elapsed()
    logs.log_request(response, seconds)
    metrics.observe_request(response, seconds)


def _started(sender: Flask, **_: Any) -> None:
    logs.start_timer()


def init_app(app: Flask) -> None:
    logs.init_app(app)
    metrics.init_app(app)
    request_started.connect(_started, app)
    request_finished.connect(_finished, app)
    app.after_request(request_ids.add_header)
    app.register_blueprint(views.blueprint)
