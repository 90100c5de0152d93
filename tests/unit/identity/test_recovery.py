"""Recovery codes: ten distinct, readable, hashed, found forgivingly, each usable once."""

from __future__ import annotations

import re

import pytest

from identity import recovery


def test_ten_distinct_codes_without_look_alike_characters() -> None:
    codes = recovery.generate()
    assert len(codes) == 10 == len(set(codes))
    for code in codes:
        assert re.fullmatch(r"[2-9A-HJKMNP-TV-Z]{4}(-[2-9A-HJKMNP-TV-Z]{4}){3}", code)


def test_a_code_is_found_however_it_is_typed() -> None:
    codes = recovery.generate()
    stored = {index: recovery.hash_code(code) for index, code in enumerate(codes)}
    typed = codes[3].lower().replace("-", " ")
    assert recovery.find(typed, stored) == 3


def test_a_used_code_is_gone_from_the_unused_set() -> None:
    codes = recovery.generate()
    stored = {index: recovery.hash_code(code) for index, code in enumerate(codes)}
    used = recovery.find(codes[0], stored)
    del stored[used]
    assert recovery.find(codes[0], stored) is None


def test_hashes_do_not_contain_the_code() -> None:
    code = recovery.generate()[0]
    assert code.replace("-", "") not in recovery.hash_code(code)


@pytest.mark.parametrize("typed", ["", "ABCD-EFGH", "OOOO-OOOO-OOOO-OOOO", "ABCD-EFGH-JKMN-PQR!"])
def test_malformed_codes_are_refused_before_any_lookup(typed) -> None:
    with pytest.raises(recovery.MalformedRecoveryCodeError):
        recovery.find(typed, {})
