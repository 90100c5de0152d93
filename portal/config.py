"""Settings read from the environment, with safe defaults for the embedded mode.

The embedded mode must run on a fresh machine: SQLite in ``instance/``, mail written
to files in ``instance/mail/``, rate limits kept in memory and secrets generated once
into ``instance/``. Production switches each part on with one variable:
``DATABASE_URL``, ``REDIS_URL``, ``SMTP_HOST``, ``SECRET_KEY``...

``PORTAL_ENV`` says which mode this is. ``development`` (``make run``) and
``testing`` (the test suite) keep the embedded defaults. ``production``, the default
so that a forgotten variable can never quietly start a public site on them, refuses
to start with any of them (:func:`refuse_embedded_defaults`): a secret generated into
one server's disk is lost with that disk and differs on the next server, SQLite
cannot be shared by several servers, and rate limits in memory are per process.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click

ENVIRONMENTS = ("production", "development", "testing")

#: Secrets production must be given; each was generated into ``instance/`` otherwise.
SECRETS = {
    "SECRET_KEY": "secret_key",
    "ENCRYPTION_KEYS": "encryption_keys",
    "OIDC_SUBJECT_SECRET": "oidc_subject_secret",
}
#: Shorter keys can be guessed offline from one signed cookie or one pairwise ``sub``.
MIN_SECRET_LENGTH = 32

HOW_TO_MAKE_A_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'
HOW_TO_MAKE_A_FERNET_KEY = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class ConfigurationError(click.ClickException):
    """Production mode was about to start on an embedded default.

    A ``ClickException`` so that ``flask --app wsgi ...`` (which operators run in
    production too) prints the message alone, not a traceback around it.
    """


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


def default_log_format(portal_env: str, configured: str | None) -> str:
    """``LOG_FORMAT``: ``json`` or ``text``; JSON unless this is a developer's machine or a test.

    Read by gunicorn.conf.py too, so gunicorn's lines match the app's.
    """
    log_format = (configured or ("json" if portal_env == "production" else "text")).lower()
    if log_format not in {"json", "text"}:
        raise ValueError(f"LOG_FORMAT must be json or text, not {log_format!r}")
    return log_format


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _without_jit(database_url: str) -> str:
    """libpq ``options`` turning JIT off, after any the URL gives (``?options=-csearch_path=x``
    for a schema): connect arguments replace the URL's own ``options``, they do not add to
    them, so a deployment's (and each test run's) schema was silently dropped for public."""
    from sqlalchemy.engine import make_url

    given = make_url(database_url).query.get("options", "")
    given = given if isinstance(given, str) else " ".join(given)
    return f"{given} -c jit=off".strip()


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
    # Production never writes secrets to disk: a missing one stays missing, and is refused.
    embedded = portal_env != "production"

    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'portal.sqlite3'}"
    # Heroku-style URLs name the driver "postgres"; SQLAlchemy wants psycopg 3 spelled out.
    if database_url.startswith(("postgres://", "postgresql://")):
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]

    postgresql = database_url.startswith("postgresql")
    secure_cookies = _flag(env.get("SESSION_COOKIE_SECURE"), not development)
    return {
        "PORTAL_ENV": portal_env,
        "SECRET_KEY": env.get("SECRET_KEY")
        or (load_secret_key(instance_path) if embedded else None),
        "OIDC_SUBJECT_SECRET": env.get("OIDC_SUBJECT_SECRET")
        or (load_subject_secret(instance_path) if embedded else None),
        "ENCRYPTION_KEYS": load_encryption_keys(instance_path, env.get("ENCRYPTION_KEYS"))
        if embedded or env.get("ENCRYPTION_KEYS")
        else [],
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Parameters stay out of SQL error messages (and so out of logs): they are
        # citizens' data. A developer's machine shows them, to debug with.
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": True,
            "hide_parameters": not development,
            # PostgreSQL compiles a statement it estimates costly (JIT) before running it:
            # for the figures' statements that took longer than running them (1.2 of 2 s
            # over three years at 100,000 applications, bench/scale.py), and no page of
            # ours runs long enough to gain it back.
            **({"connect_args": {"options": _without_jit(database_url)}} if postgresql else {}),
        },
        # Rate limits: in memory for one process, Redis when several share the load.
        "RATELIMIT_STORAGE_URI": env.get("REDIS_URL") or "memory://",
        # Several deployments (or a test run) can share one Redis without sharing limits.
        "RATELIMIT_KEY_PREFIX": env.get("RATELIMIT_KEY_PREFIX", ""),
        # Processes serving this app: gunicorn.conf.py exports its worker count here.
        "WORKERS": int(env.get("WEB_CONCURRENCY") or "1"),
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
        # Emails leave through the outbox's worker. A request may send the ones it wrote
        # itself once they are committed: by default only when "sending" writes a file
        # (the embedded mode, so `make run` shows mail at once), never to an SMTP server.
        "OUTBOX_SEND_AFTER_REQUEST": _flag(
            env.get("OUTBOX_SEND_AFTER_REQUEST"), not env.get("SMTP_HOST")
        ),
        # Uploaded documents: a folder every application server mounts (instance/uploads
        # when unset, which suits one server).
        "UPLOAD_FOLDER": env.get("UPLOAD_FOLDER") or None,
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
        # Logs: JSON lines for a collector in production, Flask's plain lines elsewhere.
        "LOG_FORMAT": default_log_format(portal_env, env.get("LOG_FORMAT")),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO").upper(),
        # /metrics answers only to this bearer token, and is not there without one.
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", str(20 * 1024 * 1024))),
        "BABEL_DEFAULT_LOCALE": "es",
        "BABEL_DEFAULT_TIMEZONE": env.get("PORTAL_TIMEZONE", "Europe/Madrid"),
        # WebAuthn: the relying party is the site's domain, and only these origins
        # may answer its ceremonies (never taken from the request's Host header).
        "WEBAUTHN_RP_ID": env.get("WEBAUTHN_RP_ID", "localhost"),
        "WEBAUTHN_RP_NAME": env.get("WEBAUTHN_RP_NAME", "Portal Ciudadano"),
        "WEBAUTHN_ORIGINS": _list(env.get("WEBAUTHN_ORIGINS")) or ["http://localhost:5000"],
    }


def embedded_defaults(config: Mapping[str, Any], instance_path: Path) -> list[str]:
    """What ``config`` still takes from the embedded mode, one sentence per variable."""
    problems = []
    for name, file_name in SECRETS.items():
        if not config.get(name):
            generated = instance_path / file_name
            value = "its lines, comma-separated," if name == "ENCRYPTION_KEYS" else "its value"
            problems.append(
                f"{name} is not set"
                + (
                    f" (an earlier start generated {generated}: move {value} into {name},"
                    " or what it protects is lost)"
                    if generated.exists()
                    else ""
                )
            )
    for name in ("SECRET_KEY", "OIDC_SUBJECT_SECRET"):
        value = config.get(name)
        if value and len(value) < MIN_SECRET_LENGTH:
            problems.append(
                f"{name} is shorter than {MIN_SECRET_LENGTH} characters: make one with"
                f" {HOW_TO_MAKE_A_KEY}"
            )
    if config.get("ENCRYPTION_KEYS"):
        from cryptography.fernet import Fernet

        for position, key in enumerate(config["ENCRYPTION_KEYS"], start=1):
            try:
                Fernet(key)
            except ValueError:
                problems.append(
                    f"ENCRYPTION_KEYS: key {position} is not a Fernet key: make one with"
                    f" {HOW_TO_MAKE_A_FERNET_KEY}"
                )
    if str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        problems.append("DATABASE_URL is not set, or names SQLite: production needs PostgreSQL")
    if not config.get("SMTP_HOST"):
        problems.append(
            "SMTP_HOST is not set: emails (account confirmations, password resets,"
            " notifications) would be written to files in instance/mail/ and reach nobody"
        )
    workers = int(config.get("WORKERS") or 1)
    if str(config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory") and workers > 1:
        problems.append(
            f"REDIS_URL is not set: each of the {workers} workers would keep rate limits"
            " of its own, multiplying every limit"
        )
    return problems


def refuse_embedded_defaults(config: Mapping[str, Any], instance_path: Path) -> None:
    """Raise :class:`ConfigurationError` naming every embedded default production still uses."""
    if config.get("PORTAL_ENV", "production") != "production":
        return
    problems = embedded_defaults(config, instance_path)
    if problems:
        lines = "\n".join(f"  - {problem}" for problem in problems)
        raise ConfigurationError(
            "Portal Ciudadano does not start in production mode (PORTAL_ENV=production)"
            f" on embedded defaults:\n{lines}\n"
            f"Set them in the environment (README.md, Configuration): secrets with"
            f" {HOW_TO_MAKE_A_KEY}, ENCRYPTION_KEYS with {HOW_TO_MAKE_A_FERNET_KEY}.\n"
            "On a developer's machine, set PORTAL_ENV=development (make run does)."
        )
