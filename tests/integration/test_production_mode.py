"""Production mode refuses to start on embedded defaults, wherever it is started: the app
factory, gunicorn (once, in its master, before any worker) and the flask CLI operators
use; each says what is missing, without a traceback around it."""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from portal import create_app
from portal.config import SECRETS, ConfigurationError
from portal.observability.logs import JsonFormatter
from tests.conftest import ROOT

BIN = Path(sys.executable).parent


def bare_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A fresh server's environment: no PORTAL_ENV (so production), no secrets."""
    inherited = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}}
    return {**inherited, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), **extra}


def test_the_app_refuses_production_on_embedded_defaults(tmp_path) -> None:
    with pytest.raises(ConfigurationError, match="SECRET_KEY is not set"):
        create_app({"PORTAL_ENV": "production", "INSTANCE_PATH": str(tmp_path)})
    assert list(tmp_path.iterdir()) == [], "no secret was generated on the way"


@pytest.fixture
def logging_restored():
    """Production mode sends the process's logs to standard error as JSON: undo it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_the_app_starts_in_production_when_given_everything(tmp_path, logging_restored) -> None:
    app = create_app(
        {
            "PORTAL_ENV": "production",
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": secrets.token_urlsafe(48),
            "OIDC_SUBJECT_SECRET": secrets.token_urlsafe(48),
            "ENCRYPTION_KEYS": [Fernet.generate_key().decode()],
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://portal@db.internal/portal",
            "SMTP_HOST": "smtp.internal",
        }
    )
    assert app.config["PORTAL_ENV"] == "production"
    assert app.config["LOG_FORMAT"] == "json"
    assert any(isinstance(h.formatter, JsonFormatter) for h in logging.getLogger().handlers)


def test_gunicorn_refuses_before_starting_a_worker(tmp_path) -> None:
    result = subprocess.run(  # noqa: S603
        [BIN / "gunicorn", "--config", "gunicorn.conf.py"],
        cwd=ROOT,
        env=bare_environment(tmp_path, BIND="127.0.0.1:0", WEB_CONCURRENCY="2"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    said = result.stdout + result.stderr
    assert result.returncode != 0
    for missing in (*SECRETS, "DATABASE_URL", "SMTP_HOST"):
        assert f"{missing} is not set" in said
    assert "each of the 2 workers would keep rate limits of its own" in said
    assert "Booting worker" not in said and "Traceback" not in said


def test_the_flask_cli_refuses_with_the_message_alone(tmp_path) -> None:
    result = subprocess.run(  # noqa: S603
        [BIN / "flask", "--app", "wsgi", "db", "heads"],
        cwd=ROOT,
        env=bare_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(
        "Error: Portal Ciudadano does not start in production mode (PORTAL_ENV=production)"
    )
    assert "Traceback" not in result.stderr
    assert "PORTAL_ENV=development" in result.stderr
