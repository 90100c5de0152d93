"""Fill any procedure's form through the test client, page by page, as a citizen would.

Answers are made from the definition itself (a valid value for each field type, a value
that matches each pattern), so every shipped procedure can be applied for end to end.
Pages are read back as a browser reads them (``shown``: what the form would post as it
stands), so a test can check that what was typed, or prefilled, is what the page shows.
"""

from __future__ import annotations

import io
import itertools
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from xml.etree.ElementTree import Element, TreeBuilder

from flask.testing import FlaskClient

from identity import record
from portal.extensions import db
from procedures import applications
from procedures.definitions import Field, Page, Procedure
from procedures.samples import PATTERN_SAMPLES, PDF, sample
from tests.support.citizen import Citizen
from tests.support.forms import post_from
from tests.support.page_check import check_page

__all__ = ["PATTERN_SAMPLES", "PDF", "sample"]

PAGE = re.compile(r"/pages/([a-z0-9_]+)")
_TOKEN = re.compile(r'<input[^>]*\bname="csrf_token"[^>]*\bvalue="([^"]+)"')

#: When the record's attributes were last confirmed: the date the provenance must show.
RECORDED_AT = datetime(2026, 3, 12, 11, 0, tzinfo=UTC)
#: The citizen record every prefilled field is filled from: attribute → (value, source).
RECORD: dict[str, tuple[Any, str]] = {
    "given_name": ("Ana", "police"),
    "family_name": ("López Ruiz", "police"),
    "national_id": ("12345678Z", "police"),
    "birth_date": ("1985-03-27", "police"),
    "phone": ("600 111 222", "citizen"),
    "address": (
        {
            "street": "Calle Mayor",
            "number": "5",
            "floor_door": "2º B",
            "postcode": "28999",
            "municipality": "Villanueva",
            "province": "Madrid",
        },
        "municipal_census",
    ),
}
_ADDRESSES = (f"192.0.2.{n}" for n in itertools.count(10))


def applicant(site: Any, email: str, lang: str = "en") -> Citizen:
    """A signed-in citizen whose record holds every attribute a form can be prefilled from
    (``RECORD``, confirmed on ``RECORDED_AT``), browsing from an address of their own so
    per-address rate limits count them alone.

    The account is made as registering leaves it (verified email, an authenticator app,
    recovery codes) but directly, a quarter of the cost of the four registration pages that
    ``tests/web/test_identity_registration.py`` walks; signing in goes through the pages.
    """
    from identity import accounts, factors, totp

    citizen = Citizen(site, site.test_client(), email, lang=lang)
    citizen.client.environ_base["REMOTE_ADDR"] = next(_ADDRESSES)
    citizen.totp_secret = totp.new_secret()
    with site.test_request_context(f"/{lang}/"):
        account = accounts.create_account(email, citizen.password, lang)
        assert account is not None, email
        accounts.mark_email_verified(account)
        db.session.flush()
        factors.add_totp(
            account, citizen.totp_secret, totp.current_code(citizen.totp_secret), "Phone"
        )
        factors.new_recovery_codes(account)
        for name, (value, source) in RECORD.items():
            record.record(account, name, value, source, verified=True, when=RECORDED_AT)
        db.session.commit()
    citizen.sign_in()
    return citizen


def start(client: FlaskClient, lang: str, slug: str) -> str:
    """Press Start on the procedure's page; returns where the portal sends the citizen."""
    start_page = f"/{lang}/procedures/{slug}"
    response = post_from(client, start_page, f"/{lang}/applications/start/{slug}", {})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


def reference_of(url: str) -> str:
    return url.split("/applications/")[1].split("/")[0]


def form_data(one: Field, value: Any) -> dict[str, Any]:
    """``value`` as the fields a browser would post for ``one``."""
    if one.type == "date":
        year, month, day = value.split("-")
        return {f"{one.id}-day": day, f"{one.id}-month": month, f"{one.id}-year": year}
    if one.type == "address":
        return {f"{one.id}-{key}": part for key, part in value.items()}
    if one.type == "file":
        data: dict[str, Any] = {one.id: (io.BytesIO(PDF), f"{one.id}.pdf")}
        if one.may_be_already_provided:
            data[f"{one.id}__how"] = "upload"
        return data
    return {one.id: value}


