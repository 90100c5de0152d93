"""Limits on guessing, after login.gov: they stop online attacks without long lock-outs.

- 5 wrong passwords a minute for one email from one IP address;
- 10 wrong codes (TOTP or recovery) for one account in 10 minutes;
- 100 failures of any kind for one account in a day, from anywhere: the
  ceiling NIST 800-63B §5.2.2 sets on consecutive failures without a lock.

Counters live in the rate-limit storage (memory, or Redis when several
workers share the load), so they hold across processes.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from dataclasses import dataclass

from flask import current_app
from limits import parse

from portal.extensions import limiter

PASSWORD = parse("5 per minute")
CODE = parse("10 per 10 minutes")
ACCOUNT = parse("100 per day")
#: Emails we send to one address on request (verification, reset): no mail-bombing.
EMAILS = parse("5 per hour")


class TooManyAttemptsError(Exception):
    """Wait ``retry_after`` seconds before trying again."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Counter:
    limit: object
    key: tuple[str, ...]

    def check(self) -> None:
        """Refuse before the attempt when the limit is already used up."""
        strategy = limiter.limiter
        if not strategy.test(self.limit, *self.key):
            reset_at, _remaining = strategy.get_window_stats(self.limit, *self.key)
            raise TooManyAttemptsError(max(1, math.ceil(reset_at - time.time())))

    def fail(self) -> None:
        limiter.limiter.hit(self.limit, *self.key)

    def clear(self) -> None:
        limiter.limiter.clear(self.limit, *self.key)


def _key(kind: str, *parts: str) -> tuple[str, ...]:
    """A counter's key, under the deployment's ``RATELIMIT_KEY_PREFIX`` as Flask-Limiter's
    own limits are: deployments sharing one Redis count their citizens apart (without it,
    a benchmark's password resets were still counted against the same addresses in the
    next run). The email and address are a keyed fingerprint, not the values: Redis (its
    memory, its dumps, an operator's ``KEYS *``) holds no one's email address."""
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    secret = current_app.config["SECRET_KEY"].encode()
    who = hmac.new(secret, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()[:32]
    return (prefix, kind, who) if prefix else (kind, who)


def _account(email: str) -> Counter:
    """The one daily ceiling per account, shared by password and code failures."""
    return Counter(ACCOUNT, _key("account", email))


def password_attempts(email: str, ip: str | None) -> list[Counter]:
    return [Counter(PASSWORD, _key("password", email, ip or "-")), _account(email)]


def code_attempts(email: str) -> list[Counter]:
    """Keyed by the account's (normalised) email, like ``password_attempts``."""
    return [Counter(CODE, _key("code", email)), _account(email)]


def check(counters: list[Counter]) -> None:
    for counter in counters:
        counter.check()


def fail(counters: list[Counter]) -> None:
    for counter in counters:
        counter.fail()


def may_email(address: str) -> bool:
    """Count one requested email to ``address``; ``False`` once its hourly allowance is spent."""
    return limiter.limiter.hit(EMAILS, *_key("email", address))
