"""Check digits of the identifiers Spanish forms ask for, beyond their shape.

A pattern says "eight digits and a letter"; the check letter says whether those are a DNI
at all. Asking for it catches the commonest typing mistakes (a swapped or missed digit)
while the citizen can still correct them, instead of at the counter weeks later. The
rules are public: the DNI's letter (Real Decreto 1553/2005, art. 11) and the NIE's, whose
X, Y and Z stand for 0, 1 and 2; the IBAN's ISO 13616 mod-97 check.
"""

from __future__ import annotations

import re
from collections.abc import Callable

DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_DNI = re.compile(r"^([0-9XYZ])([0-9]{7})([A-Z])$")


def _compact(value: str) -> str:
    return re.sub(r"[\s.-]", "", value).upper()


def valid_dni_nie(value: str) -> bool:
    """A DNI (12345678Z) or NIE (X1234567L) whose letter matches its number."""
    found = _DNI.match(_compact(value))
    if not found:
        return False
    first, rest, letter = found.groups()
    number = int(str("XYZ".index(first)) + rest if first in "XYZ" else first + rest)
    return DNI_LETTERS[number % 23] == letter


def valid_iban(value: str) -> bool:
    """An IBAN whose two check digits hold (ISO 13616): ES91 2100 0418 4502 0005 1332."""
    compact = _compact(value)
    if not re.match(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$", compact):
        return False
    rearranged = compact[4:] + compact[:4]
    digits = "".join(str(int(char, 36)) for char in rearranged)
    return int(digits) % 97 == 1


#: What a field's ``check`` may name (procedures/definitions/README.md).
CHECKS: dict[str, Callable[[str], bool]] = {"dni_nie": valid_dni_nie, "iban": valid_iban}