def page_data(page: Page, answers: dict[str, Any] | None = None) -> dict[str, Any]:
    """A valid answer to every question on ``page`` (``answers`` chosen by the test win)."""
    data: dict[str, Any] = {}
    for one in page.fields:
        if answers and one.id in answers:
            value = answers[one.id]
            if value is None or value == []:
                continue  # left empty (an optional question)
        elif one.id == "oppose_consultations":
            continue  # not objecting: the administration checks for the citizen
        else:
            value = sample(one)
        data.update(form_data(one, value))
    return data


def fill_page(
    client: FlaskClient, url: str, procedure: Procedure, choices: dict[str, int] | None = None
) -> Any:
    """Answer every question on the page at ``url`` and post it; returns the response."""
    page = applications.find_page(procedure, PAGE.search(url).group(1))
    assert page is not None, url
    chosen = {
        one.id: sample(one, (choices or {})[one.id])
        for one in page.fields
        if one.id in (choices or {})
    }
    return post_from(client, url, url, page_data(page, chosen), content_type="multipart/form-data")


def first_pending_task(client: FlaskClient, tasks_url: str) -> str | None:
    """The link of the first section not yet completed on a task list (None: all done)."""
    html = client.get(tasks_url).get_data(as_text=True)
    links = re.findall(r'<a href="([^"]+)" aria-describedby="(section-\d+)-status', html)
    status = dict(
        (section, variant)
        for variant, section in re.findall(
            r'task-list__status--([a-z-]+)" id="(section-\d+)-status"', html
        )
    )
    pending = [
        href.replace("&amp;", "&") for href, section in links if status.get(section) != "done"
    ]
    return pending[0] if pending else None


def apply_until_check(
    client: FlaskClient, start_url: str, procedure: Procedure, choices: dict[str, int] | None = None
) -> str:
    """From a draft's first page (or task list) to "check your answers"; returns its URL."""
    url = start_url
    for _ in range(60):
        if "/pages/" in url:
            response = fill_page(client, url, procedure, choices)
            assert response.status_code == 302, (url, response.get_data(as_text=True)[:3000])
            url = response.headers["Location"]
        elif url.endswith("/tasks"):
            pending = first_pending_task(client, url)
            if pending is None:
                return url.replace("/tasks", "/check")
            url = pending
        elif url.endswith("/check"):
            return url
        else:
            raise AssertionError(f"unexpected page in the journey: {url}")
    raise AssertionError("the form never reached check your answers")


@dataclass
class Form:
    """A question page as the citizen has it in front of them."""

    url: str
    document: Element
    token: str

    @property
    def page_id(self) -> str:
        return PAGE.search(self.url).group(1)

    def shown(self) -> dict[str, Any]:
        return shown(self.document)


def open_form(client: FlaskClient, url: str, lang: str, error_prefix: str = "Error:") -> Form:
    """GET a question page, check it as every page is checked, and keep its token."""
    response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    html = response.get_data(as_text=True)
    token = _TOKEN.search(html)
    assert token, f"no CSRF token on {url}"
    return Form(url, check_page(html, lang, error_prefix), token.group(1))


def send(client: FlaskClient, form: Form, data: dict[str, Any]) -> Any:
    """Post ``data`` as the page's form (multipart, with its token and the Referer)."""
    data = {
        key: (io.BytesIO(value[0].getvalue()), value[1]) if isinstance(value, tuple) else value
        for key, value in data.items()
    }  # a stream is read once: each post gets its own
    return client.post(
        form.url,
        data={"csrf_token": form.token, **data},
        headers={"Referer": f"https://localhost{form.url}"},
        content_type="multipart/form-data",
    )


def reread(response: Any, url: str, lang: str, checked: bool = True) -> Form:
    """The page a post answered with (its errors), as a :class:`Form`: through the page
    check, or (``checked=False``, for the many wrong answers after the first) only read."""
    html = response.get_data(as_text=True)
    document = check_page(html, lang, "Error:") if checked else read(html)
    return Form(url, document, _TOKEN.search(html).group(1))


