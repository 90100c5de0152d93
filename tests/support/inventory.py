"""The route inventory: every GET route of the portal and how a test reaches it.

``tests/web/test_routes.py`` fails when the app gains a GET route that is not
listed here, so a new page cannot skip the page checks and the axe run, which
both iterate over ``HTML_PAGES``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import url_for

from portal.i18n import LANGUAGES
from procedures.definitions import Page as FormPage
from procedures.definitions import Procedure, load_catalogue

#: Every page is checked by axe at a desktop width and at 320 CSS px (WCAG 1.4.10 reflow).
WIDTHS = (1280, 320)
NARROW = (320,)


@dataclass(frozen=True)
class Page:
    """One way to reach a GET route: its endpoint, URL values and what it answers."""

    endpoint: str
    values: dict[str, str] = field(default_factory=dict)
    #: "html" pages get the page check and axe in every language.
    kind: str = "html"
    status: int = 200
    #: A short name for test ids ("home", "accessibility").
    name: str = ""
    #: The state the browser must be in first (tests/support/testing_routes.py ``state``):
    #: signed_in, pending (password done), enrolling, new_codes, check_email,
    #: reset_password or not_me (a valid link); draft or submitted (an application);
    #: appointment (one booked).
    state: str | None = None
    #: Posting the page's form empty shows its error state (checked by axe too).
    submit_empty: bool = False
    #: The viewport widths axe checks it at (reflow is checked at 320 px whatever this says).
    widths: tuple[int, ...] = WIDTHS

    @property
    def id(self) -> str:
        return self.name or self.endpoint.split(".")[-1]


def path(page: Page, lang: str | None) -> str:
    """The URL that reaches ``page`` (through its state, if it needs one); in a request context."""
    values = {**page.values, **({"lang": lang} if lang else {})}
    if page.state is None:
        return url_for(page.endpoint, **values)
    query = urlencode({"endpoint": page.endpoint, **page.values})
    return f"/{lang or 'es'}/_test/state/{page.state}?{query}"


#: Every valid definition: what the catalogue serves, so the pages below follow the files.
CATALOGUE = load_catalogue()
PROCEDURES = tuple(sorted(procedure.slug for procedure in CATALOGUE))


def consultation_page_ids(procedure: Procedure) -> tuple[str, ...]:
    """The art. 28 pages the form engine adds after a procedure's own (``procedures.
    applications``): objecting to the checks, then an upload for each objection. Named
    here, not built, because building them needs a request (their texts are gettext's);
    a rename there fails every one of these pages' checks."""
    if not procedure.consultations:
        return ()
    return ("consultations", *(f"consultations_{item.id}" for item in procedure.consultations))


def _shows_errors_when_sent_as_shown(page: FormPage) -> bool:
    """Whether a browser that sends the page as the ``draft`` state shows it gets errors:
    a required question is empty (the state's account holds only a verified email)."""
    return any(not one.optional and one.prefill != "email" for one in page.fields)


def _shape(page: FormPage) -> tuple[object, ...]:
    """What the question template draws for a page, whatever its words say."""
    return (
        page.title is None,
        tuple(
            (
                one.type,
                one.optional,
                bool(one.hint),
                bool(one.prefill),
                one.width,
                one.may_be_already_provided,
            )
            for one in page.fields
        ),
    )


def application_pages() -> list[Page]:
    """Every question page of every procedure's form (its art. 28 pages too), the task list
    of a form in sections, and check your answers: each empty, as a draft reaches it, and,
    where sending it as shown is refused, with its errors.

    One question template draws them all, so the first page of each shape (its fields'
    types, hints, widths, optional and prefilled questions) is checked at both widths and
    the rest at 320 px only, where reflow is checked too: see tests/browser/
    test_accessibility.py, which would otherwise spend most of CI's time here."""
    pages: list[Page] = []
    shapes: set[tuple[object, ...]] = set()
    for procedure in sorted(CATALOGUE, key=lambda one: one.slug):
        if procedure.form is None:
            continue
        slug = procedure.slug
        for page in procedure.form.pages:
            shape = _shape(page)
            pages.append(
                Page(
                    "applications.page",
                    {"procedure": slug, "page_id": page.id},
                    name=f"apply-{slug}-{page.id}",
                    state="draft",
                    submit_empty=_shows_errors_when_sent_as_shown(page),
                    widths=WIDTHS if shape not in shapes else NARROW,
                )
            )
            shapes.add(shape)
        for number, page_id in enumerate(consultation_page_ids(procedure)):
            shape = ("art. 28 upload" if number else "art. 28 objections",)  # the engine's own
            pages.append(
                Page(
                    "applications.page",
                    {"procedure": slug, "page_id": page_id},
                    name=f"apply-{slug}-{page_id}",
                    state="draft",
                    submit_empty=number > 0,  # objecting is optional; each upload is not
                    widths=WIDTHS if shape not in shapes else NARROW,
                )
            )
            shapes.add(shape)
        sections = procedure.form.sections
        if len(sections) >= 2:  # started, one section done: every status a task shows
            second = next(page for page in procedure.form.pages if page.section == sections[1])
            pages.append(
                Page(
                    "applications.tasks",
                    {"procedure": slug, "page_id": second.id},
                    name=f"tasks-{slug}",
                    state="draft",
                )
            )
        pages.append(
            Page("applications.check", {"procedure": slug}, name=f"check-{slug}", state="draft")
        )
    return pages


INVENTORY: list[Page] = [
    Page("root", kind="redirect", status=302),
    Page("static", {"filename": "css/portal.css"}, kind="static"),
    Page("observability.healthz", kind="json"),
    Page("observability.readyz", kind="json"),
    # Not there without METRICS_TOKEN (tests/web/test_observability.py sets one).
    Page("observability.prometheus_metrics", kind="text", status=404),
    Page("pages.home"),
    Page("pages.accessibility"),
    Page("pages.privacy"),
    Page("pages.cookies"),
    Page("pages.contact"),
    # Identity: anonymous pages
    Page("identity.create_account", submit_empty=True),
    Page("identity.check_email", state="check_email"),
    Page("identity.verify_email", {"token": "not-a-token"}, status=400),
    Page("identity.sign_in", submit_empty=True),
    Page("identity.forgot_password", submit_empty=True),
    Page("identity.forgot_password_sent", state="check_email"),
    Page("identity.reset_password", state="reset_password", submit_empty=True),
    Page("identity.reset_password", {"token": "used"}, status=400, name="reset_password_bad_link"),
    Page("identity.not_me", state="not_me"),
    Page("identity.account_secured"),
    Page("identity.account_deleted"),
    Page("identity.confirm_email_change", {"token": "not-a-token"}, status=400),
    # Half-way through signing in
    Page("identity.second_factor_code", state="pending", submit_empty=True),
    Page("identity.second_factor_key", state="pending"),
    Page("identity.second_factor_recovery", state="pending", submit_empty=True),
    # Setting up the first method
    Page("identity.choose_method", state="enrolling", submit_empty=True),
    Page("identity.set_up_app", state="enrolling", submit_empty=True),
    Page("identity.set_up_key", {"kind": "passkey"}, state="enrolling", name="set_up_passkey"),
    Page(
        "identity.set_up_key",
        {"kind": "security-key"},
        state="enrolling",
        name="set_up_security_key",
    ),
    Page("identity.new_recovery_codes", state="new_codes", submit_empty=True),
    Page("identity.download_recovery_codes", state="new_codes", kind="text"),
    # Signed in
    Page("identity.account", state="signed_in"),
    Page("identity.reauthenticate", state="signed_in", submit_empty=True),
    Page("identity.change_password", state="signed_in", submit_empty=True),
    Page("identity.change_email", state="signed_in", submit_empty=True),
    Page("identity.change_email_sent", state="signed_in"),
    Page("identity.preferences", state="signed_in"),
    Page("identity.list_sessions", state="signed_in"),
    Page("identity.history", state="signed_in"),
    # OpenID Connect: what agencies' servers read, and the pages citizens see on the way.
    Page("oidc.discovery", kind="json"),
    Page("oidc.jwks", kind="json"),
    Page("oidc.userinfo", kind="json", status=401),
    Page("oidc.authorize_entry", kind="redirect", status=302),
    Page("oidc.end_session", kind="redirect", status=302),
    Page("oidc.connect", name="connect-bad-link", status=400),
    Page("oidc.connect", name="consent", state="connect"),
    Page(
        "oidc.connect",
        {"acr": "urn:portal-ciudadano:acr:phishing-resistant"},
        name="consent-unmet",
        state="connect",
    ),
    Page("oidc.sign_out", name="oidc-sign-out", state="signed_in"),
    Page("oidc.signed_out"),
    Page("oidc.connected_services", name="connected-services-empty", state="signed_in"),
    Page("oidc.connected_services", name="connected-services", state="connected"),
    Page("identity.recovery_codes", state="signed_in"),
    Page("identity.regenerate_recovery_codes", state="signed_in"),
    Page("identity.rename_method", {"factor_id": "0"}, state="signed_in"),
    Page("identity.remove_method", {"factor_id": "0"}, state="signed_in"),
    Page("identity.delete_account", state="signed_in", submit_empty=True),
]


# Procedures: the catalogue and every procedure's start page
INVENTORY += [
    Page("procedures.index"),
    Page("procedures.index", {"q": "padron"}, name="procedure-search"),
    Page("procedures.index", {"q": "zzzz"}, name="procedure-search-nothing"),
    Page("procedures.topic", {"topic": "housing"}),
    Page("procedures.life_event", {"event": "moving-house"}),
    *(
        Page("procedures.procedure", {"slug": slug}, name=f"procedure-{slug}")
        for slug in PROCEDURES
    ),
    Page(
        "procedures.procedure",
        {"slug": "change-of-address"},
        name="procedure-signed-in",
        state="signed_in",
    ),
]
# Applications: every page of every procedure's form, task lists and check your answers
# (application_pages), then the confirmation, the receipt and an uploaded file
INVENTORY += [
    *application_pages(),
    Page("applications.resume", state="draft", kind="redirect", status=200),
    Page("applications.confirmation", state="submitted"),
    Page("applications.withdraw", state="submitted"),
    Page("applications.receipt", state="submitted", kind="file"),
    Page("applications.download", {"file_id": "1"}, state="submitted", kind="file"),
]

# Appointments: the booking steps, the booked page, an appointment, changing and cancelling it
INVENTORY += [
    Page("appointments.index", state="signed_in", name="appointments-empty"),
    Page("appointments.index", state="appointment", name="appointments-one"),
    Page(
        "appointments.choose_office",
        {"service_key": "citizen-office"},
        state="signed_in",
        submit_empty=True,
    ),
    Page(
        "appointments.choose_office",
        {"service_key": "citizen-office"},
        state="appointment",
        name="appointments-already",
    ),
    Page(
        "appointments.choose_time",
        {"service_key": "citizen-office", "office_key": "north-district"},
        state="signed_in",
        submit_empty=True,
    ),
    Page(
        "appointments.confirm",
        {"service_key": "citizen-office", "office_key": "town-hall", "slot": "1"},
        state="appointment",
        name="appointments-confirm",
    ),
    Page("appointments.booked", state="appointment"),
    Page("appointments.detail", state="appointment"),
    Page("appointments.ics", state="appointment", kind="file"),
    Page("appointments.change", state="appointment", submit_empty=True),
    Page("appointments.confirm_change", {"slot": "1"}, state="appointment"),
    Page("appointments.cancel", state="appointment"),
]

# The personal folder, empty (a new citizen) and full (portal.folder.demo's busy history),
# and the public page where anyone checks a document's CSV
INVENTORY += [
    *(
        Page(endpoint, state=state, name=f"{endpoint.split('.')[-1]}-{label}")
        for endpoint in (
            "folder.overview",
            "folder.case_list",
            "folder.document_list",
            "folder.my_data",
            "folder.data_use_list",
            "folder.notification_list",
            "folder.export_page",
        )
        for state, label in (("signed_in", "empty"), ("folder", "full"))
    ),
    Page("folder.data_use_list", {"by": "staff"}, state="folder", name="data-use-staff"),
    Page("folder.data_use_list", {"by": "services"}, state="folder", name="data-use-services"),
    Page("folder.case", {"reference": "waiting"}, state="folder", name="case-waiting"),
    Page("folder.case", {"reference": "decided"}, state="folder", name="case-decided"),
    Page("folder.case", {"reference": "closed"}, state="folder", name="case-closed"),
    Page("folder.satisfaction_survey", {"reference": "closed"}, state="folder", submit_empty=True),
    Page("folder.answer", {"reference": "waiting"}, state="folder", submit_empty=True),
    Page("folder.correct", {"name": "address"}, state="folder", submit_empty=True),
    Page("folder.document", {"code": "certificate"}, state="folder", kind="file"),
    Page(
        "folder.notification_list",
        {"show": "unread", "kind": "request"},
        state="folder",
        name="notifications-filtered",
    ),
    Page(
        "folder.notification_list",
        {"kind": "status"},
        state="signed_in",
        name="notifications-none-match",
    ),
    Page("folder.notification", {"public_id": "formal"}, state="folder", name="formal-sealed"),
    Page("folder.notification", {"public_id": "notice"}, state="folder", name="notice"),
    Page("folder.notification_settings", state="folder"),
    Page("folder.export_json", state="folder", kind="file"),
    Page("folder.export_html", state="folder", kind="file"),
    Page("verify.verify", name="verify"),
    Page("verify.verify", {"code": "ABC"}, name="verify-malformed", status=400),
    Page("verify.verify", {"code": "AAAA-BBBB-CCCC-DDDD-EEEE"}, name="verify-unknown", status=404),
    Page("verify.verify", {"code": "certificate"}, state="folder", name="verify-authentic"),
    Page("verify.download", {"code": "certificate"}, state="folder", kind="file"),
]

# The back office: a supervisor holding a busy citizen's case, opened for a purpose
INVENTORY += [
    Page("backoffice.inbox", state="staff"),
    Page(
        "backoffice.inbox",
        {"assigned": "mine", "overdue": "1", "procedure": "change-of-address"},
        state="staff",
        name="inbox-none-match",
    ),
    Page("backoffice.inbox", state="staff_weak", status=403, name="staff-second-factor"),
    Page("backoffice.citizens", state="staff", submit_empty=True),
    Page("backoffice.citizen", {"account_id": "citizen"}, state="staff", name="staff-citizen"),
    Page("backoffice.counter_start", {"account_id": "citizen"}, state="staff", submit_empty=True),
    Page("backoffice.team_list", state="staff_admin", name="staff-team"),
    Page("backoffice.member_new", state="staff_admin", submit_empty=True),
    Page("backoffice.member", {"member_id": "colleague"}, state="staff_admin"),
    Page("backoffice.team_list", state="staff", status=403, name="staff-team-supervisor"),
    Page("backoffice.complaints_queue", state="staff", name="staff-complaints"),
    Page(
        "backoffice.case",
        {"reference": "complaint"},
        state="staff",
        name="staff-case-complaint",
    ),
    Page("backoffice.reply", {"reference": "complaint"}, state="staff", submit_empty=True),
    Page(
        "backoffice.opinions_queue", {"opinion_id": "asked"}, state="staff", name="staff-opinions"
    ),
    Page("backoffice.ask_opinion", {"reference": "waiting"}, state="staff", submit_empty=True),
    Page(
        "backoffice.give_opinion",
        {"reference": "waiting", "opinion_id": "asked"},
        state="staff",
        submit_empty=True,
    ),
    Page("backoffice.contact_list", state="staff", name="staff-contacts-empty"),
    Page("backoffice.contact_list", {"due": "1"}, state="staff", name="staff-contacts-due"),
    Page("backoffice.record_contact", state="staff", submit_empty=True),
    Page(
        "backoffice.record_contact",
        {"citizen": "citizen"},
        state="staff",
        name="record-contact-with",
        submit_empty=True,
    ),
    Page("backoffice.contact", {"contact_id": "call"}, state="staff", name="staff-contact"),
    Page("backoffice.open_contact", {"contact_id": "call"}, state="staff", submit_empty=True),
    Page(
        "applications.page",
        {"reference": "counter", "page_id": "items"},
        state="staff",
        name="counter-question",
        submit_empty=True,
    ),
    Page("backoffice.open_case", {"reference": "waiting"}, state="staff", submit_empty=True),
    Page("backoffice.case", {"reference": "waiting"}, state="staff", name="staff-case-waiting"),
    Page("backoffice.case", {"reference": "decided"}, state="staff", name="staff-case-decided"),
    Page(
        "backoffice.request_information",
        {"reference": "decided"},
        state="staff",
        submit_empty=True,
    ),
    Page("backoffice.note", {"reference": "waiting"}, state="staff", submit_empty=True),
    Page("backoffice.decide", {"reference": "decided"}, state="staff", submit_empty=True),
    Page("backoffice.close", {"reference": "waiting"}, state="staff"),
    Page(
        "backoffice.download",
        {"reference": "waiting", "file_id": "1"},
        state="staff",
        kind="file",
    ),
]

# The agency's figures, as a supervisor of the busy citizen's agency: the last 90 days, and
# dates that are wrong (the error summary), and the same figures as CSV
INVENTORY += [
    Page("backoffice.figures", state="staff"),
    Page(
        "backoffice.figures",
        {
            "first-day": "31",
            "first-month": "2",
            "first-year": "2025",
            "last-day": "1",
            "last-month": "",
            "last-year": "2025",
        },
        state="staff",
        name="figures-wrong-dates",
    ),
    Page("backoffice.figures_csv", state="staff", kind="file"),
]

HTML_PAGES = [page for page in INVENTORY if page.kind == "html"]
FORM_PAGES = [page for page in HTML_PAGES if page.submit_empty]

#: Error pages, reached through the test-only routes (tests/support/testing_routes.py).
ERROR_PATHS = {
    "400": "/{lang}/_test/error/400",
    "403": "/{lang}/_test/error/403",
    "404": "/{lang}/no-such-page",
    "405": "/{lang}/_test/post-only",
    "410": "/{lang}/_test/error/410",
    "500": "/{lang}/_test/error/500",
}

LANGUAGE_CODES = list(LANGUAGES)
