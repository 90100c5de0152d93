"""Secrets at rest: encrypted with the newest key, readable with any, rotatable."""

from __future__ import annotations

import pytest

from identity import encryption
from tests.conftest import make_test_app


def _app(tmp_path, keys):
    return make_test_app("sqlite://", tmp_path, ENCRYPTION_KEYS=keys)


def test_a_secret_round_trips_and_is_not_stored_in_clear(tmp_path) -> None:
    with _app(tmp_path, [encryption.new_key()]).app_context():
        token = encryption.encrypt("JBSWY3DPEHPK3PXP")
        assert "JBSWY3DPEHPK3PXP" not in token
        assert encryption.decrypt(token) == "JBSWY3DPEHPK3PXP"


def test_rotation_re_encrypts_with_the_new_key_and_the_old_key_can_go(tmp_path) -> None:
    old, new = encryption.new_key(), encryption.new_key()
    with _app(tmp_path / "a", [old]).app_context():
        token = encryption.encrypt("12345678Z")
    with _app(tmp_path / "b", [new, old]).app_context():
        assert encryption.decrypt(token) == "12345678Z"
        rotated = encryption.rotate(token)
    with _app(tmp_path / "c", [new]).app_context():
        assert encryption.decrypt(rotated) == "12345678Z"
        with pytest.raises(encryption.UndecryptableError):
            encryption.decrypt(token)


def test_an_altered_value_is_refused(tmp_path) -> None:
    with _app(tmp_path, [encryption.new_key()]).app_context():
        token = encryption.encrypt("secret")
        with pytest.raises(encryption.UndecryptableError):
            encryption.decrypt(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))


def test_the_embedded_mode_makes_its_key_once(tmp_path) -> None:
    from portal.config import load_encryption_keys

    first = load_encryption_keys(tmp_path, None)
    assert load_encryption_keys(tmp_path, None) == first and len(first) == 1
    assert load_encryption_keys(tmp_path, "k2, k1") == ["k2", "k1"]
