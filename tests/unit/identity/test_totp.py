"""TOTP: the ±1 step window, no replay, and clock skew told apart from a wrong code."""

from __future__ import annotations

import pytest

from identity import totp

NOW = 1_795_000_000.0  # a fixed instant, so the steps are known


@pytest.fixture
def secret() -> str:
    return totp.new_secret()


def test_a_new_secret_has_160_bits_and_reads_in_groups_of_four(secret) -> None:
    assert len(secret) == 32  # base32: 5 bits a character
    assert totp.grouped(secret).split(" ") == [secret[i : i + 4] for i in range(0, 32, 4)]


def test_the_current_code_is_accepted_and_returns_its_step(secret) -> None:
    accepted = totp.verify(secret, totp.current_code(secret, NOW), last_step=None, at=NOW)
    assert accepted.step == int(NOW // 30)


@pytest.mark.parametrize("offset_steps", [-1, 1])
def test_one_step_either_side_is_accepted(secret, offset_steps) -> None:
    code = totp.current_code(secret, NOW + offset_steps * 30)
    assert totp.verify(secret, code, last_step=None, at=NOW).step == int(NOW // 30) + offset_steps


def test_spaces_typed_in_a_code_do_not_matter(secret) -> None:
    code = totp.current_code(secret, NOW)
    totp.verify(secret, f" {code[:3]} {code[3:]} ", last_step=None, at=NOW)


def test_a_code_cannot_be_used_twice(secret) -> None:
    code = totp.current_code(secret, NOW)
    accepted = totp.verify(secret, code, last_step=None, at=NOW)
    with pytest.raises(totp.ReusedCodeError):
        totp.verify(secret, code, last_step=accepted.step, at=NOW + 5)


def test_an_older_code_after_a_newer_one_is_refused(secret) -> None:
    newer = totp.verify(secret, totp.current_code(secret, NOW + 30), last_step=None, at=NOW)
    with pytest.raises(totp.ReusedCodeError):
        totp.verify(secret, totp.current_code(secret, NOW), last_step=newer.step, at=NOW)


@pytest.mark.parametrize("skew", [-300, 180])
def test_a_code_from_a_clock_minutes_off_is_refused_and_the_skew_reported(secret, skew) -> None:
    with pytest.raises(totp.ClockSkewError) as refused:
        totp.verify(secret, totp.current_code(secret, NOW + skew), last_step=None, at=NOW)
    assert refused.value.seconds == skew


def test_a_wrong_code_is_refused(secret) -> None:
    right = totp.current_code(secret, NOW)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    with pytest.raises(totp.InvalidCodeError):
        totp.verify(secret, wrong, last_step=None, at=NOW)


def test_digits_of_other_scripts_are_read_as_digits(secret) -> None:
    code = totp.current_code(secret, NOW)
    arabic_indic = "".join(chr(0x0660 + int(digit)) for digit in code)
    fullwidth = "".join(chr(0xFF10 + int(digit)) for digit in code)
    totp.verify(secret, arabic_indic, last_step=None, at=NOW)
    totp.verify(secret, fullwidth, last_step=None, at=NOW)


@pytest.mark.parametrize("code", ["", "12345", "1234567", "12a456", "12-456"])
def test_malformed_codes_are_refused_as_such(secret, code) -> None:
    with pytest.raises(totp.MalformedCodeError):
        totp.verify(secret, code, last_step=None, at=NOW)


def test_provisioning_uri_and_qr_code(secret) -> None:
    uri = totp.provisioning_uri(secret, "lucia@example.es")
    assert uri.startswith("otpauth://totp/Portal%20Ciudadano:lucia%40example.es?")
    assert f"secret={secret}" in uri and "issuer=Portal%20Ciudadano" in uri
    svg = totp.qr_svg(uri, title="QR code for your authenticator app")
    assert svg.startswith("<svg") and "<title>QR code for your authenticator app</title>" in svg
    assert "style=" not in svg, "the CSP forbids inline styles"
