"""Signing in: password then second factor, the limits on guessing, recovery codes, sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from identity import totp
from identity.models import AccountSession, SecurityEvent
from portal.extensions import db
from tests.support import mailbox
from tests.support.citizen import Citizen

pytestmark = pytest.mark.database


@pytest.fixture
def registered(citizen: Citizen) -> Citizen:
    citizen.register()
    citizen.sign_out()
    return citizen


def _events(citizen: Citizen) -> list[str]:
    account = citizen.account()
    with citizen.app.app_context():
        return list(
            db.session.scalars(
                select(SecurityEvent.kind)
                .where(SecurityEvent.account_id == account.id)
                .order_by(SecurityEvent.id)
            )
        )


def test_a_citizen_signs_in_with_password_and_app_code(registered: Citizen) -> None:
    page = registered.page("/sign-in")
    assert page.find(".//input[@name='email']").get("autocomplete") == "username webauthn"
    assert page.find(".//input[@name='password']").get("autocomplete") == "current-password"
    response = registered.sign_in_password()
    assert response.headers["Location"].endswith("/en/account/sign-in/code")
    page = registered.page("/sign-in/code")
    assert page.find(".//input[@name='code']").get("autocomplete") == "one-time-code"
    response = registered.post("/sign-in/code", {"code": registered.next_code()})
    assert response.headers["Location"].endswith("/en/account/")
    assert "Your account" in registered.text("/")
    assert _events(registered)[-1] == "signed_in"


def test_the_session_id_is_new_after_signing_in(registered: Citizen) -> None:
    registered.page("/sign-in")
    before = registered.client.get_cookie("__Host-session")
    registered.sign_in()
    after = registered.client.get_cookie("__Host-session")
    assert before is not None and after is not None and before.value != after.value
    with registered.app.app_context():
        row = db.session.scalar(select(AccountSession).order_by(AccountSession.id.desc()))
        assert row.aal == 2 and row.amr == ["mfa", "otp", "pwd"]
    # The cookie from before signing in does not open the account.
    other = registered.app.test_client()
    other.set_cookie("__Host-session", before.value, domain="localhost", secure=True)
    assert other.get("/en/account/").status_code == 302


def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(registered: Citizen) -> None:
    wrong = registered.sign_in_password("not the right password at all")
    unknown = Citizen(registered.app, registered.app.test_client(), "nobody@example.es")
    nobody = unknown.sign_in_password()
    for response in (wrong, nobody):
        assert response.status_code == 200
        assert "Enter the correct email address and password" in response.get_data(as_text=True)
    assert _events(registered)[-1] == "sign_in_failed"


def test_five_wrong_passwords_a_minute_lock_the_form_and_say_how_long(registered: Citizen) -> None:
    for _ in range(5):
        assert registered.sign_in_password("wrong wrong wrong wrong").status_code == 200
    response = registered.sign_in_password()  # even the right one, now
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "Too many wrong attempts. Wait" in html and "second" in html
    # Another address from the same IP is not locked by these.
    other = Citizen(registered.app, registered.client, "other@example.es")
    assert other.sign_in_password().status_code == 200


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("12345", "Enter the 6-digit code from your app"),
        ("", "Enter the 6-digit code from your app"),
        ("000000", "The code is not correct"),
    ],
)
def test_a_wrong_code_is_explained(registered: Citizen, code: str, message: str) -> None:
    registered.sign_in_password()
    response = registered.post("/sign-in/code", {"code": code})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_a_code_cannot_be_used_twice(registered: Citizen) -> None:
    registered.sign_in()
    code = totp.current_code(registered.totp_secret)
    registered.sign_out()
    registered.sign_in_password()
    response = registered.post("/sign-in/code", {"code": code})
    assert "That code has already been used" in response.get_data(as_text=True)


def test_a_phone_with_a_wrong_clock_is_told_so(registered: Citizen) -> None:
    import time

    registered.sign_in_password()
    registered.forget_used_codes()
    late = totp.current_code(registered.totp_secret, time.time() - 300)
    response = registered.post("/sign-in/code", {"code": late})
    assert "clock seems to be 5 minutes out" in response.get_data(as_text=True)


def test_arabic_digits_are_accepted(registered: Citizen) -> None:
    registered.sign_in_password()
    code = registered.next_code().translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    response = registered.post("/sign-in/code", {"code": code})
    assert response.headers["Location"].endswith("/en/account/")


def test_ten_wrong_codes_lock_the_second_step_for_ten_minutes(registered: Citizen) -> None:
    registered.sign_in_password()
    for _ in range(10):
        registered.post("/sign-in/code", {"code": "000000"})
    response = registered.post("/sign-in/code", {"code": registered.next_code()})
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "Too many wrong attempts" in html and "minutes" in html
    # Recovery codes share the same limit: no way around it.
    response = registered.post("/sign-in/recovery-code", {"code": registered.recovery_codes[0]})
    assert response.status_code == 429


def test_a_recovery_code_works_once_and_its_use_is_emailed(registered: Citizen) -> None:
    registered.sign_in_password()
    registered.page("/sign-in/recovery-code")
    code = registered.recovery_codes[0]
    response = registered.post("/sign-in/recovery-code", {"code": code.lower().replace("-", " ")})
    assert response.headers["Location"].endswith("/en/account/")
    assert "You have 9 left" in registered.text("/")
    email = mailbox.last(registered.app, registered.email)
    assert email["Subject"] == "A recovery code was used"
    assert "/not-me/" in mailbox.text_of(email)
    registered.sign_out()
    registered.sign_in_password()
    response = registered.post("/sign-in/recovery-code", {"code": code})
    assert "not correct, or it has already been used" in response.get_data(as_text=True)
    with registered.app.app_context():
        row = db.session.scalar(select(AccountSession).order_by(AccountSession.id.desc()))
        assert row.amr == ["mfa", "otp", "pwd"]


def test_the_second_step_expires_after_ten_minutes(registered: Citizen) -> None:
    registered.sign_in_password()
    with registered.client.session_transaction() as session:
        session["pending"] = {**session["pending"], "t": session["pending"]["t"] - 601}
    code = registered.next_code()
    response = registered.post("/sign-in/code", {"code": code}, form_path="/sign-in")
    assert response.headers["Location"].endswith("/en/account/sign-in")


def test_the_second_step_cannot_be_reached_without_the_password(citizen: Citizen) -> None:
    response = citizen.client.get("/en/account/sign-in/code")
    assert response.headers["Location"].endswith("/en/account/sign-in")


def test_sign_in_returns_to_the_page_asked_for_but_never_to_another_site(
    registered: Citizen,
) -> None:
    response = registered.client.get("/en/account/history")
    assert response.status_code == 302
    assert "/en/account/sign-in?next=" in response.headers["Location"]
    for target, expected in [
        ("/en/account/history", "/en/account/history"),
        ("//evil.example/", "/en/account/"),
        ("https://evil.example/", "/en/account/"),
        ("/\\evil.example", "/en/account/"),
    ]:
        response = registered.post(
            f"/sign-in?next={target}",
            {"email": registered.email, "password": registered.password},
            form_path="/sign-in",
        )
        response = registered.post("/sign-in/code", {"code": registered.next_code()})
        assert response.headers["Location"] == expected, target
        registered.sign_out()


def test_an_idle_session_ends_after_thirty_minutes(registered: Citizen) -> None:
    registered.sign_in()
    _age_sessions(registered, timedelta(minutes=31))
    response = registered.client.get("/en/account/")
    assert response.status_code == 302
    assert "inactive for 30 minutes" in registered.text("/sign-in?reason=inactive")


def test_the_page_carries_the_idle_warning_and_stay_signed_in_works(registered: Citizen) -> None:
    registered.sign_in()
    page = registered.page("/")
    dialog = page.find(".//dialog[@id='session-timeout']")
    assert dialog is not None and 1700 < int(dialog.get("data-seconds-left")) <= 1800
    _age_sessions(registered, timedelta(minutes=29))
    response = registered.post("/session/extend", {}, form_path="/")
    assert response.status_code == 302
    token = response  # the plain form (no JavaScript) returns to the account page
    assert token.headers["Location"].endswith("/en/account/")
    response = registered.client.post(
        "/en/account/session/extend",
        data={"csrf_token": _token(registered)},
        headers={"Accept": "application/json", "Referer": "https://localhost/en/account/"},
    )
    assert response.json["seconds_left"] > 1790


def _age_sessions(citizen: Citizen, by: timedelta) -> None:
    with citizen.app.app_context():
        for row in db.session.scalars(select(AccountSession)):
            row.last_seen_at -= by
            row.created_at -= by
        db.session.commit()


def _token(citizen: Citizen) -> str:
    from tests.support.forms import csrf_token

    return csrf_token(citizen.client, "/en/account/")


def test_signing_out_ends_the_session(registered: Citizen) -> None:
    registered.sign_in()
    response = registered.sign_out()
    assert response.headers["Location"].endswith("/en/")
    assert registered.client.get("/en/account/").status_code == 302
    assert _events(registered)[-1] == "signed_out"


def test_a_disabled_account_cannot_sign_in(registered: Citizen) -> None:
    from identity.models import Account, utcnow

    with registered.app.app_context():
        db.session.execute(update(Account).values(disabled_at=utcnow()))
        db.session.commit()
    response = registered.sign_in_password()
    assert "Enter the correct email address and password" in response.get_data(as_text=True)


def test_passkey_sign_in_without_javascript_says_what_to_do(citizen: Citizen) -> None:
    page = citizen.page("/sign-in")
    unsupported = page.find(".//div[@data-webauthn-unsupported]")
    assert "need JavaScript" in "".join(unsupported.itertext())
    response = citizen.post("/sign-in/passkey", {"passkey-credential": ""}, form_path="/sign-in")
    assert response.status_code == 400
    assert "need JavaScript" in response.get_data(as_text=True)


def test_a_forged_passkey_answer_is_refused(citizen: Citizen) -> None:
    response = citizen.post(
        "/sign-in/passkey", {"passkey-credential": '{"id": "x"}'}, form_path="/sign-in"
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'class="error-summary"' in html


def test_webauthn_options_for_a_usernameless_passkey_sign_in(citizen: Citizen) -> None:
    from tests.support.forms import csrf_token

    token = csrf_token(citizen.client, "/en/account/sign-in")
    response = citizen.client.post(
        "/en/account/webauthn/options/passkey",
        headers={"X-CSRFToken": token, "Referer": "https://localhost/en/account/sign-in"},
    )
    assert response.status_code == 200
    options = response.json
    assert options["userVerification"] == "required"
    assert options["allowCredentials"] == []
    assert options["rpId"] == "localhost"
    # Without the CSRF token: refused.
    response = citizen.client.post("/en/account/webauthn/options/passkey")
    assert response.status_code == 400
    # Second-factor options need a password step first.
    response = citizen.client.post(
        "/en/account/webauthn/options/second-factor",
        headers={"X-CSRFToken": token, "Referer": "https://localhost/en/account/sign-in"},
    )
    assert response.status_code == 403
