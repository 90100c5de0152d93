"""Structured logs: one JSON object per line, each with the request's id, nothing personal.

A log collector (Loki, Elasticsearch, CloudWatch) indexes fields, not prose, so every
line is a JSON object: time, level, logger, message, ``request_id`` and whatever
fields the caller passed as ``extra``. ``LOG_FORMAT=json`` is production's default;
a developer's terminal keeps Flask's plain lines.

Logs are kept longer and read by more people than the database, so they carry no
personal data and no secret. The request line names the route's *rule*
(``/<lang>/account/verify-email/<token>``), never the path a citizen asked for, which
can hold a token, and never the query string, the form, the IP address or the
browser. As a last guard, anything shaped like an email address or a query string
is blanked in messages and tracebacks (SQL parameters are already hidden from error
messages by ``hide_parameters``, see ``portal.config``).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, request
from flask.logging import default_handler

from portal.observability import request_ids

log = logging.getLogger("portal.request")

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: The query of a path or URL: ``/verify?token=...`` keeps ``/verify?``.
QUERY = re.compile(r"(?<=[\w/]\?)[^\s\"'<>]+")

#: Attributes every LogRecord has; anything else on a record came from ``extra``.
STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
}


def redact(text: str) -> str:
    """``text`` without email addresses or query strings."""
    return QUERY.sub("[redacted]", EMAIL.sub("[email]", text))


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON; fields from ``extra`` are kept as fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
            # Which gunicorn worker wrote it (a worker's lines, between its restarts).
            "pid": record.process,
        }
        for key, value in vars(record).items():
            if key not in STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = redact(record.exc_text)
        return json.dumps(entry, ensure_ascii=False, default=str)


def install_record_factory() -> None:
    """Give every record, from any library, the id of the request it was written in.

    Once per process: the factory is global, like the logging tree it feeds.
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "adds_request_id", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = request_ids.current()
        return record

    factory.adds_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def json_handler(level: str = "INFO") -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(level)
    return handler


#: Libraries that log every step at INFO: a line per PDF page is noise, not a record.
CHATTY = {"weasyprint": "WARNING", "fontTools": "WARNING"}


def install_json_logging(level: str) -> None:
    """Send every logger's lines, as JSON, to standard error (once per process).

    Under gunicorn its configuration (gunicorn.conf.py) has done this already, for
    gunicorn's own lines too.
    """
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        root.addHandler(json_handler())
    root.setLevel(level)
    for name, quieter in CHATTY.items():
        logging.getLogger(name).setLevel(quieter)


def gunicorn_logconfig(level: str) -> dict[str, Any]:
    """gunicorn's ``logconfig_dict``: its lines and the app's, as JSON, to standard error."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            # The app writes its own request line; gunicorn's would carry query strings.
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
            **{name: {"level": quieter} for name, quieter in CHATTY.items()},
        },
    }


def start_timer() -> None:
    g.request_started = time.perf_counter()


def elapsed() -> float:
    """Seconds since the request reached the app (0 if it never did)."""
    started = g.get("request_started")
    return time.perf_counter() - started if started is not None else 0.0


def log_request(response: Response, seconds: float) -> None:
    """One line per request: what was asked for (the route's rule, never the path), how it
    ended and how long it took."""
    rule = request.url_rule
    log.info(
        "%s %s %s",
        request.method,
        rule.rule if rule is not None else "(no route)",
        response.status_code,
        extra={
            "method": request.method,
            "endpoint": request.endpoint,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 1),
        },
    )


def init_app(app: Flask) -> None:
    install_record_factory()
    if app.config["LOG_FORMAT"] == "json":
        install_json_logging(app.config["LOG_LEVEL"])
        # Flask's plain handler, if an earlier app in this process added it, would
        # write each of the app's lines a second time.
        app.logger.removeHandler(default_handler)