class _TreeReader(HTMLParser):
    """Builds an ElementTree from HTML with the standard library's tolerant parser."""

    VOID = frozenset(
        {
            "area",
            "base",
            "br",
            "col",
            "embed",
            "hr",
            "img",
            "input",
            "link",
            "meta",
            "source",
            "wbr",
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.builder = TreeBuilder()
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.builder.start(tag, {name: value or "" for name, value in attrs})
        if tag in self.VOID:
            self.builder.end(tag)
        else:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:  # what is left open inside closes with it
            while self.open:
                closed = self.open.pop()
                self.builder.end(closed)
                if closed == tag:
                    break

    def handle_data(self, data: str) -> None:
        self.builder.data(data)


def read(html: str) -> Element:
    """A page read for its values and messages, many times faster than html5lib's strict
    parse: for the states of a page the page check has already passed in another."""
    reader = _TreeReader()
    reader.feed(html)
    reader.close()
    while reader.open:
        reader.builder.end(reader.open.pop())
    return reader.builder.close()


def shown(document: Element) -> dict[str, Any]:
    """What the page's form would post as it stands, as a browser builds it: each named
    control's value (text typed or prefilled, the ticked options, the chosen option)."""
    values: dict[str, Any] = {}
    form = document.find(".//main//form[@method='post']")
    assert form is not None, "no form on the page"
    for control in form.iter():
        name = control.get("name")
        if not name or name == "csrf_token":
            continue
        if control.tag == "input":
            kind = control.get("type", "text")
            if kind == "file" or kind == "submit":
                continue
            if kind == "checkbox":
                values.setdefault(name, [])
                if control.get("checked") is not None:
                    values[name].append(control.get("value"))
            elif kind == "radio":
                if control.get("checked") is not None:
                    values[name] = control.get("value")
            else:
                values[name] = control.get("value", "")
        elif control.tag == "textarea":
            values[name] = control.text or ""
        elif control.tag == "select":
            options = control.findall("option")
            chosen = [o for o in options if o.get("selected") is not None] or options[:1]
            values[name] = chosen[0].get("value", "") if chosen else ""
    return values


def as_posted(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as a page shows it back: files are never sent back, and a lone ticked box
    is a list of one."""
    return {key: value for key, value in data.items() if not isinstance(value, tuple)}


def text_of(element: Element | None) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


@dataclass(frozen=True)
class Definition:
    """A procedure and every page its form can ask: the definition's and the art. 28 pages
    the engine adds (built in a request, where their texts are translated)."""

    procedure: Procedure
    pages: tuple[Page, ...]

    def page(self, page_id: str) -> Page:
        return next(page for page in self.pages if page.id == page_id)

    def field(self, field_id: str) -> Field:
        return next(one for page in self.pages for one in page.fields if one.id == field_id)

    def page_of(self, field_id: str) -> Page:
        return next(page for page in self.pages if any(o.id == field_id for o in page.fields))


def definition(site: Any, slug: str) -> Definition:
    from procedures import catalogue

    with site.test_request_context("/en/"):
        procedure = catalogue.get(slug)
        assert procedure is not None and procedure.form is not None, slug
        return Definition(procedure, applications.all_pages(procedure))


def belongs(key: str, one: Field) -> bool:
    """Whether a posted name is one of ``one``'s controls (a date's day, an address's street)."""
    return key == one.id or key.startswith((f"{one.id}-", f"{one.id}__"))


def as_shown(form: Form, page: Page, answers: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a citizen posts who keeps what the page shows (prefilled from their record, or
    answered before) and answers what is empty; ``answers`` are the test's own choices."""
    current = form.shown()
    data: dict[str, Any] = {}
    for one in page.fields:
        mine = {key: value for key, value in current.items() if belongs(key, one)}
        filled = any(value not in ("", [], None) for value in mine.values())
        if one.type != "file" and filled and one.id not in (answers or {}):
            data.update(mine)
        else:
            data.update(page_data(Page(page.id, (one,)), answers))
    return data


def walk(
    client: FlaskClient,
    url: str,
    form_definition: Definition,
    lang: str,
    answers: dict[str, Any] | None = None,
    pages: int | None = None,
) -> tuple[list[str], str]:
    """Answer page after page from ``url``, keeping what each page shows, until "check your
    answers" (or after ``pages`` pages); returns the pages asked and where the portal went."""
    asked: list[str] = []
    for _ in range(100):
        if url.endswith("/tasks"):
            url = first_pending_task(client, url) or url.replace("/tasks", "/check")
            continue
        if url.split("?")[0].endswith("/check") or (pages is not None and len(asked) == pages):
            return asked, url
        form = open_form(client, url, lang)
        page = form_definition.page(form.page_id)
        response = send(client, form, as_shown(form, page, answers))
        assert response.status_code == 302, (url, response.get_data(as_text=True)[-3000:])
        asked.append(page.id)
        url = response.headers["Location"]
    raise AssertionError("the form never reached check your answers")
