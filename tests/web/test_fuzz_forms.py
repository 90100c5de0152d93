"""Every form of the portal, posted what no citizen would type: never a server error, the
form's errors when it refuses, and nothing kept from what it refused.

Each form is found on the page that shows it, reached in the state it needs through the
inventory's test-only route, and read from the HTML (so a new field is fuzzed without
being listed). Hypothesis then posts variants of it: fields left out, empty, repeated,
far too long (beyond what Werkzeug keeps in memory, and beyond ``MAX_CONTENT_LENGTH``),
unicode edge cases and bytes that are not UTF-8, numbers as text and text as numbers,
options the page did not offer, malformed dates, unknown fields, a missing or forged
CSRF token, and files of any bytes, type and name.

What is checked after every post:
- the answer is the portal's page in the page's language, never a 5xx;
- a form that shows itself again as refused (posted with its own token) shows its error
  summary;
- a refused form (4xx, or the page again with its error summary) added no row, except to
  the logs that record refusals (``REFUSALS_LOGGED``);
- no uploaded file is on disk without its row (a refused file is not kept);
- nothing written would fail on PostgreSQL or is garbage: no NUL or other control
  character, no string longer than its column (``tests/support/stored.py``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from portal import create_app
from tests.conftest import empty_tables, make_test_app
from tests.support import hostile
from tests.support.fuzzing import (
    assert_portal_answer,
    finished,
    fuzz_settings,
    shows_errors,
    visitor,
)
from tests.support.html_forms import HtmlForm, Upload, multipart, post_forms, urlencoded
from tests.support.inventory import CATALOGUE, INVENTORY, LANGUAGE_CODES, Page, path
from tests.support.stored import row_marks, upload_names, watching

#: POST routes that are not forms of ours: agencies' servers and the passkey script call
#: them with JSON or OAuth bodies (tests/web/test_fuzz_json.py fuzzes them).
MACHINE_ENDPOINTS = {
    "oidc.token",
    "oidc.userinfo",
    "oidc.revoke",
    "oidc.introspect",
    "oidc.end_session",
    "identity.webauthn_options",
}

#: Where the forms of POST-only routes are shown (a button on another page).
HOSTS = {
    "applications.start": Page(
        "procedures.procedure", {"slug": "change-of-address"}, state="signed_in"
    ),
    "applications.submit": Page(
        "applications.check", {"procedure": "change-of-address"}, state="draft"
    ),
    "backoffice.assign": Page("backoffice.case", {"reference": "complaint"}, state="staff"),
    "backoffice.route": Page("backoffice.case", {"reference": "complaint"}, state="staff"),
    "backoffice.start_review": Page("backoffice.case", {"reference": "complaint"}, state="staff"),
    # The member holds the complaint; the citizen's change of address waits to be claimed.
    "backoffice.claim": Page("backoffice.inbox", {"case": "complaint"}, state="staff"),
    "backoffice.contact_done": Page("backoffice.contact", {"contact_id": "call"}, state="staff"),
    "backoffice.issue": Page("backoffice.case", {"reference": "decided"}, state="staff"),
    "backoffice.member_access": Page(
        "backoffice.member", {"member_id": "colleague"}, state="staff_admin"
    ),
    "folder.dismiss_suggestion": Page("folder.overview", state="submitted"),
    "folder.mark_all_read": Page("folder.notification_list", state="folder"),
    "folder.mark_unread": Page("folder.notification", {"public_id": "notice"}, state="folder"),
    "folder.open_notification": Page(
        "folder.notification", {"public_id": "formal"}, state="folder"
    ),
    "identity.extend_session": Page("identity.account", state="signed_in"),
    "identity.sign_out": Page("identity.account", state="signed_in"),
    "identity.revoke_session": Page("identity.list_sessions", state="signed_in"),
    "identity.revoke_other_sessions": Page("identity.list_sessions", state="signed_in"),
    "identity.sign_in_with_passkey": Page("identity.sign_in"),
    "oidc.disconnect": Page("oidc.connected_services", state="connected"),
}

#: Tables a refused post may still add to, and why: each is the record of a refusal.
REFUSALS_LOGGED = {
    # Failed sign-ins, wrong codes and refused passkeys are security events the citizen
    # sees in their history (and the throttle counts).
    "security_events",
}


def _field_traits(fields: tuple) -> set[str]:
    traits = set()
    for one in fields:
        traits.add(one.type)
        for trait, present in (
            ("optional", one.optional),
            ("provided", one.may_be_already_provided),
            ("pattern", one.pattern),
            ("range", one.min is not None or one.max is not None),
            ("decimal", not one.whole),
            ("past", one.past),
            ("future", one.future),
            ("choices", one.min_choices),
            ("prefill", one.prefill),
            ("length", one.max_length),
        ):
            if present:
                traits.add(f"{one.type}:{trait}")
    return traits


def question_pages() -> list[Page]:
    """The fewest question pages of the catalogue's forms that hold every kind of field with
    every option its definition can set (greedily), the art. 28 objections and upload, and
    a question answered at a counter by staff: one question template draws them all."""
    candidates = []
    for procedure in sorted(CATALOGUE, key=lambda one: one.slug):
        if procedure.form is None:
            continue
        for page in procedure.form.pages:
            traits = _field_traits(page.fields)
            candidates.append(((procedure.slug, page.id), traits))
    wanted = set().union(*(traits for _key, traits in candidates))
    chosen: list[tuple[str, str]] = []
    while wanted:
        key, traits = max(candidates, key=lambda one: len(one[1] & wanted))
        chosen.append(key)
        wanted -= traits
    pages = [
        Page("applications.page", {"procedure": slug, "page_id": page_id}, state="draft")
        for slug, page_id in chosen
    ]
    with_checks = next(one for one in CATALOGUE if one.consultations)
    first_check = with_checks.consultations[0].id
    for page_id in ("consultations", f"consultations_{first_check}"):
        pages.append(
            Page(
                "applications.page",
                {"procedure": with_checks.slug, "page_id": page_id},
                state="draft",
            )
        )
    pages.append(
        Page("applications.page", {"reference": "counter", "page_id": "items"}, state="staff")
    )
    return pages


def _name(endpoint: str, page: Page) -> str:
    detail = "-".join(str(value) for value in page.values.values())
    return f"{endpoint}[{detail}]" if detail else endpoint


def posted_endpoints() -> set[str]:
    """Every route of the portal that takes a POST, from its URL map."""
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"INSTANCE_PATH": instance, "SECRET_KEY": "x" * 32})
    return {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())}


POSTED = posted_endpoints()


def fuzzed_forms() -> list[tuple[str, Page]]:
    """Each POST route of the portal's forms with a page that shows it: its own GET page in
    the inventory (the first that answers 200), or its host."""
    forms: list[tuple[str, Page]] = []
    seen: set[str] = set()
    for page in INVENTORY:
        if (
            page.endpoint in POSTED
            and page.kind == "html"
            and page.status == 200
            and page.endpoint not in seen
            and page.endpoint != "applications.page"
        ):
            seen.add(page.endpoint)
            forms.append((page.endpoint, page))
    forms += [("applications.page", page) for page in question_pages()]
    forms += sorted(HOSTS.items())
    return forms


FORMS = fuzzed_forms()


@pytest.fixture(scope="module")
def portal(_migrated: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp("fuzz-forms")
    app = make_test_app(_migrated, instance, UPLOAD_FOLDER=str(instance / "uploads"))
    yield app
    with app.app_context():
        empty_tables()


def test_every_post_route_is_fuzzed() -> None:
    """A new POST route fails here until it has a form page (or is a machine endpoint)."""
    fuzzed = {endpoint for endpoint, _page in FORMS}
    assert POSTED - fuzzed - MACHINE_ENDPOINTS == set(), "give these routes a page in HOSTS"
    assert fuzzed & MACHINE_ENDPOINTS == set()


# What is posted -----------------------------------------------------------------------

#: Stand-ins resolved when the post is sent, against the form as the page shows it then:
#: the page's CSRF token and its own values (both change when the state is set up again).
TOKEN = b"\x00token\x00"
SHOWN = b"\x00shown\x00"


def _values(form: HtmlForm, name: str) -> st.SearchStrategy[list[bytes]]:
    """What is sent for one field: nothing, what the page showed, empty, one of the options,
    a hostile value, or several values at once."""
    options = [value.encode() for value in form.options(name)]
    choices = [
        st.just([]),
        st.just([SHOWN]),
        st.just([b""]),
        st.lists(hostile.hostile_text, min_size=1, max_size=1),
        st.lists(hostile.hostile_text, min_size=2, max_size=3),
    ]
    if options:
        choices += [
            st.lists(st.sampled_from(options), min_size=1, max_size=1),
            st.lists(st.sampled_from(options), min_size=2, max_size=4),
        ]
    return st.one_of(choices)


#: Mostly the page's token (else every post would stop at the CSRF check), sometimes none,
#: a forged one, or the real one after a forged one.
_token = st.integers(min_value=0, max_value=15).flatmap(
    lambda roll: (
        st.just([TOKEN])
        if roll < 12
        else st.just([])
        if roll == 12
        else hostile.hostile_text.map(lambda forged: [forged] if roll == 13 else [forged, TOKEN])
    )
)

_uploads_of = st.builds(
    lambda filename, content_type, content: (filename, content_type, content),
    st.sampled_from(hostile.FILENAMES).map(str.encode) | st.sampled_from(hostile.INVALID_UTF8),
    st.sampled_from(hostile.CONTENT_TYPES),
    hostile.file_bytes,
)

_unknown = st.tuples(
    st.sampled_from(("__proto__", "id", "account_id", "is_staff", "lang", "x[]")).map(str.encode)
    | hostile.hostile_text,
    hostile.hostile_text,
)


@st.composite
def submissions(draw: st.DrawFn, form: HtmlForm) -> tuple[list[tuple[bytes, bytes]], list[Upload]]:
    pairs: list[tuple[bytes, bytes]] = []
    uploads: list[Upload] = []
    for name in form.names():
        kind = form.of(name)[0].kind
        if kind == "file":
            for filename, content_type, content in draw(st.lists(_uploads_of, max_size=2)):
                uploads.append(Upload(name, filename, content_type, content))
            continue
        values = draw(_token if name.endswith("csrf_token") else _values(form, name))
        pairs += [(name.encode(), value) for value in values]
    pairs += draw(st.lists(_unknown, max_size=2))
    return pairs, uploads


# Where it is posted --------------------------------------------------------------------


class Target:
    """The form as the page shows it now. A post that is accepted (or that ends the
    session) can take the form away: it is read again from its page, and when the page no
    longer shows it, the state is set up again, a few times at most (each costs a new
    account and, for staff, a busy citizen)."""

    SETUPS = 3

    def __init__(self, app: Flask, endpoint: str, page: Page, lang: str) -> None:
        self.app, self.endpoint, self.page, self.lang = app, endpoint, page, lang
        self.setups = 0
        self.open()
        self.template = self.form

    def open(self) -> None:
        self.setups += 1
        self.client = visitor(self.app)
        with self.app.test_request_context():
            url = path(self.page, self.lang)
        response = finished(self.client.get(url, follow_redirects=self.page.state is not None))
        assert response.status_code == 200, f"{url}: {response.status_code}"
        self.page_url = response.request.url
        form = self.find(response.get_data(as_text=True))
        if self.setups == 1:
            assert form is not None, f"no form posting to {self.endpoint} on {self.page_url}"
        # Set up again, the state may not show it (a busy inbox's claim buttons are on the
        # cases earlier posts left): the form as it was is posted on.
        self.form = form or self.form

    def refresh(self) -> None:
        response = finished(self.client.get(self.page_url))
        form = self.find(response.get_data(as_text=True)) if response.status_code == 200 else None
        if form is not None:
            self.form = form
        elif self.setups < self.SETUPS:
            self.open()

    def find(self, html: str) -> HtmlForm | None:
        adapter = self.app.url_map.bind("localhost")
        for form in post_forms(html, self.page_url):
            if adapter.match(urlsplit(form.action).path, method="POST")[0] == self.endpoint:
                return form
        return None

    def token_sent(self, pairs: list[tuple[bytes, bytes]]) -> bool:
        """Whether the first CSRF token in ``pairs`` is the page's (the one Flask-WTF reads)."""
        sent = next((value for name, value in pairs if name.endswith(b"csrf_token")), None)
        shown = next((v for k, v in self.form.as_shown() if k.endswith("csrf_token")), "")
        return sent == shown.encode()

    @property
    def action(self) -> str:
        return urlsplit(self.form.action)._replace(scheme="", netloc="").geturl()

    def resolve(self, pairs: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """The stand-ins replaced by the form's token and values as the page shows them now."""
        shown = self.form.as_shown()
        sent: list[tuple[bytes, bytes]] = []
        for name, value in pairs:
            if value == TOKEN:
                token = next((v for k, v in shown if k.endswith("csrf_token")), "")
                sent.append((name, token.encode()))
            elif value == SHOWN:
                sent += [(name, v.encode()) for k, v in shown if k.encode() == name]
            else:
                sent.append((name, value))
        return sent


@dataclass(frozen=True)
class Sent:
    """What was posted, as a failure message shows it (only then is it written out)."""

    action: str
    pairs: list[tuple[bytes, bytes]]
    uploads: list[Upload]

    def __str__(self) -> str:
        pairs = [
            (name, value[:80] + b"..." if len(value) > 80 else value) for name, value in self.pairs
        ]
        return f"POST {self.action} {pairs} {self.uploads}"


def _stored_files(connection: sa.Connection) -> set[str]:
    return set(connection.execute(sa.text("SELECT stored_name FROM application_files")).scalars())


# The test ------------------------------------------------------------------------------


def post_and_check(target: Target, pairs: list[tuple[bytes, bytes]], uploads: list[Upload]) -> None:
    """Post, then check the answer and what was left behind (the module's docstring)."""
    from portal.extensions import db

    app = target.app
    sent = Sent(target.action, target.resolve(pairs), uploads)
    if target.form.multipart or uploads:
        body, content_type = multipart(sent.pairs, uploads)
    else:
        body, content_type = urlencoded(sent.pairs), "application/x-www-form-urlencoded"
    with app.app_context():
        engine, tables = db.engine, list(db.metadata.sorted_tables)
    with engine.connect() as connection:
        before = row_marks(connection, tables)
    with watching(engine) as watch:
        watch.active = True
        response = finished(
            target.client.post(
                sent.action,
                data=body,
                content_type=content_type,
                headers={"Referer": target.page_url},
            )
        )
    assert_portal_answer(response, target.lang, sent)
    assert watch.problems == [], f"{sent}: {watch.problems}"
    with engine.connect() as connection:
        after = row_marks(connection, tables)
        on_disk = upload_names(Path(app.config["UPLOAD_FOLDER"]))
        assert on_disk <= _stored_files(connection), f"{sent}: a file kept without its row"
    if (
        response.status_code in (400, 422)
        and target.token_sent(sent.pairs)  # else the "form expired" page, rightly
        and target.find(response.get_data(as_text=True))
    ):
        assert shows_errors(response), f"{sent}: the form again, refused, without its errors"
    if response.status_code >= 400 or shows_errors(response):
        grown = {name for name in after if after[name] > before[name]} - REFUSALS_LOGGED
        assert grown == set(), f"{sent}: refused, yet rows were added to {sorted(grown)}"
    if response.status_code in (302, 303, 400):  # accepted, or the session may be gone
        target.refresh()


# Werkzeug's multipart parser drops, unclosed, a file part it has begun when a later field
# passes MAX_FORM_MEMORY_SIZE (the 413): an anonymous temporary file, freed at once.
@pytest.mark.filterwarnings("ignore:Unclosed file <tempfile.SpooledTemporaryFile:ResourceWarning")
@pytest.mark.parametrize(
    ("endpoint", "page"), FORMS, ids=[_name(endpoint, page) for endpoint, page in FORMS]
)
def test_form_survives_hostile_posts(portal: Flask, endpoint: str, page: Page) -> None:
    lang = LANGUAGE_CODES[FORMS.index((endpoint, page)) % len(LANGUAGE_CODES)]
    target = Target(portal, endpoint, page, lang)

    @fuzz_settings()
    @given(submissions(target.template))
    def hostile_posts(submission: tuple[list[tuple[bytes, bytes]], list[Upload]]) -> None:
        post_and_check(target, *submission)

    hostile_posts()
    if target.form.multipart:  # beyond MAX_CONTENT_LENGTH: refused before it is read
        too_big = b"%PDF-" + b"x" * portal.config["MAX_CONTENT_LENGTH"]
        file_name = next(
            name for name in target.form.names() if target.form.of(name)[0].kind == "file"
        )
        token = [
            (name.encode(), TOKEN) for name in target.form.names() if name.endswith("csrf_token")
        ]
        post_and_check(target, token, [Upload(file_name, b"big.pdf", "application/pdf", too_big)])


def test_a_body_beyond_max_content_length_is_refused_on_the_portal_page(portal: Flask) -> None:
    """Upload forms are sent one beyond ``MAX_CONTENT_LENGTH`` above; a plain form too."""
    target = Target(portal, "identity.sign_in", Page("identity.sign_in"), "ar")
    too_big = b"x" * (portal.config["MAX_CONTENT_LENGTH"] + 1)
    response = finished(
        target.client.post(
            target.action,
            data=urlencoded([(b"csrf_token", TOKEN), (b"email", too_big)]),
            content_type="application/x-www-form-urlencoded",
        )
    )
    assert response.status_code == 413
    assert_portal_answer(response, "ar", "a body of 20 MB and a byte")
