"""Recovery codes: ten single-use codes shown once, stored hashed.

Each code is 16 characters from a 30-letter alphabet without look-alikes
(no 0/O, 1/I/L, U/V confusion), so about 78 bits of randomness: far beyond
guessing, which is why a fast hash (SHA-256) is enough here, where a password
needs argon2id. It also lets a sign-in check all ten codes without ten slow
hashes. Codes are read back forgivingly: case, spaces and hyphens do not matter.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

COUNT = 10
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # 30 letters: no 0 O 1 I L U
GROUPS = 4
GROUP_LENGTH = 4
_ALPHABET_SET = frozenset(ALPHABET)


class MalformedRecoveryCodeError(ValueError):
    """Not something a recovery code can be, after normalising."""


def generate() -> list[str]:
    """Ten new codes, formatted for reading (``ABCD-EFGH-JKMN-PQRS``)."""
    length = GROUPS * GROUP_LENGTH
    return [_format("".join(secrets.choice(ALPHABET) for _ in range(length))) for _ in range(COUNT)]


def _format(raw: str) -> str:
    return "-".join(raw[i : i + GROUP_LENGTH] for i in range(0, len(raw), GROUP_LENGTH))


def normalise(code: str) -> str:
    raw = "".join(code.upper().split()).replace("-", "")
    if len(raw) != GROUPS * GROUP_LENGTH or not set(raw) <= _ALPHABET_SET:
        raise MalformedRecoveryCodeError(code)
    return raw


def hash_code(code: str) -> str:
    return hashlib.sha256(normalise(code).encode()).hexdigest()


def find(code: str, unused_hashes: dict[int, str]) -> int | None:
    """The id of the unused code that ``code`` is, comparing against every one in constant time."""
    candidate = hash_code(code)
    found = None
    for code_id, stored in unused_hashes.items():
        if hmac.compare_digest(candidate, stored):
            found = code_id
    return found
