"""Passwords: argon2id hashing and the NIST SP 800-63B rules for choosing one.

Hashing profile: argon2id with m = 19 MiB, t = 2, p = 1. It is the minimum
that OWASP's Password Storage Cheat Sheet recommends and the profile ASVS 5.0
(V11.4.2) accepts, and it costs about 25 ms on one core here. argon2-cffi's own
default (64 MiB, t = 3, p = 4) costs about 120 ms and would cap sign-ins at
about ten a second on two cores, for no protection a 12-character minimum
does not already give. When the profile changes, ``verify_password`` says the
stored hash needs rehashing and the sign-in stores the new one.

Choosing rules (800-63B §3.1.1.2): at least 12 characters, up to 256 (more than
the 64 the standard asks to allow; the cap only bounds the work per request),
any characters including spaces and emoji, no composition rules, and a check
against common and breached passwords and context words (the email address,
the service name). The list and the estimator come from zxcvbn, which ships
its 30,000 most common passwords inside the package, so the check runs
offline and the password never leaves the server.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12
MAX_LENGTH = 256
#: zxcvbn refuses more than 72 characters (its estimate grows quadratically);
#: a password whose first 72 characters are strong is strong.
ESTIMATE_PREFIX = 72
#: zxcvbn scores 0-4; 3 means "safely unguessable: moderate protection from offline attacks".
MIN_SCORE = 3
SERVICE_WORDS = ("portal", "ciudadano", "portalciudadano", "ciudadania", "administracion")

HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)
_COMMON = frozenset(FREQUENCY_LISTS["passwords"])


class PasswordRejectedError(ValueError):
    """A password that the rules refuse; ``reason`` says which rule, for a translated message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Verification:
    ok: bool
    #: A new hash to store when the stored one used an older profile.
    new_hash: str | None = None


def normalise(password: str) -> str:
    """NFKC, as 800-63B §5.1.1.2 advises, so the same password typed on two keyboards matches."""
    return unicodedata.normalize("NFKC", password)


def check_password_rules(password: str, context: tuple[str, ...] = ()) -> None:
    """Raise ``PasswordRejectedError`` unless the password may be chosen.

    ``context`` holds words the password must not be built on: the email
    address and its parts, the citizen's name.
    """
    password = normalise(password)
    if len(password) < MIN_LENGTH:
        raise PasswordRejectedError("too_short")
    if len(password) > MAX_LENGTH:
        raise PasswordRejectedError("too_long")
    lowered = password.lower()
    if lowered in _COMMON:
        raise PasswordRejectedError("common")
    words = [word.lower() for item in context for word in _context_words(item)]
    if any(len(word) >= 4 and lowered == word for word in words):
        raise PasswordRejectedError("context")
    result = zxcvbn(password[:ESTIMATE_PREFIX], user_inputs=[*words, *SERVICE_WORDS])
    if result["score"] < MIN_SCORE:
        raise PasswordRejectedError("guessable")


def _context_words(value: str) -> list[str]:
    value = value.strip()
    local, _, domain = value.partition("@")
    return [value, local, *local.replace(".", " ").replace("_", " ").split(), domain]


def hash_password(password: str) -> str:
    return HASHER.hash(normalise(password))


def verify_password(stored_hash: str, password: str) -> Verification:
    """Check a password against its stored hash; never raises for a wrong or broken hash."""
    candidate = normalise(password)
    try:
        HASHER.verify(stored_hash, candidate)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return Verification(ok=False)
    if HASHER.check_needs_rehash(stored_hash):
        return Verification(ok=True, new_hash=HASHER.hash(candidate))
    return Verification(ok=True)


#: A hash of nothing anyone can type, verified when an email is unknown so that a
#: sign-in for an unknown account takes as long as one for a known account.
DUMMY_HASH = HASHER.hash("\x00 no account has this password \x00")


def spend_equal_time(password: str) -> None:
    verify_password(DUMMY_HASH, password)
