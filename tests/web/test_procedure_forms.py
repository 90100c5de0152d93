"""Every shipped procedure's form, page by page, as citizens fill it in through the web.

What to try comes from each definition (``tests/support/wrong_answers.py`` and
``conditions.py``), so a new procedure is covered as soon as its file is added:

- on every page, the page left empty and each wrong answer its fields' validators must
  refuse: refused with the error summary and the inline error, and what was typed stays;
- prefilled answers show the record's value and say where it came from and when;
- conditional pages are asked when an answer calls for them and skipped otherwise, and
  changing that answer from "check your answers" asks them or drops them;
- a draft left midway resumes, after signing in again, on its first unanswered page; and
  a double submit (and a back-and-resubmit) gives one registry entry and one email.

Then the rules particular to some procedures, written out one by one.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from xml.etree.ElementTree import Element

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.extensions import db
from procedures.definitions import Page, load_catalogue
from procedures.models import Application, RegistryEntry, TimelineEvent
from procedures.samples import PDF
from tests.conftest import empty_tables, make_test_app
from tests.support import mailbox
from tests.support.applicant import (
    RECORD,
    Form,
    applicant,
    as_posted,
    belongs,
    definition,
    first_pending_task,
    form_data,
    open_form,
    page_data,
    read,
    reference_of,
    reread,
    send,
    start,
    text_of,
    walk,
)
from tests.support.conditions import (
    asked,
    controlling_fields,
    hiding,
    hiding_every_page,
    showing,
    showing_every_page,
)
from tests.support.forms import csrf_token
from tests.support.wrong_answers import (
    WrongAnswer,
    empty_data,
    missing,
    wrong_answers,
)

CATALOGUE = load_catalogue()
WITH_FORMS = sorted(p.slug for p in CATALOGUE if p.form is not None)
WITH_CONDITIONS = sorted(
    p.slug
    for p in CATALOGUE
    if p.form is not None and (p.consultations or any(page.show_if for page in p.form.pages))
)
CHOICES = ("radios", "select", "yes_no", "checkboxes")
#: How the provenance names each source of the record, in English.
SOURCES = {
    "police": "the National Police (DNI)",
    "municipal_census": "the municipal census",
    "citizen": "you",
}


@pytest.fixture(scope="module")
def portal(_migrated: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One portal for the module: each test brings its own citizen, and counts only their
    rows, so none needs an empty database (and the app is built once, not 40 times)."""
    app = make_test_app(_migrated, tmp_path_factory.mktemp("forms-instance"))
    yield app
    with app.app_context():
        empty_tables()


# Every page refuses every wrong answer


@pytest.mark.parametrize("slug", WITH_FORMS)
def test_every_page_refuses_each_wrong_answer_and_keeps_what_was_typed(portal, slug) -> None:
    form_definition = definition(portal, slug)
    tried: set[str] = set()
    for number, answers in enumerate(showing_every_page(form_definition.pages)):
        citizen = applicant(portal, f"wrong-{number}-{slug}@example.es")
        url = start(citizen.client, "en", slug)
        for _ in range(100):
            if url.endswith("/tasks"):
                url = first_pending_task(citizen.client, url) or url.replace("/tasks", "/check")
            if url.endswith("/check"):
                break
            form = open_form(citizen.client, url, "en")
            page = form_definition.page(form.page_id)
            if page.id not in tried:
                _shows_the_record(form, page, citizen.email)
                _refuses_what_it_must(portal, citizen.client, form, page, answers)
                tried.add(page.id)
            response = send(citizen.client, form, page_data(page, answers))
            assert response.status_code == 302, (url, response.get_data(as_text=True)[-2000:])
            url = response.headers["Location"]
    assert tried == {page.id for page in form_definition.pages}, "some pages were never asked"


