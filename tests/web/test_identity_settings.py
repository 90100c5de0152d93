"""The signed-in citizen's account: re-authentication, password, email, methods, sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from identity.models import Account, AccountSession, SecurityEvent
from portal.extensions import db
from tests.support import mailbox
from tests.support.citizen import Citizen

pytestmark = pytest.mark.database

NEW_PASSWORD = "cuatro gatos pardos bailan jotas"


@pytest.fixture
def signed_in(citizen: Citizen) -> Citizen:
    return citizen.register()


def _age_authentication(citizen: Citizen, minutes: int = 16) -> None:
    with citizen.app.app_context():
        for row in db.session.scalars(select(AccountSession)):
            row.authenticated_at -= timedelta(minutes=minutes)
        db.session.commit()


def _reauthenticate(citizen: Citizen, target: str) -> None:
    response = citizen.client.get(f"/en/account{target}")
    assert response.status_code == 302
    assert "/en/account/reauthenticate?next=" in response.headers["Location"]
    page = response.headers["Location"].split("/en/account", 1)[1]
    response = citizen.post(page, {"password": citizen.password})
    assert response.headers["Location"].endswith("/en/account/sign-in/code")
    response = citizen.post("/sign-in/code", {"code": citizen.next_code()})
    assert response.headers["Location"] == f"/en/account{target}"


def _kinds(citizen: Citizen) -> list[str]:
    with citizen.app.app_context():
        account = db.session.scalar(select(Account).where(Account.email == citizen.email))
        return list(
            db.session.scalars(
                select(SecurityEvent.kind)
                .where(SecurityEvent.account_id == account.id)
                .order_by(SecurityEvent.id)
            )
        )


def test_the_account_page_lists_details_methods_and_links(signed_in: Citizen) -> None:
    text = signed_in.text("/")
    for expected in (
        "Email address",
        signed_in.email,
        "How you sign in",
        "Phone",
        "Authenticator app",
        "Where you are signed in",
        "Security history",
        "Delete your account",
    ):
        assert expected in text


def test_the_account_pages_need_a_signed_in_citizen(citizen: Citizen) -> None:
    for path in ("/", "/history", "/sessions", "/preferences", "/password", "/recovery-codes"):
        response = citizen.client.get(f"/en/account{path}")
        assert response.status_code == 302, path
        assert "/en/account/sign-in" in response.headers["Location"], path


def test_changing_the_password_needs_a_recent_sign_in_and_ends_other_sessions(
    signed_in: Citizen,
) -> None:
    laptop = Citizen(
        signed_in.app,
        signed_in.app.test_client(),
        signed_in.email,
        totp_secret=signed_in.totp_secret,
    )
    laptop.sign_in()
    _age_authentication(signed_in)
    _reauthenticate(signed_in, "/password")
    page = signed_in.page("/password")
    assert page.find(".//input[@name='password']").get("autocomplete") == "new-password"
    response = signed_in.post("/password", {"password": "short"})
    assert "at least 12 characters" in response.get_data(as_text=True)
    response = signed_in.post("/password", {"password": NEW_PASSWORD})
    assert response.headers["Location"].endswith("/en/account/")
    assert "We have signed you out on your other devices." in signed_in.text("/")
    assert laptop.client.get("/en/account/").status_code == 302  # signed out
    email = mailbox.last(signed_in.app, signed_in.email)
    assert email["Subject"] == "Your password was changed"
    assert "password_changed" in _kinds(signed_in)


def test_a_wrong_password_when_re_authenticating_is_refused(signed_in: Citizen) -> None:
    _age_authentication(signed_in)
    response = signed_in.post(
        "/reauthenticate?next=/en/account/password",
        {"password": "wrong wrong wrong"},
        form_path="/reauthenticate",
    )
    assert "Enter the correct password" in response.get_data(as_text=True)


def test_this_wasnt_me_signs_out_everywhere_and_forces_a_new_password(signed_in: Citizen) -> None:
    _age_authentication(signed_in)
    _reauthenticate(signed_in, "/password")
    signed_in.post("/password", {"password": NEW_PASSWORD})
    notice = mailbox.last(signed_in.app, signed_in.email)
    link = mailbox.link_in(notice, "/not-me/")
    stranger = signed_in.app.test_client()
    page = stranger.get(link)
    assert "Secure your account" in page.get_data(as_text=True)
    from tests.support.forms import post_form

    response = post_form(stranger, link, {})
    assert response.headers["Location"].endswith("/en/account/secured")
    assert signed_in.client.get("/en/account/").status_code == 302  # signed out everywhere
    old = Citizen(
        signed_in.app, signed_in.app.test_client(), signed_in.email, password=NEW_PASSWORD
    )
    assert "Enter the correct email address and password" in old.sign_in_password().get_data(
        as_text=True
    )
    reset = mailbox.last(signed_in.app, signed_in.email)
    assert reset["Subject"] == "Reset your password"
    assert stranger.get(link).status_code == 400  # used once
    assert "account_secured" in _kinds(signed_in)


def test_a_forgotten_password_is_reset_by_email_without_skipping_the_second_factor(
    signed_in: Citizen,
) -> None:
    signed_in.sign_out()
    response = signed_in.post("/forgot-password", {"email": signed_in.email})
    assert response.headers["Location"].endswith("/forgot-password/sent")
    assert signed_in.email in signed_in.text("/forgot-password/sent")
    link = mailbox.link_in(mailbox.last(signed_in.app, signed_in.email), "/reset-password/")
    page = signed_in.page(link)
    assert page.find(".//input[@name='password']").get("autocomplete") == "new-password"
    response = signed_in.post(link.split("/en/account", 1)[1], {"password": NEW_PASSWORD})
    assert response.headers["Location"].endswith("/en/account/sign-in")
    assert mailbox.last(signed_in.app, signed_in.email)["Subject"] == "Your password was reset"
    assert signed_in.client.get(link).status_code == 400  # single use
    signed_in.password = NEW_PASSWORD
    response = signed_in.sign_in_password()
    assert response.headers["Location"].endswith("/sign-in/code")  # the second factor still


def test_forgot_password_gives_the_same_answer_for_an_unknown_address(citizen: Citizen) -> None:
    response = citizen.post("/forgot-password", {"email": "nobody@example.es"})
    assert response.headers["Location"].endswith("/forgot-password/sent")
    assert mailbox.messages(citizen.app, "nobody@example.es") == []
    response = citizen.post("/forgot-password", {"email": "not an address"})
    assert "Enter an email address in the correct format" in response.get_data(as_text=True)


def test_an_expired_reset_link_says_so(signed_in: Citizen) -> None:
    import time
    from unittest import mock

    signed_in.post("/forgot-password", {"email": signed_in.email})
    link = mailbox.link_in(mailbox.last(signed_in.app, signed_in.email), "/reset-password/")
    later = time.time() + 3601
    with mock.patch("itsdangerous.timed.time.time", return_value=later):
        response = signed_in.client.get(link)
    assert response.status_code == 400
    assert "This link has expired" in response.get_data(as_text=True)


def test_changing_the_email_address_is_confirmed_from_the_new_one(signed_in: Citizen) -> None:
    _age_authentication(signed_in)
    _reauthenticate(signed_in, "/email")
    response = signed_in.post("/email", {"email": signed_in.email})
    assert "This is already your email address" in response.get_data(as_text=True)
    response = signed_in.post("/email", {"email": "ana.nueva@example.es"})
    assert response.headers["Location"].endswith("/email/sent")
    link = mailbox.link_in(mailbox.last(signed_in.app, "ana.nueva@example.es"), "/email/confirm/")
    response = signed_in.client.get(link)
    assert response.headers["Location"].endswith("/en/account/")
    assert "ana.nueva@example.es" in signed_in.text("/")
    notice = mailbox.last(signed_in.app, signed_in.email)  # the old address is told
    assert notice["Subject"] == "Your email address was changed"
    assert signed_in.client.get(link).status_code == 400


def test_preferences_change_the_language_of_emails_and_the_time_zone(signed_in: Citizen) -> None:
    page = signed_in.page("/preferences")
    basque = [label for label in page.iter("label") if label.get("lang") == "eu"]
    assert basque and "".join(basque[0].itertext()) == "Euskara"
    response = signed_in.post("/preferences", {"language": "eu", "time_zone": "Atlantic/Canary"})
    assert response.headers["Location"].endswith("/en/account/")
    account = signed_in.account()
    assert (account.language, account.time_zone) == ("eu", "Atlantic/Canary")
    response = signed_in.post("/preferences", {"language": "xx", "time_zone": "Mars/Base"})
    assert response.status_code == 200 and 'class="error-summary"' in response.get_data(
        as_text=True
    )


def test_sessions_are_listed_and_can_be_signed_out(signed_in: Citizen) -> None:
    laptop = Citizen(
        signed_in.app,
        signed_in.app.test_client(),
        signed_in.email,
        totp_secret=signed_in.totp_secret,
    )
    laptop.sign_in()
    page = signed_in.page("/sessions")
    assert "This device" in " ".join(page.itertext())
    forms = [
        f
        for f in page.iter("form")
        if "/sessions/" in (f.get("action") or "") and f.get("action").endswith("/sign-out")
    ]
    assert len(forms) == 1  # only the other device has a button
    response = signed_in.post(
        forms[0].get("action").split("/en/account", 1)[1], {}, form_path="/sessions"
    )
    assert response.headers["Location"].endswith("/en/account/sessions")
    assert laptop.client.get("/en/account/").status_code == 302
    assert signed_in.client.get("/en/account/").status_code == 200


def test_all_other_sessions_can_be_signed_out_at_once(signed_in: Citizen) -> None:
    laptop = Citizen(
        signed_in.app,
        signed_in.app.test_client(),
        signed_in.email,
        totp_secret=signed_in.totp_secret,
    )
    laptop.sign_in()
    response = signed_in.post("/sessions/sign-out-others", {}, form_path="/sessions")
    assert response.status_code == 302
    assert laptop.client.get("/en/account/").status_code == 302


def test_someone_elses_session_cannot_be_signed_out(signed_in: Citizen) -> None:
    response = signed_in.post("/sessions/999999/sign-out", {}, form_path="/sessions")
    assert response.status_code == 404


def test_the_security_history_shows_each_step(signed_in: Citizen) -> None:
    text = signed_in.text("/history")
    for label in (
        "Account created",
        "Email address confirmed",
        "Sign-in method added: Phone",
        "Recovery codes created",
        "Signed in",
    ):
        assert label in text
    assert signed_in.client.get("/en/account/history?page=99").status_code == 404


def test_a_method_is_renamed_and_removed_with_a_warning_when_last(signed_in: Citizen) -> None:
    account = signed_in.account()
    with signed_in.app.app_context():
        from identity.models import Factor

        factor_id = db.session.scalar(select(Factor.id).where(Factor.account_id == account.id))
    response = signed_in.post(f"/methods/{factor_id}/rename", {"name": "  "})
    assert "Enter a name" in response.get_data(as_text=True)
    response = signed_in.post(f"/methods/{factor_id}/rename", {"name": "Old phone"})
    assert response.status_code == 302
    assert "Old phone" in signed_in.text("/")
    assert "This is your only way to confirm it is you." in signed_in.text(
        f"/methods/{factor_id}/remove"
    )
    response = signed_in.post(f"/methods/{factor_id}/remove", {})
    assert response.headers["Location"].endswith("/en/account/")
    assert mailbox.last(signed_in.app, signed_in.email)["Subject"] == "A sign-in method was removed"
    assert signed_in.client.get(f"/en/account/methods/{factor_id}/rename").status_code == 404


def test_a_second_app_can_be_added_and_named_apart(signed_in: Citizen) -> None:
    signed_in.page("/set-up")
    first_secret = signed_in.totp_secret
    signed_in.set_up_app(name="Tablet")
    assert signed_in.totp_secret != first_secret
    assert "“Tablet” is ready to use." in signed_in.text("/")
    assert mailbox.last(signed_in.app, signed_in.email)["Subject"] == "A sign-in method was added"


def test_adding_a_method_later_needs_a_recent_sign_in(signed_in: Citizen) -> None:
    _age_authentication(signed_in)
    response = signed_in.client.get("/en/account/set-up")
    assert "/en/account/reauthenticate" in response.headers["Location"]


def test_recovery_codes_are_regenerated_after_re_authenticating(signed_in: Citizen) -> None:
    old = list(signed_in.recovery_codes)
    assert "10 unused recovery codes" in signed_in.text("/recovery-codes")
    _age_authentication(signed_in)
    _reauthenticate(signed_in, "/recovery-codes/regenerate")
    response = signed_in.post("/recovery-codes/regenerate", {})
    assert response.headers["Location"].endswith("/recovery-codes/new")
    signed_in.save_recovery_codes()
    assert set(signed_in.recovery_codes).isdisjoint(old)
    assert (
        mailbox.last(signed_in.app, signed_in.email)["Subject"] == "New recovery codes were created"
    )


def test_deleting_the_account_explains_what_happens_and_needs_confirmation(
    signed_in: Citizen,
) -> None:
    text = signed_in.text("/delete")
    assert "Applications you have already submitted are not deleted" in text
    response = signed_in.post("/delete", {})
    assert "Confirm that you want to delete your account" in response.get_data(as_text=True)
    response = signed_in.post("/delete", {"confirm": "y"})
    assert response.headers["Location"].endswith("/en/account/deleted")
    signed_in.page("/deleted")
    assert mailbox.last(signed_in.app, signed_in.email)["Subject"] == "Your account was deleted"
    with signed_in.app.app_context():
        # The row stays, emptied, as the pseudonym kept records point at.
        account = db.session.scalar(select(Account))
        assert account.deleted_at is not None and not account.is_active
        assert account.email.endswith("@deleted.invalid") and account.password_hash is None
        assert db.session.scalar(select(SecurityEvent)) is None


def test_emails_are_written_in_the_citizens_language(signed_in: Citizen) -> None:
    signed_in.post("/preferences", {"language": "gl", "time_zone": "Europe/Madrid"})
    signed_in.post("/set-up/authenticator-app", {"code": "000000", "name": "x"})
    signed_in.set_up_app(name="Tablet")
    email = mailbox.last(signed_in.app, signed_in.email)
    assert email["Content-Language"] == "gl"
    assert '<html lang="gl"' in email.get_body(preferencelist=("html",)).get_content()
