"""Creating an account: email, password rules, the link, the second factor and recovery codes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from identity.models import Account
from portal.extensions import db
from tests.support import mailbox
from tests.support.citizen import Citizen

pytestmark = pytest.mark.database


def test_a_new_citizen_creates_an_account_and_sets_up_an_authenticator_app(
    citizen: Citizen,
) -> None:
    citizen.page("/create")
    citizen.create_account()
    assert citizen.email in citizen.text("/create/check-email")

    email = mailbox.last(citizen.app, citizen.email)
    assert email["Subject"] == "Confirm your email address"
    assert email["Content-Language"] == "en"
    assert "24 hours" in mailbox.text_of(email)
    assert email.get_body(preferencelist=("html",)) is not None

    response = citizen.confirm_email()
    assert response.headers["Location"].endswith("/en/account/set-up")
    assert "Your email address is confirmed." in citizen.text("/set-up")
    response = citizen.post("/set-up", {"method": "authenticator-app"})
    assert response.headers["Location"].endswith("/set-up/authenticator-app")
    page = citizen.page("/set-up/authenticator-app")
    assert page.find(".//{http://www.w3.org/2000/svg}svg") is not None  # the QR code, inline
    assert any((a.get("href") or "").startswith("otpauth://totp/") for a in page.iter("a"))
    code_input = page.find(".//input[@name='code']")
    assert code_input.get("autocomplete") == "one-time-code"
    assert code_input.get("inputmode") == "numeric"

    citizen.set_up_app()
    citizen.page("/recovery-codes/new")
    download = citizen.client.get("/en/account/recovery-codes/new/recovery-codes.txt")
    assert download.mimetype == "text/plain"
    assert "attachment" in download.headers["Content-Disposition"]
    response = citizen.save_recovery_codes()
    assert set(citizen.recovery_codes) <= set(download.get_data(as_text=True).split())
    assert response.headers["Location"].endswith("/en/account/")

    text = citizen.text("/")
    assert citizen.email in text and "Phone" in text and "10 unused recovery codes" in text
    assert "Your account is ready." in text or "Sign out" in text
    # Shown once: the codes are gone from the session.
    assert citizen.client.get("/en/account/recovery-codes/new").status_code == 302


def test_the_recovery_codes_must_be_confirmed_as_saved(citizen: Citizen) -> None:
    citizen.create_account()
    citizen.confirm_email()
    citizen.set_up_app()
    response = citizen.post("/recovery-codes/new", {})
    assert response.status_code == 200
    assert "Confirm that you have saved your recovery codes" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "Create a password"),
        ("short pass", "Your password must be at least 12 characters long"),
        ("justinbieber", "This password is too common"),
        ("ana.lopez@example.es", "must not contain your email address"),
        ("qwertyuiopasdf", "This password would be easy to guess"),
        ("x" * 257, "Your password must be 256 characters or fewer"),
    ],
)
def test_a_password_that_breaks_the_rules_is_refused_with_a_reason(
    citizen: Citizen, password: str, message: str
) -> None:
    response = citizen.post("/create", {"email": citizen.email, "password": password})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html
    assert 'class="error-summary"' in html and 'href="#password"' in html
    # What was typed (but the password) is kept.
    assert 'value="ana.lopez@example.es"' in html


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter your email address"),
        ("ana at example", "Enter an email address in the correct format"),
    ],
)
def test_a_wrong_email_address_is_refused(citizen: Citizen, email: str, message: str) -> None:
    response = citizen.post("/create", {"email": email, "password": citizen.password})
    assert message in response.get_data(as_text=True)


def test_the_password_fields_help_password_managers(citizen: Citizen) -> None:
    page = citizen.page("/create")
    assert page.find(".//input[@name='email']").get("autocomplete") == "email"
    password = page.find(".//input[@name='password']")
    assert password.get("autocomplete") == "new-password"
    assert password.get("maxlength") is None  # never truncated
    assert page.find(".//div[@data-password-toggle]") is not None


def test_an_address_with_an_account_gets_the_same_answer_and_its_owner_an_email(
    citizen: Citizen,
) -> None:
    citizen.register()
    citizen.sign_out()
    other = Citizen(citizen.app, citizen.app.test_client(), citizen.email)
    response = other.post(
        "/create", {"email": citizen.email.upper(), "password": "una contraseña distinta"}
    )
    assert response.headers["Location"].endswith("/create/check-email")
    assert citizen.email in other.text("/create/check-email")
    email = mailbox.last(citizen.app, citizen.email)
    assert email["Subject"] == "You already have an account"
    assert "/en/account/sign-in" in mailbox.text_of(email)
    with citizen.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Account)) == 1


def test_the_verification_email_can_be_sent_again(citizen: Citizen) -> None:
    citizen.create_account()
    before = len(mailbox.messages(citizen.app, citizen.email))
    response = citizen.post("/create/check-email", {"email": citizen.email})
    assert response.status_code == 302
    assert "We have sent the email again" in citizen.text("/create/check-email")
    assert len(mailbox.messages(citizen.app, citizen.email)) == before + 1
    # An unknown address gets the same answer and no email.
    citizen.post("/create/check-email", {"email": "nobody@example.es"})
    assert mailbox.messages(citizen.app, "nobody@example.es") == []


def test_a_verification_link_works_once(citizen: Citizen) -> None:
    citizen.create_account()
    link = mailbox.link_in(mailbox.last(citizen.app, citizen.email), "/verify/")
    assert citizen.client.get(link).status_code == 302
    response = citizen.client.get(link)
    assert response.status_code == 400
    assert "This link does not work" in response.get_data(as_text=True)
    assert citizen.client.get("/en/account/verify/not-a-token").status_code == 400


def test_confirming_in_another_browser_asks_to_sign_in_then_set_up(citizen: Citizen) -> None:
    citizen.create_account()
    link = mailbox.link_in(mailbox.last(citizen.app, citizen.email), "/verify/")
    phone = Citizen(citizen.app, citizen.app.test_client(), citizen.email)
    response = phone.client.get(link)
    assert response.headers["Location"].endswith("/en/account/sign-in")
    response = phone.sign_in_password()
    assert response.headers["Location"].endswith("/en/account/set-up")


def test_signing_in_before_confirming_sends_the_link_again(citizen: Citizen) -> None:
    citizen.create_account()
    response = citizen.sign_in_password()
    assert response.headers["Location"].endswith("/create/check-email")
    assert len(mailbox.messages(citizen.app, citizen.email)) == 2


def test_set_up_pages_need_a_confirmed_account(citizen: Citizen) -> None:
    response = citizen.client.get("/en/account/set-up")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_a_wrong_code_during_set_up_is_explained_and_the_secret_kept(citizen: Citizen) -> None:
    citizen.create_account()
    citizen.confirm_email()
    first = citizen.page("/set-up/authenticator-app").find(".//p[@class='secret']/code").text
    response = citizen.post("/set-up/authenticator-app", {"code": "12345", "name": "Phone"})
    assert "Enter the 6-digit code from your app" in response.get_data(as_text=True)
    again = citizen.page("/set-up/authenticator-app").find(".//p[@class='secret']/code").text
    assert first == again