def _shows_the_record(form: Form, page: Page, email: str) -> None:
    """Each prefilled field shows the record's value and says where it came from and when,
    with a way to put it right, in a hint the field is described by."""
    values = form.shown()
    for one in page.fields:
        if one.prefill is None:
            continue
        if one.prefill == "email":
            value, said = email, r"From your account, \w+ \d{1,2}, \d{4}\."
        else:
            value, source = RECORD[one.prefill]
            said = re.escape(f"From {SOURCES[source]}, March 12, 2026.")
        expected = as_posted(form_data(one, value))
        if one.type == "date":  # the record's 1985-03-27 reads 27, 3, 1985
            expected = {key: str(int(part)) for key, part in expected.items()}
        assert {key: values.get(key) for key in expected} == expected, (page.id, one.id)
        hint = text_of(form.document.find(f".//*[@id='{one.id}-hint']"))
        assert re.search(said + r" If it is not right, change it here\.$", hint), (one.id, hint)
        control = f"{one.id}-street" if one.type == "address" else one.id
        assert _described_by(form.document, control, f"{one.id}-hint"), one.id


def _refuses_what_it_must(
    portal: Flask, client: Any, form: Form, page: Page, answers: dict[str, Any]
) -> None:
    empty = {key: value for one in page.fields for key, value in empty_data(one).items()}
    expected = [wrong for one in page.fields for wrong in missing(one)]
    response = send(client, form, empty)
    if expected:
        _refused(response, form.url, expected, empty)
    else:  # only optional questions: leaving them empty is an answer
        assert response.status_code == 302, form.url
    before = _stored(portal, reference_of(form.url))
    valid = page_data(page, answers)
    for one in page.fields:
        for wrong in wrong_answers(one):
            data = {key: value for key, value in valid.items() if not belongs(key, one)}
            data.update(wrong.data)
            _refused(send(client, form, data), form.url, [wrong], data, checked=False)
    after = _stored(portal, reference_of(form.url))
    for one in page.fields:
        if one.type != "file":  # a good file sent along with a wrong answer is kept, by design
            assert after.get(one.id) == before.get(one.id), (
                f"{one.id}: a refused answer was saved: {after.get(one.id)!r}"
            )


def _refused(
    response: Any,
    url: str,
    expected: list[WrongAnswer],
    posted: dict[str, Any],
    checked: bool = True,
) -> None:
    """The page came back with exactly these errors, each in the summary (linked to its
    field) and next to its field, "Error:" first in the title, and what was typed kept."""
    why = ", ".join(f"{w.field.id}: {w.why}" for w in expected)
    assert response.status_code == 200, (
        why,
        response.status_code,
        response.headers.get("Location"),
    )
    form = reread(response, url, "en", checked)
    title = text_of(form.document.find("./head/title"))
    assert title.startswith("Error: "), (why, title)
    summary = form.document.find(".//main/div[@class='error-summary']")
    assert summary is not None, why
    listed = [(a.get("href"), text_of(a)) for a in summary.iter("a")]
    assert listed == [(f"#{w.target}", w.message) for w in expected], why
    for wrong in expected:
        assert form.document.find(f".//*[@id='{wrong.target}']") is not None, why
        inline = text_of(form.document.find(f".//*[@id='{wrong.target}-error']"))
        assert inline == f"Error: {wrong.message}", (why, inline)
        assert _described_by(form.document, wrong.target, f"{wrong.target}-error"), why
    refused_choices = [w.field for w in expected if w.field.type in CHOICES]
    kept = {
        key: value
        for key, value in as_posted(posted).items()
        if not any(belongs(key, one) for one in refused_choices)  # not an option: not shown
    }
    values = form.shown()
    assert {key: values.get(key) for key in kept} == kept, why


def _described_by(document: Element, control_id: str, description_id: str) -> bool:
    """Whether the control (or the fieldset around it) names ``description_id`` in its
    ``aria-describedby``, so a screen reader reads the hint or error with the field."""
    for element in document.iter():
        if description_id not in (element.get("aria-describedby") or "").split():
            continue
        if element.get("id") == control_id:
            return True
        if element.tag == "fieldset" and element.find(f".//*[@id='{control_id}']") is not None:
            return True
    return False


def _stored(portal: Flask, reference: str) -> dict[str, Any]:
    with portal.app_context():
        application = db.session.scalar(
            select(Application).where(Application.reference == reference)
        )
        return dict(application.answers)


# Conditional pages, both ways


