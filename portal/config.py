"""Settings read from the environment, with safe defaults for the embedded mode.

The embedded mode (no environment at all) must run on a fresh machine: SQLite in
``instance/``, mail written to files in ``instance/mail/`` and rate limits kept in
memory. Production switches each part on with one variable: ``DATABASE_URL``,
``REDIS_URL``, ``SMTP_HOST``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Production mode refuses embedded defaults for secrets (issue 8 builds on this).
ENVIRONMENTS = ("production", "development", "testing")


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _private_file(path: Path, make_content: Callable[[], str]) -> str:
    """The file's text, creating it first (readable by its owner only) if it does not exist.

    Generating secrets on first start, instead of shipping them, means no two
    installations share one; keeping them in ``instance/`` means a restart
    neither signs everybody out nor loses the key to stored secrets.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(make_content())
    return path.read_text()


def load_secret_key(instance_path: Path) -> str:
    """The key that signs sessions and tokens."""
    return _private_file(instance_path / "secret_key", lambda: secrets.token_urlsafe(48)).strip()


def load_encryption_keys(instance_path: Path, configured: str | None) -> list[str]:
    """Keys for secrets at rest: ``ENCRYPTION_KEYS`` (newest first), else one made in instance/."""
    if configured:
        return [key.strip() for key in configured.split(",") if key.strip()]
    from cryptography.fernet import Fernet

    text = _private_file(instance_path / "encryption_keys", lambda: Fernet.generate_key().decode())
    return [line.strip() for line in text.splitlines() if line.strip()]


def load_subject_secret(instance_path: Path) -> str:
    """The key of the pairwise OpenID Connect subjects: changing it changes every agency's
    ``sub`` for every citizen, so it is its own secret, apart from ``SECRET_KEY``."""
    path = instance_path / "oidc_subject_secret"
    return _private_file(path, lambda: secrets.token_urlsafe(48)).strip()


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def from_environment(instance_path: Path, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Build the configuration mapping from environment variables.

    Every key the application reads is set here, so ``app.config`` is the one
    place to look for what a deployment can change.
    """
    env = dict(os.environ if environ is None else environ)
    portal_env = env.get("PORTAL_ENV", "production")
    if portal_env not in ENVIRONMENTS:
        raise ValueError(f"PORTAL_ENV must be one of {ENVIRONMENTS}, not {portal_env!r}")
    development = portal_env == "development"

    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'portal.sqlite3'}"
    # Heroku-style URLs name the driver "postgres"; SQLAlchemy wants psycopg 3 spelled out.
    if database_url.startswith(("postgres://", "postgresql://")):
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]

    secure_cookies = _flag(env.get("SESSION_COOKIE_SECURE"), not development)
    return {
        "PORTAL_ENV": portal_env,
        "SECRET_KEY": env.get("SECRET_KEY") or load_secret_key(instance_path),
        "OIDC_SUBJECT_SECRET": env.get("OIDC_SUBJECT_SECRET") or load_subject_secret(instance_path),
        "ENCRYPTION_KEYS": load_encryption_keys(instance_path, env.get("ENCRYPTION_KEYS")),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Rate limits: in memory for one process, Redis when several share the load.
        "RATELIMIT_STORAGE_URI": env.get("REDIS_URL") or "memory://",
        # The 429 page sets Retry-After itself; other responses need no limit headers.
        "RATELIMIT_HEADERS_ENABLED": False,
        "RATELIMIT_ENABLED": True,
        # Per client IP, for every page; generous because a library or a town
        # hall's counter puts many citizens behind one address. Sensitive
        # actions (sign-in, codes) add their own, much tighter limits.
        "DEFAULT_RATE_LIMIT": env.get("DEFAULT_RATE_LIMIT", "600 per minute"),
        "REDIS_URL": env.get("REDIS_URL"),
        # Mail: files under instance/mail/ unless an SMTP server is named.
        "MAIL_FILE_DIR": str(instance_path / "mail"),
        "SMTP_HOST": env.get("SMTP_HOST"),
        "SMTP_PORT": int(env.get("SMTP_PORT", "587")),
        "SMTP_USERNAME": env.get("SMTP_USERNAME"),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD"),
        "SMTP_STARTTLS": _flag(env.get("SMTP_STARTTLS"), True),
        # The site's address as citizens reach it: links in emails are built on it,
        # never on the request's Host header (which an attacker can forge).
        "PUBLIC_URL": env.get("PUBLIC_URL", "http://localhost:5000"),
        "MAIL_FROM": env.get("MAIL_FROM", "Portal Ciudadano <no-reply@portal.example>"),
        # Cookies: "__Host-" binds the cookie to this host and path "/" and
        # requires Secure, so it is only used where the site is served securely.
        "SESSION_COOKIE_NAME": "__Host-session" if secure_cookies else "session",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_PATH": "/",
        "PREFERRED_URL_SCHEME": "https" if secure_cookies else "http",
        # CSRF tokens last as long as the absolute session lifetime (12 h), so a
        # slow form-filler is not thrown out; the "form expired" page covers the rest.
        "WTF_CSRF_TIME_LIMIT": 12 * 3600,
        "WTF_CSRF_SSL_STRICT": True,
        "PROXY_FIX_HOPS": int(env.get("PROXY_FIX_HOPS", "0")),
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", str(20 * 1024 * 1024))),
        "BABEL_DEFAULT_LOCALE": "es",
        "BABEL_DEFAULT_TIMEZONE": env.get("PORTAL_TIMEZONE", "Europe/Madrid"),
        # WebAuthn: the relying party is the site's domain, and only these origins
        # may answer its ceremonies (never taken from the request's Host header).
        "WEBAUTHN_RP_ID": env.get("WEBAUTHN_RP_ID", "localhost"),
        "WEBAUTHN_RP_NAME": env.get("WEBAUTHN_RP_NAME", "Portal Ciudadano"),
        "WEBAUTHN_ORIGINS": _list(env.get("WEBAUTHN_ORIGINS")) or ["http://localhost:5000"],
    }
