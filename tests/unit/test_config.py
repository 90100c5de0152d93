"""Configuration: safe embedded defaults, one variable per production part, and production
mode refusing to start on any embedded default."""

from __future__ import annotations

import stat

import pytest
from cryptography.fernet import Fernet

from portal.config import (
    ConfigurationError,
    from_environment,
    load_secret_key,
    refuse_embedded_defaults,
)

#: What an operator sets for production (README, Configuration).
PRODUCTION = {
    "PORTAL_ENV": "production",
    "SECRET_KEY": "k" * 48,
    "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "OIDC_SUBJECT_SECRET": "s" * 48,
    "DATABASE_URL": "postgresql://portal@db.internal/portal",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "SMTP_HOST": "smtp.internal",
    "WEB_CONCURRENCY": "4",
}


def refusal(tmp_path, **environ: str) -> str:
    """The message production mode refuses to start with (fails if it starts)."""
    config = from_environment(tmp_path, environ=environ)
    with pytest.raises(ConfigurationError) as refused:
        refuse_embedded_defaults(config, tmp_path)
    return refused.value.format_message()


def test_embedded_defaults_need_no_environment_but_the_mode(tmp_path) -> None:
    config = from_environment(tmp_path, environ={"PORTAL_ENV": "testing"})
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


def test_a_schema_named_in_the_database_url_is_kept_beside_jit_off(tmp_path) -> None:
    """libpq options in the URL (a schema of its own) survive the connect options we add:
    SQLAlchemy's connect arguments replace the URL's, so the schema was lost for public."""
    url = "postgresql://portal@db.internal/portal?options=-csearch_path%3Dcouncil"
    config = from_environment(tmp_path, environ={**PRODUCTION, "DATABASE_URL": url})
    options = config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"]
    assert options == "-csearch_path=council -c jit=off"
    plain = from_environment(tmp_path, environ=PRODUCTION)
    assert plain["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"] == "-c jit=off"


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


def test_development_and_testing_generate_their_secrets_and_start(tmp_path) -> None:
    for mode in ("development", "testing"):
        config = from_environment(tmp_path / mode, environ={"PORTAL_ENV": mode})
        refuse_embedded_defaults(config, tmp_path / mode)
        assert config["SECRET_KEY"] == (tmp_path / mode / "secret_key").read_text().strip()
        assert config["ENCRYPTION_KEYS"] and config["OIDC_SUBJECT_SECRET"]


def test_production_is_the_default_and_names_everything_it_misses(tmp_path) -> None:
    message = refusal(tmp_path)
    assert "PORTAL_ENV=production" in message
    for name in ("SECRET_KEY", "ENCRYPTION_KEYS", "OIDC_SUBJECT_SECRET", "DATABASE_URL"):
        assert f"{name} is not set" in message
    assert "SMTP_HOST is not set: emails" in message
    assert "PORTAL_ENV=development" in message, "says how a developer gets going"
    assert list(tmp_path.iterdir()) == [], "production writes no secret to disk"


def test_production_starts_when_the_environment_gives_everything(tmp_path) -> None:
    config = from_environment(tmp_path, environ=PRODUCTION)
    refuse_embedded_defaults(config, tmp_path)
    assert config["SECRET_KEY"] == PRODUCTION["SECRET_KEY"]
    assert config["ENCRYPTION_KEYS"] == [PRODUCTION["ENCRYPTION_KEYS"]]
    assert config["WORKERS"] == 4
    assert config["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] is True
    # No JIT compiling: it cost the figures more than it saved (bench/scale.py).
    assert config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {"options": "-c jit=off"}
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ENCRYPTION_KEYS", "OIDC_SUBJECT_SECRET"])
def test_each_missing_secret_alone_is_refused(tmp_path, missing) -> None:
    environ = {k: v for k, v in PRODUCTION.items() if k != missing}
    message = refusal(tmp_path, **environ)
    assert f"{missing} is not set" in message
    assert message.count(" is not set") == 1


def test_mail_written_to_files_is_refused_in_production(tmp_path) -> None:
    environ = {k: v for k, v in PRODUCTION.items() if k != "SMTP_HOST"}
    assert "would be written to files in instance/mail/" in refusal(tmp_path, **environ)


def test_sqlite_is_refused_in_production(tmp_path) -> None:
    environ = {**PRODUCTION, "DATABASE_URL": f"sqlite:///{tmp_path}/portal.sqlite3"}
    assert "production needs PostgreSQL" in refusal(tmp_path, **environ)


def test_rate_limits_in_memory_are_refused_only_when_several_workers_share_the_load(
    tmp_path,
) -> None:
    without_redis = {k: v for k, v in PRODUCTION.items() if k != "REDIS_URL"}
    assert "each of the 4 workers" in refusal(tmp_path, **without_redis)
    one_worker = from_environment(tmp_path, environ={**without_redis, "WEB_CONCURRENCY": "1"})
    refuse_embedded_defaults(one_worker, tmp_path)
    assert one_worker["RATELIMIT_STORAGE_URI"] == "memory://"


def test_short_secrets_and_malformed_keys_are_refused(tmp_path) -> None:
    message = refusal(
        tmp_path,
        **{**PRODUCTION, "SECRET_KEY": "changeme", "ENCRYPTION_KEYS": "not-a-key"},
    )
    assert "SECRET_KEY is shorter than 32 characters" in message
    assert "ENCRYPTION_KEYS: key 1 is not a Fernet key" in message
    assert "changeme" not in message, "a secret is never repeated in a message"


def test_a_secret_an_earlier_start_generated_is_pointed_at_not_lost(tmp_path) -> None:
    """A server that ran on generated secrets must carry them over: a new encryption key
    would leave every stored TOTP secret and citizen record unreadable."""
    from_environment(tmp_path, environ={"PORTAL_ENV": "development"})
    environ = {k: v for k, v in PRODUCTION.items() if k != "ENCRYPTION_KEYS"}
    message = refusal(tmp_path, **environ)
    assert f"{tmp_path / 'encryption_keys'}: move its lines, comma-separated" in message