@pytest.mark.parametrize("slug", WITH_CONDITIONS)
def test_conditional_pages_are_asked_only_when_an_answer_calls_for_them(portal, slug) -> None:
    form_definition = definition(portal, slug)
    pages = form_definition.pages
    citizen = applicant(portal, f"conditions-{slug}@example.es")
    client = citizen.client
    answers = hiding_every_page(pages)
    asked_pages, check_url = walk(client, start(client, "en", slug), form_definition, "en", answers)
    assert asked_pages == asked(pages, answers), "pages asked when skipping what can be skipped"
    reference = reference_of(check_url)
    for page in pages:
        if page.id not in asked_pages:  # not even by its address
            assert client.get(_page_url(reference, page.id)).status_code == 404, page.id
    listed = _listed(client, check_url)
    assert listed == asked_pages

    for one in controlling_fields(pages):
        page = form_definition.page_of(one.id)
        if page.id not in listed:
            continue  # its own page is not asked with these answers
        hidden = set(listed)
        # Changed from "check your answers" to an answer that calls for more pages...
        answers = {**answers, one.id: showing(pages, one)}
        newly_asked, check_url = _change(client, form_definition, reference, page, answers)
        expected = [p for p in asked(pages, answers) if p not in hidden]
        assert newly_asked == [page.id, *expected], f"{one.id}: the pages it calls for"
        assert _listed(client, check_url) == asked(pages, answers)
        # ...and back: those pages are skipped again and their answers dropped.
        answers = {**answers, one.id: hiding(pages, one)}
        newly_asked, check_url = _change(client, form_definition, reference, page, answers)
        assert newly_asked == [page.id], f"{one.id}: changing it back asks nothing new"
        listed = _listed(client, check_url)
        assert listed == asked(pages, answers)
        stored = _stored(portal, reference)
        for dropped in expected:
            for field in form_definition.page(dropped).fields:
                assert field.id not in stored, f"{field.id} was kept after its page was skipped"


def _page_url(reference: str, page_id: str, lang: str = "en") -> str:
    return f"/{lang}/applications/{reference}/pages/{page_id}"


def _listed(client: Any, check_url: str) -> list[str]:
    """The pages "check your answers" lists (by their Change links), in order."""
    response = client.get(check_url)
    assert response.status_code == 200, (check_url, response.headers.get("Location"))
    hrefs = re.findall(
        r'href="[^"]*/pages/([a-z0-9_]+)\?return=check"', response.get_data(as_text=True)
    )
    return list(dict.fromkeys(hrefs))


def _change(
    client: Any, form_definition: Any, reference: str, page: Page, answers: dict[str, Any]
) -> tuple[list[str], str]:
    """Follow a Change link from "check your answers", answer, and go on as asked."""
    url = _page_url(reference, page.id) + "?return=check"
    return walk(client, url, form_definition, "en", answers)


# A draft left and resumed; a double submit


