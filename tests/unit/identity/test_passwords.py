"""Passwords: NIST 800-63B choosing rules and argon2id hashing with rehash on profile change."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from identity.passwords import (
    HASHER,
    MAX_LENGTH,
    PasswordRejectedError,
    check_password_rules,
    hash_password,
    verify_password,
)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short pass", "too_short"),
        ("x" * (MAX_LENGTH + 1), "too_long"),
        ("password1234", "common"),
        ("1234567890123", "guessable"),
        ("aaaaaaaaaaaaaaaa", "guessable"),
        ("qwertyuiopasdf", "guessable"),
        ("PortalCiudadano1", "guessable"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password, reason) -> None:
    with pytest.raises(PasswordRejectedError) as refused:
        check_password_rules(password)
    assert refused.value.reason == reason


def test_a_password_built_on_the_email_address_is_refused() -> None:
    with pytest.raises(PasswordRejectedError):
        check_password_rules("lucia.garcia.martin", context=("lucia.garcia.martin@example.es",))


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",  # spaces allowed, no composition rules
        "mi gato come pimientos verdes",
        "كلمة مرور طويلة وسهلة التذكر",  # any script
        "🐢🐇 carrera lenta gana 🏁",  # emoji
        "x7#Lq9!vT2@m",  # exactly 12
        "z" * 3 + "Ñandú volador en Bilbao " * 10,  # long is fine
    ],
)
def test_long_uncommon_passwords_in_any_script_are_accepted(password) -> None:
    check_password_rules(password)


def test_hashes_are_argon2id_at_the_owasp_profile() -> None:
    stored = hash_password("correct horse battery staple")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password(stored, "correct horse battery staple").ok
    assert not verify_password(stored, "correct horse battery stapler").ok


def test_the_same_password_typed_in_another_unicode_form_matches() -> None:
    stored = hash_password("cafe\u0301 con leche y churros")  # e + combining accent
    assert verify_password(stored, "café con leche y churros").ok  # precomposed é


def test_a_hash_from_an_older_profile_is_replaced_at_sign_in() -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(
        "correct horse battery staple"
    )
    result = verify_password(old, "correct horse battery staple")
    assert result.ok and result.new_hash is not None
    assert not HASHER.check_needs_rehash(result.new_hash)
    assert verify_password(result.new_hash, "correct horse battery staple").new_hash is None


def test_a_broken_stored_hash_is_a_failed_check_not_a_crash() -> None:
    assert not verify_password("not a hash", "anything at all").ok


def test_the_longest_allowed_password_is_checked_and_hashed() -> None:
    longest = ("Ñandú volador en Bilbao " * 11)[:MAX_LENGTH]
    check_password_rules(longest)
    assert verify_password(hash_password(longest), longest).ok
