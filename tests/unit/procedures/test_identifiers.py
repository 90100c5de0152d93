"""The check letter of a DNI or NIE and the check digits of an IBAN: typing slips that
have the right shape are caught while the citizen can still correct them."""

from __future__ import annotations

import pytest

from procedures.identifiers import DNI_LETTERS, valid_dni_nie, valid_iban


@pytest.mark.parametrize(
    "value", ["12345678Z", "12.345.678-z", "00000000T", "X1234567L", "Y1234567X", "Z 1234567 R"]
)
def test_a_dni_or_nie_with_its_own_letter_is_accepted(value: str) -> None:
    assert valid_dni_nie(value)


@pytest.mark.parametrize("value", ["12345678A", "X1234567M", "1234567Z", "A1234567L", "", "ZZ"])
def test_a_wrong_letter_or_shape_is_refused(value: str) -> None:
    assert not valid_dni_nie(value)


def test_every_number_has_exactly_one_letter() -> None:
    for number in (0, 1, 22, 23, 99999999):
        letters = [L for L in DNI_LETTERS if valid_dni_nie(f"{number:08d}{L}")]
        assert letters == [DNI_LETTERS[number % 23]]


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("ES91 2100 0418 4502 0005 1332", True),
        ("es9121000418450200051332", True),
        ("GB82 WEST 1234 5698 7654 32", True),
        ("ES92 2100 0418 4502 0005 1332", False),
        ("ES91 2100 0418 4502 0005 1333", False),
        ("ES91", False),
    ],
)
def test_an_iban_is_checked_by_its_digits(value: str, valid: bool) -> None:
    assert valid_iban(value) is valid
