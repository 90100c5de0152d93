"""A busy folder: the history a citizen has after a few months with us.

``make run`` loads it for the demo citizen, and tests and axe use it for the folder's
"full" state: a case waiting for the citizen, one being reviewed, one decided with its
certificate, a draft about to expire, staff reads and an agency sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import case, select, update

from identity import events
from identity.events import EventKind
from identity.models import Account, utcnow
from portal import audit, outbox
from portal.extensions import db
from portal.notifications import Notification
from procedures import applications, catalogue, documents, samples, workflow
from procedures.definitions import LANGUAGES
from procedures.models import Application


@dataclass(frozen=True)
class History:
    #: The case waiting for the citizen's answer.
    waiting: str
    #: The case being reviewed (by the education department).
    reviewed: str
    #: The decided case, and the CSV of its certificate.
    decided: str
    certificate: str
    #: A closed case whose satisfaction survey waits for an answer.
    closed: str
    #: The public ids of the formal request (not yet opened) and of the certificate's notice.
    formal_notification: str
    notification: str


def submitted(account: Account, slug: str, lang: str, when: datetime) -> Application:
    procedure = catalogue.get(slug)
    assert procedure is not None  # noqa: S101 - shipped procedures
    application = applications.start(account, procedure, lang)
    samples.fill(application, procedure)
    return applications.submit(application, procedure, now=when)


def _in_every_language(message: LazyString) -> dict[str, str]:
    texts = {}
    for lang in LANGUAGES:
        with force_locale(lang):
            texts[lang] = str(message)
    return texts


CERTIFICATE_TITLE = _l("Certificate of being up to date with local taxes")
CERTIFICATE_BODY = _l(
    "The Villanueva Local Tax Office certifies that, on the date of issue, the holder of "
    "this certificate has no overdue debts with the City Council."
)


def busy(account: Account, lang: str, now: datetime | None = None) -> History:
    """Give ``account`` a busy history; the caller commits."""
    now = now or utcnow()
    waiting = submitted(account, "change-of-address", lang, now - timedelta(days=9))
    procedure = applications.definition_of(waiting)
    workflow.request_information(
        waiting,
        procedure,
        _(
            "Please send us your signed tenancy agreement: the copy you attached "
            "has no signature on the last page."
        ),
        None,
        now=now - timedelta(days=2),
    )
    reviewed = submitted(account, "school-grant", lang, now - timedelta(days=20))
    workflow.change_state(
        reviewed,
        applications.definition_of(reviewed),
        "in_review",
        "staff",
        None,
        now=now - timedelta(days=18),
    )
    decided = submitted(account, "tax-clearance-certificate", lang, now - timedelta(days=40))
    decided_procedure = applications.definition_of(decided)
    for target in ("in_review", "resolved_favourable"):
        workflow.change_state(
            decided, decided_procedure, target, "staff", None, now=now - timedelta(days=35)
        )
    certificate = documents.issue(
        decided,
        "certificate",
        _in_every_language(CERTIFICATE_TITLE),
        {code: [text] for code, text in _in_every_language(CERTIFICATE_BODY).items()},
        now=now - timedelta(days=35),
    )
    before_closed = set(outbox.enqueued())
    closed = submitted(account, "bulky-waste-collection", lang, now - timedelta(days=60))
    closed_procedure = applications.definition_of(closed)
    for days_ago, target in ((58, "in_review"), (55, "resolved_favourable"), (50, "closed")):
        workflow.change_state(
            closed, closed_procedure, target, "staff", None, now=now - timedelta(days=days_ago)
        )
    # Long since emailed (out of the outbox too) and read (the decision opened), though
    # the survey went unanswered.
    outbox.withdraw(set(outbox.enqueued()) - before_closed)
    seen = now - timedelta(days=49)
    db.session.execute(
        update(Notification)
        .where(Notification.application_id == closed.id)
        .values(
            emailed_at=Notification.created_at,
            read_at=seen,
            opened_at=case((Notification.formal.is_(True), seen), else_=None),
        )
        .execution_options(synchronize_session=False)
    )
    draft_procedure = catalogue.get("residents-parking-permit")
    assert draft_procedure is not None  # noqa: S101 - shipped procedures
    draft = applications.start(account, draft_procedure, lang)
    draft.expires_at = now + timedelta(days=4)
    reads = (
        (8, "city-council", "Padrón", "case", waiting.reference, "case_handling"),
        (36, "tax-office", "Recaudación", "record", "", "document"),
    )
    for days_ago, agency, unit, what, reference, purpose in reads:
        audit.record_access(
            viewer_account_id=None,
            citizen_account_id=account.id,
            agency=agency,
            unit=unit,
            role="caseworker",
            what=what,
            reference=reference,
            purpose=purpose,
            at=now - timedelta(days=days_ago),
        )
    shared = events.record(
        account,
        EventKind.DATA_SHARED,
        name="Agencia Tributaria de demostración",
        scope=["openid", "profile", "email"],
    )
    shared.occurred_at = now - timedelta(days=1)
    db.session.flush()
    request = db.session.scalar(
        select(Notification.public_id).where(
            Notification.application_id == waiting.id, Notification.kind == "request"
        )
    )
    notice = db.session.scalar(
        select(Notification.public_id).where(
            Notification.application_id == decided.id, Notification.kind == "document"
        )
    )
    return History(
        waiting.reference,
        reviewed.reference,
        decided.reference,
        certificate.csv,
        closed.reference,
        request,
        notice,
    )


def load() -> list[str]:
    """``flask demo load``: the demo citizen's folder, once (safe to run again)."""
    from flask import current_app
    from sqlalchemy import func

    from identity import accounts
    from identity.demo import EMAIL

    account = accounts.find_by_email(EMAIL)
    if account is None:
        return []
    has_cases = db.session.scalar(
        select(func.count()).select_from(Application).where(Application.account_id == account.id)
    )
    if not has_cases:
        # Links printed on documents need a URL outside any request: PUBLIC_URL's.
        with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
            busy(account, account.language)
            db.session.commit()
    return ["  Her folder (/es/folder/) holds cases, a certificate and who used her data."]
