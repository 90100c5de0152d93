"""A citizen using the portal through the Flask test client: the steps journeys share."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from identity import totp
from identity.models import Account, Factor
from portal.extensions import db
from tests.support import mailbox
from tests.support.forms import post_form

PASSWORD = "tres tristes tigres comen trigo"
_SECRET = re.compile(r'<p class="secret" dir="ltr"><code>([A-Z2-7 ]+)</code>')
_CODE = re.compile(r"<li><code>([A-Z0-9-]{19})</code></li>")


@dataclass
class Citizen:
    app: Flask
    client: FlaskClient
    email: str
    password: str = PASSWORD
    lang: str = "en"
    totp_secret: str | None = None
    recovery_codes: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"/{self.lang}/account{path}"

    def post(self, path: str, data: dict[str, object], form_path: str | None = None):
        """Post ``data`` to ``path`` with the token of the form at ``form_path`` (default: same)."""
        if form_path is None:
            return post_form(self.client, self.url(path), data)
        from tests.support.forms import csrf_token

        token = csrf_token(self.client, self.url(form_path))
        return self.client.post(
            self.url(path),
            data={"csrf_token": token, **data},
            headers={"Referer": f"https://localhost{self.url(form_path)}"},
        )

    def page(self, path: str, status: int = 200, lang: str | None = None):
        """GET a page of this site (``/account`` paths may be given short) and check it."""
        from tests.support.page_check import check_page
        from tests.support.translations import translate

        lang = lang or self.lang
        url = path if path.startswith(f"/{lang}/") else self.url(path)
        response = self.client.get(url)
        assert response.status_code == status, f"{url}: {response.status_code}"
        return check_page(
            response.get_data(as_text=True), lang, translate(self.app, lang, "Error:")
        )

    def text(self, path: str, status: int = 200) -> str:
        return " ".join(" ".join(self.page(path, status).itertext()).split())

    def create_account(self) -> None:
        response = self.post("/create", {"email": self.email, "password": self.password})
        assert response.status_code == 302, response.get_data(as_text=True)

    def confirm_email(self):
        link = mailbox.link_in(mailbox.last(self.app, self.email), "/verify/")
        return self.client.get(link)

    def set_up_app(self, name: str = "Phone") -> None:
        page = self.client.get(self.url("/set-up/authenticator-app")).get_data(as_text=True)
        match = _SECRET.search(page)
        assert match, page
        self.totp_secret = match.group(1).replace(" ", "")
        response = self.post(
            "/set-up/authenticator-app", {"code": totp.current_code(self.totp_secret), "name": name}
        )
        assert response.status_code == 302, response.get_data(as_text=True)

    def save_recovery_codes(self):
        page = self.client.get(self.url("/recovery-codes/new")).get_data(as_text=True)
        self.recovery_codes = _CODE.findall(page)
        assert len(self.recovery_codes) == 10, page
        return self.post("/recovery-codes/new", {"saved": "y"})

    def register(self) -> Citizen:
        """Create, confirm, set up an app and save the codes: a signed-in citizen."""
        self.create_account()
        assert self.confirm_email().status_code == 302
        self.set_up_app()
        assert self.save_recovery_codes().status_code == 302
        return self

    def next_code(self) -> str:
        """A code for a step after any used so far (setting up used the current one)."""
        self.forget_used_codes()
        assert self.totp_secret
        return totp.current_code(self.totp_secret, time.time())

    def forget_used_codes(self) -> None:
        with self.app.app_context():
            account = db.session.scalar(select(Account).where(Account.email == self.email))
            db.session.execute(
                update(Factor).where(Factor.account_id == account.id).values(totp_last_step=None)
            )
            db.session.commit()

    def sign_in_password(self, password: str | None = None):
        return self.post("/sign-in", {"email": self.email, "password": password or self.password})

    def sign_in(self) -> None:
        response = self.sign_in_password()
        assert response.headers["Location"].endswith("/sign-in/code"), response.headers
        response = self.post("/sign-in/code", {"code": self.next_code()})
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/account/"), response.headers

    def sign_out(self):
        return self.post("/sign-out", {}, form_path="/")

    def account(self) -> Account:
        with self.app.app_context():
            account = db.session.scalar(select(Account).where(Account.email == self.email))
            db.session.expunge_all()
            return account