@pytest.mark.database  # the submission's compare-and-set and registry counter, on both databases
@pytest.mark.parametrize("slug", WITH_FORMS)
def test_a_draft_left_midway_resumes_on_its_first_unanswered_page_and_is_sent_once(
    portal, slug
) -> None:
    lang = "ar" if WITH_FORMS.index(slug) % 2 else "es"  # as the citizens do
    form_definition = definition(portal, slug)
    citizen = applicant(portal, f"resume-{slug}@example.es", lang)
    client = citizen.client
    first = start(client, lang, slug)
    halfway = max(1, len(asked(form_definition.pages, {})) // 2)
    answered, next_url = walk(client, first, form_definition, lang, pages=halfway)
    if next_url.endswith("/tasks"):
        next_url = first_pending_task(client, next_url)
    left_on = open_form(client, _page_url(reference_of(first), answered[-1], lang), lang)

    citizen.sign_out()
    citizen.sign_in()
    procedure_page = citizen.page(f"/{lang}/procedures/{slug}")
    resume = procedure_page.find(".//main//a[@class='button button--start']")
    assert resume is not None and resume.get("href").endswith(f"/{reference_of(first)}/")
    url = client.get(resume.get("href")).headers["Location"]
    if url.endswith("/tasks"):
        url = first_pending_task(client, url)
    assert url == next_url, "resumed elsewhere than the first unanswered page"
    again = open_form(client, left_on.url, lang)
    assert again.shown() == left_on.shown(), "the answers given before leaving are kept"
    assert reference_of(start(client, lang, slug)) == reference_of(first), "Start gives the draft"

    _answered_rest, check_url = walk(client, url, form_definition, lang)
    check = citizen.page(check_url)
    prefilled = [
        one.id
        for page_id in _listed(client, check_url)
        for one in form_definition.page(page_id).fields
        if one.prefill
    ]
    notes = check.findall(".//dd[@class='summary-list__value']/span[@class='hint']")
    assert len(notes) == len(prefilled), "each prefilled answer says where it came from"

    reference = reference_of(check_url)
    token = csrf_token(client, check_url)
    headers = {"Referer": f"https://localhost{check_url}"}
    submit_url = check_url.replace("/check", "/submit")
    first_press = client.post(submit_url, data={"csrf_token": token}, headers=headers)
    second_press = client.post(submit_url, data={"csrf_token": token}, headers=headers)
    confirmation = first_press.headers["Location"]
    assert second_press.headers["Location"] == confirmation
    number = re.search(r"REG-\d{4}-\d{6}", citizen.text(confirmation)).group(0)
    # Back to a question page and send it again, then press Send once more: all answered
    # by the same receipt.
    assert client.get(left_on.url).headers["Location"] == confirmation
    assert send(client, again, again.shown()).headers["Location"] == confirmation
    retry = client.post(submit_url, data={"csrf_token": token}, headers=headers)
    assert retry.headers["Location"] == confirmation
    with portal.app_context():
        application = db.session.scalar(
            select(Application).where(Application.reference == reference)
        )
        entries = db.session.scalar(
            select(func.count())
            .select_from(RegistryEntry)
            .where(RegistryEntry.application_id == application.id)
        )
        submitted = db.session.scalar(
            select(func.count())
            .select_from(TimelineEvent)
            .where(
                TimelineEvent.application_id == application.id, TimelineEvent.kind == "submitted"
            )
        )
        assert (entries, submitted, application.registry_entry.number) == (1, 1, number)
    receipts = [m for m in mailbox.messages(portal, citizen.email) if number in m["Subject"]]
    assert len(receipts) == 1, "one confirmation email"


# What the record holds is asked once (WCAG 3.3.7)


@pytest.mark.parametrize("slug", WITH_FORMS)
def test_no_form_asks_twice_for_what_the_record_holds(slug) -> None:
    procedure = CATALOGUE.get(slug)
    fields = [one for page in procedure.form.pages for one in page.fields]
    prefilled = [one.prefill for one in fields if one.prefill]
    tokens = [one.autocomplete for one in fields if one.autocomplete]
    assert len(prefilled) == len(set(prefilled)), prefilled
    assert len(tokens) == len(set(tokens)), tokens


# Rules particular to some procedures, written out


@dataclass(frozen=True)
class Refused:
    """The answer is refused with an error that says this."""

    message: str


def _day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


TODAY = _day(0)
#: slug → (page, answers posted, what happens: the answers stored, or why they are refused).
RULES: dict[str, list[tuple[str, dict[str, str], dict[str, Any] | Refused]]] = {
    "accessibility-parking-card": [
        ("previous_card", {"previous_card": ""}, {"previous_card": None}),  # a first card
        ("previous_card", {"previous_card": "T" * 21}, Refused("must be 20 characters or fewer")),
    ],
    "business-opening-notice": [
        ("floor_area", {"floor_area": "82,5"}, {"floor_area": "82.5"}),  # a decimal comma
        ("floor_area", {"floor_area": "750"}, {"floor_area": "750"}),
        ("floor_area", {"floor_area": "750.5"}, Refused("must be 750 or less")),
        ("floor_area", {"floor_area": "0.5"}, Refused("must be 1 or more")),
    ],
    "change-of-address": [
        ("move_date", {"move_date": TODAY}, {"move_date": TODAY}),
        ("move_date", {"move_date": _day(1)}, Refused("must be today or in the past")),
    ],
    "child-birth-benefit": [
        ("household_size", {"household_size": "1"}, Refused("must be 2 or more")),  # + the child
        ("household_size", {"household_size": "20"}, {"household_size": "20"}),
        (
            "iban",
            {"iban": "ES91 2100 0418 4502 0005 1332"},
            {"iban": "ES91 2100 0418 4502 0005 1332"},
        ),
        ("iban", {"iban": "FR7630006000011234567890189"}, Refused("Enter a Spanish IBAN")),
    ],
    "emergency-social-grant": [
        ("monthly_income", {"monthly_income": "0"}, {"monthly_income": "0"}),  # no income
        ("monthly_income", {"monthly_income": "-1"}, Refused("must be 0 or more")),
        ("amount_requested", {"amount_requested": "350,75"}, {"amount_requested": "350.75"}),
    ],
    "general-application": [
        ("subject", {"subject": "s" * 150}, {"subject": "s" * 150}),
        ("subject", {"subject": "s" * 151}, Refused("must be 150 characters or fewer")),
        ("request", {"request": "r" * 4000}, {"request": "r" * 4000}),
        ("request", {"request": "r" * 4001}, Refused("must be 4000 characters or fewer")),
    ],
    "residents-parking-permit": [
        ("plate", {"plate": "1234-BCD"}, {"plate": "1234-BCD"}),
        ("plate", {"plate": "M 1234 AB"}, {"plate": "M 1234 AB"}),  # plates from before 2000
        ("plate", {"plate": "1234 AEI"}, Refused("Enter the registration number as it appears")),
    ],
    "sports-centre-membership": [
        ("start_date", {"start_date": TODAY}, {"start_date": TODAY}),
        ("start_date", {"start_date": _day(-1)}, Refused("must be today or in the future")),
    ],
    "tax-clearance-certificate": [
        ("company", {"company_cif": "B1234567J"}, {"company_cif": "B1234567J"}),
        ("company", {"company_cif": "I12345678"}, Refused("Enter a valid company tax number")),
    ],
}


@pytest.mark.parametrize("slug", sorted(RULES))
def test_rules_particular_to_a_procedure(portal, slug) -> None:
    form_definition = definition(portal, slug)
    citizen = applicant(portal, f"rules-{slug}@example.es")
    reference = reference_of(start(citizen.client, "en", slug))
    for page_id, answers, outcome in RULES[slug]:
        _draft_reaching(portal, slug, reference, page_id)
        form = open_form(citizen.client, _page_url(reference, page_id), "en")
        response = send(citizen.client, form, page_data(form_definition.page(page_id), answers))
        if isinstance(outcome, Refused):
            assert response.status_code == 200, (page_id, answers, outcome)
            summary = read(response.get_data(as_text=True)).find(".//div[@class='error-summary']")
            assert outcome.message in text_of(summary), (page_id, answers, text_of(summary))
        else:
            assert response.status_code == 302, (page_id, answers)
            stored = _stored(portal, reference)
            assert {key: stored.get(key) for key in outcome} == outcome, (page_id, answers)


def _draft_reaching(portal: Flask, slug: str, reference: str, page_id: str) -> None:
    """The draft answered up to (not including) ``page_id``, with that page asked."""
    from procedures import catalogue, samples

    with portal.test_request_context("/en/"):
        application = db.session.scalar(
            select(Application).where(Application.reference == reference)
        )
        application.answers = {}
        samples.fill(application, catalogue.get(slug), stop_at=page_id)
        db.session.commit()


def test_a_file_over_10_mb_is_refused_and_the_page_keeps_its_answers(portal) -> None:
    """The size limit, once (the same check stores every file): a scan too big to keep."""
    citizen = applicant(portal, "big-file@example.es")
    reference = reference_of(start(citizen.client, "en", "change-of-address"))
    _draft_reaching(portal, "change-of-address", reference, "proof_of_address")
    form = open_form(citizen.client, _page_url(reference, "proof_of_address"), "en")
    scan = PDF + b"0" * (10 * 1024 * 1024)
    data = {"proof_of_address__how": "upload", "proof_of_address": (io.BytesIO(scan), "scan.pdf")}
    too_big = WrongAnswer(
        definition(portal, "change-of-address").field("proof_of_address"),
        "over 10 MB",
        data,
        "The selected file must be smaller than 10 MB",
        "proof_of_address",
    )
    response = send(citizen.client, form, data)
    response.request.input_stream.close()  # the test client spools a big body to a file
    _refused(response, form.url, [too_big], data)
    assert "proof_of_address" not in _stored(portal, reference)
