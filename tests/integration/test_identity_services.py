"""Identity services on a real database: accounts, single-use links, throttling, sessions."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from identity import accounts, sessions, throttle, tokens
from identity.models import AccountSession, SecurityEvent, utcnow
from identity.passwords import PasswordRejectedError
from portal.extensions import db

pytestmark = pytest.mark.database

PASSWORD = "mi gato come pimientos verdes"


def _kinds(account) -> list[str]:
    return list(
        db.session.scalars(
            select(SecurityEvent.kind)
            .where(SecurityEvent.account_id == account.id)
            .order_by(SecurityEvent.id)
        )
    )


def test_an_account_is_created_unverified_with_a_hashed_password(db_app) -> None:
    account = accounts.create_account("  Lucia.Garcia@Example.ES ", PASSWORD, "gl")
    db.session.commit()
    assert account.email == "lucia.garcia@example.es"
    assert account.password_hash.startswith("$argon2id$")
    assert account.email_verified_at is None and not account.is_active
    assert len(account.webauthn_user_handle) == 32
    assert _kinds(account) == ["account_created"]


def test_a_second_registration_for_a_known_address_creates_nothing(db_app) -> None:
    accounts.create_account("ana@example.es", PASSWORD, "es")
    assert accounts.create_account("ANA@example.es", "otra frase larga y rara 42", "es") is None


def test_password_rules_apply_before_telling_anything_about_the_address(db_app) -> None:
    accounts.create_account("ana@example.es", PASSWORD, "es")
    for email in ("ana@example.es", "nobody@example.es"):
        with pytest.raises(PasswordRejectedError):
            accounts.create_account(email, "password1234", "es")


def test_a_verification_link_works_once(db_app) -> None:
    account = accounts.create_account("ana@example.es", PASSWORD, "es")
    link = tokens.make(account, "verify_email")
    assert tokens.read(link, "verify_email") is account
    accounts.mark_email_verified(account)
    with pytest.raises(tokens.TokenInvalidError):
        tokens.read(link, "verify_email")


def test_a_link_for_one_purpose_does_not_work_for_another(db_app) -> None:
    account = accounts.create_account("ana@example.es", PASSWORD, "es")
    with pytest.raises(tokens.TokenInvalidError):
        tokens.read(tokens.make(account, "verify_email"), "reset_password")


def test_an_expired_or_altered_link_is_refused(db_app) -> None:
    account = accounts.create_account("ana@example.es", PASSWORD, "es")
    link = tokens.make(account, "reset_password")
    with pytest.raises(tokens.TokenInvalidError):
        tokens.read(link[:-2] + "xx", "reset_password")
    two_hours_later = time.time() + 2 * 3600
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "time", lambda: two_hours_later)
        with pytest.raises(tokens.TokenExpiredError):
            tokens.read(link, "reset_password")


def test_a_reset_link_dies_when_the_password_changes(db_app) -> None:
    account = accounts.create_account("ana@example.es", PASSWORD, "es")
    link = tokens.make(account, "reset_password")
    account.password_hash = "$argon2id$changed"
    with pytest.raises(tokens.TokenInvalidError):
        tokens.read(link, "reset_password")


def test_the_right_password_opens_the_account(db_app) -> None:
    created = accounts.create_account("ana@example.es", PASSWORD, "es")
    assert accounts.check_password("Ana@Example.es", PASSWORD, "192.0.2.1") is created


def test_a_wrong_password_and_an_unknown_address_fail_alike(db_app) -> None:
    accounts.create_account("ana@example.es", PASSWORD, "es")
    for email in ("ana@example.es", "nobody@example.es"):
        with pytest.raises(accounts.InvalidCredentialsError):
            accounts.check_password(email, "not the password at all", "192.0.2.1")


def test_five_wrong_passwords_a_minute_then_a_wait(db_app) -> None:
    accounts.create_account("ana@example.es", PASSWORD, "es")
    for _ in range(5):
        with pytest.raises(accounts.InvalidCredentialsError):
            accounts.check_password("ana@example.es", "wrong guess number", "192.0.2.7")
    with pytest.raises(throttle.TooManyAttemptsError) as waiting:
        accounts.check_password("ana@example.es", PASSWORD, "192.0.2.7")
    assert 0 < waiting.value.retry_after <= 60
    # Another address's attempts from the same place are not blocked.
    with pytest.raises(accounts.InvalidCredentialsError):
        accounts.check_password("other@example.es", "wrong guess number", "192.0.2.7")


def test_a_session_survives_activity_and_ends_when_idle_or_too_old(db_app) -> None:
    account = accounts.create_account("ana@example.es", PASSWORD, "es")
    now = utcnow()
    cookie, row = sessions.start(account, aal=2, amr=["pwd", "otp", "mfa"], now=now)
    assert row.token_hash != cookie and cookie not in row.token_hash
    assert sessions.load(cookie, now + timedelta(minutes=29)) is row
    assert sessions.load(cookie, now + timedelta(minutes=29 + 29)) is row  # touched at 29
    assert sessions.load(cookie, now + timedelta(minutes=58 + 31)) is None  # idle
    cookie2, _ = sessions.start(account, aal=2, amr=["pwd", "otp"], now=now)
    moment = now
    for _ in range(25):  # active every 29 minutes for 12 hours
        moment += timedelta(minutes=29)
        if moment - now >= sessions.ABSOLUTE_LIFETIME:
            assert sessions.load(cookie2, moment) is None
            break
        assert sessions.load(cookie2, moment) is not None
    else:
        pytest.fail("the absolute lifetime never ended the session")


def test_the_countdown_a_page_shows_never_ends_before_the_session(db_app) -> None:
    account = accounts.create_account("ana@example.es", PASSWORD, "es")
    now = utcnow()
    cookie, row = sessions.start(account, aal=2, amr=["pwd", "otp", "mfa"], now=now)
    moment = now + timedelta(minutes=29, seconds=59, milliseconds=500)
    assert sessions.seconds_left(row, moment) == 1  # half a second rounds up, not down to 0
    assert sessions.seconds_left(row, now + timedelta(minutes=31)) == 0
    assert sessions.load(cookie, moment) is row  # still live while the page shows 1


def test_signing_out_everywhere_else_keeps_this_session(db_app) -> None:
    account = accounts.create_account("ana@example.es", PASSWORD, "es")
    here, this = sessions.start(account, aal=2, amr=["pwd", "otp"])
    others = [sessions.start(account, aal=2, amr=["pwd", "otp"])[0] for _ in range(2)]
    assert sessions.revoke_all(account, keep=this) == 2
    assert sessions.load(here) is this
    assert all(sessions.load(cookie) is None for cookie in others)
    assert sessions.live_sessions(account) == [this]
    assert db.session.scalar(select(AccountSession.aal).where(AccountSession.id == this.id)) == 2


def test_unknown_cookie_values_load_nothing(db_app) -> None:
    assert sessions.load(None) is None
    assert sessions.load("") is None
    assert sessions.load("made-up") is None


def test_operators_create_list_and_disable_accounts_from_the_cli(db_app) -> None:
    runner = db_app.test_cli_runner()
    created = runner.invoke(
        args=["users", "create", "--email", "Ana@Example.es", "--password", PASSWORD]
    )
    assert created.exit_code == 0, created.output
    again = runner.invoke(
        args=["users", "create", "--email", "ana@example.es", "--password", PASSWORD]
    )
    assert again.exit_code != 0 and "already has an account" in again.output
    weak = runner.invoke(
        args=["users", "create", "--email", "b@example.es", "--password", "password1234"]
    )
    assert weak.exit_code != 0 and "common" in weak.output
    assert (
        "ana@example.es\tverified\tactive\t0 factors"
        in runner.invoke(args=["users", "list"]).output
    )
    assert runner.invoke(args=["users", "disable", "--email", "ana@example.es"]).exit_code == 0
    assert "\tdisabled\t" in runner.invoke(args=["users", "list"]).output
    with pytest.raises(accounts.InvalidCredentialsError):
        accounts.check_password("ana@example.es", PASSWORD, "192.0.2.1")


def test_password_and_code_failures_share_one_daily_ceiling_per_account(db_app) -> None:
    """NIST 800-63B: at most 100 failures of any kind before a lock, not 100 of each."""
    for number in range(95):  # many places, so the per-IP limit never trips first
        throttle.fail(throttle.password_attempts("ana@example.es", f"198.51.100.{number}"))
    for _ in range(5):  # fewer than the 10-code limit
        throttle.fail(throttle.code_attempts("ana@example.es"))
    with pytest.raises(throttle.TooManyAttemptsError):
        throttle.check(throttle.code_attempts("ana@example.es"))
    with pytest.raises(throttle.TooManyAttemptsError):
        throttle.check(throttle.password_attempts("ana@example.es", "203.0.113.9"))


def test_deployments_sharing_one_rate_limit_storage_count_their_throttles_apart(db_app) -> None:
    """RATELIMIT_KEY_PREFIX keeps deployments on one Redis apart: the throttles too."""
    db_app.config["RATELIMIT_KEY_PREFIX"] = "staging"
    assert all(throttle.may_email("ana@example.es") for _ in range(5))
    assert not throttle.may_email("ana@example.es")
    throttle.fail(throttle.password_attempts("ana@example.es", "192.0.2.7"))

    db_app.config["RATELIMIT_KEY_PREFIX"] = "production"
    assert throttle.may_email("ana@example.es")
    for _ in range(4):
        throttle.fail(throttle.password_attempts("ana@example.es", "192.0.2.7"))
    throttle.check(throttle.password_attempts("ana@example.es", "192.0.2.7"))  # 4 of 5 here


def test_the_rate_limit_storage_holds_no_email_address(db_app) -> None:
    """The throttles' keys are keyed fingerprints: Redis's memory and dumps name no one."""
    from portal.extensions import limiter

    throttle.fail(throttle.password_attempts("ana@example.es", "192.0.2.7"))
    throttle.fail(throttle.code_attempts("ana@example.es"))
    assert throttle.may_email("ana@example.es")
    stored = " ".join(str(key) for key in limiter.limiter.storage.storage)
    assert "ana@example.es" not in stored and "192.0.2.7" not in stored
    assert stored  # the counters are there, under their fingerprints
