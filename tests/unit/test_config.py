"""Configuration: safe embedded defaults, one variable per production part."""

from __future__ import annotations

import stat

import pytest

from portal.config import from_environment, load_secret_key


def test_embedded_defaults_need_no_environment(tmp_path) -> None:
    config = from_environment(tmp_path, environ={})
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert config["MAIL_FILE_DIR"] == str(tmp_path / "mail")
    assert config["SMTP_HOST"] is None
    assert config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["BABEL_DEFAULT_LOCALE"] == "es"


def test_each_production_part_is_switched_on_by_one_variable(tmp_path) -> None:
    config = from_environment(
        tmp_path,
        environ={
            "DATABASE_URL": "postgresql://portal@db.internal/portal",
            "REDIS_URL": "redis://cache.internal:6379/0",
            "SMTP_HOST": "smtp.internal",
            "SECRET_KEY": "from-the-environment",
        },
    )
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://portal@db.internal/portal"
    assert config["RATELIMIT_STORAGE_URI"] == "redis://cache.internal:6379/0"
    assert config["SMTP_HOST"] == "smtp.internal"
    assert config["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_local_development_drops_secure_cookies_for_plain_http(tmp_path) -> None:
    config = from_environment(tmp_path, environ={"PORTAL_ENV": "development"})
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["SESSION_COOKIE_NAME"] == "session"  # __Host- requires Secure


def test_an_unknown_environment_name_is_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match="PORTAL_ENV"):
        from_environment(tmp_path, environ={"PORTAL_ENV": "prod"})


def test_the_secret_key_is_generated_once_and_kept_private(tmp_path) -> None:
    first = load_secret_key(tmp_path / "instance")
    second = load_secret_key(tmp_path / "instance")
    assert first == second and len(first) >= 64
    mode = (tmp_path / "instance" / "secret_key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
