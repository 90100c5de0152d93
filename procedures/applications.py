"""Applications: drafts that fill themselves from the citizen record, the path through a
form's pages, and submission with its registry entry in one transaction.

Views call these functions and commit nothing themselves except through them, so a
submission is either wholly written (application, registry entry, first timeline event)
or not at all, and a second submission of the same draft finds it already done and
returns the same receipt.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from calendar import monthrange
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from identity import record
from identity.models import Account, utcnow
from portal.extensions import db
from procedures import abandonment, catalogue, documents, emails, segments, workflow
from procedures.definitions import (
    LANGUAGES,
    Condition,
    Field,
    Option,
    Page,
    Procedure,
    Text,
)
from procedures.models import (
    DRAFT,
    Application,
    DefinitionSnapshot,
    RegistryCounter,
    RegistryEntry,
    TimelineEvent,
)

DRAFT_LIFETIME = timedelta(days=30)
REMIND_BEFORE = timedelta(days=7)
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud on the phone


class IncompleteError(ValueError):
    """Submitted before every question was answered: ``page`` is the first one left."""

    def __init__(self, page: Page) -> None:
        super().__init__(page.id)
        self.page = page


def new_reference() -> str:
    raw = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(12))
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


_CONSULTATION_PAGES: dict[str, tuple[Page, ...]] = {}


def _consultation_pages(procedure: Procedure) -> tuple[Page, ...]:
    """Cached per definition text (built in six languages once, not per request)."""
    pages = _CONSULTATION_PAGES.get(procedure.sha256)
    if pages is None:
        pages = _CONSULTATION_PAGES[procedure.sha256] = _build_consultation_pages(procedure)
    return pages


def _build_consultation_pages(procedure: Procedure) -> tuple[Page, ...]:
    """Ley 39/2015 art. 28: one page to object to each check, and an upload page for each
    objection (the citizen then brings the document we would have fetched)."""
    if not procedure.consultations:
        return ()
    options = []
    for item in procedure.consultations:
        label = _every(
            lambda lang, item=item: _(
                "I object to you asking %(administration)s for %(data)s",
                administration=item.administration(lang),
                data=item.data(lang),
            )
        )
        options.append(Option(item.id, label))
    checks = Field(
        id="oppose_consultations",
        type="checkboxes",
        label=_every(lambda _lang: _("Do you object to any of these checks?")),
        hint=_every(
            lambda _lang: _(
                "To save you paperwork, we get these data from the administration that holds"
                " them (Ley 39/2015, article 28). If you object, you will have to upload the"
                " document yourself. Leave the boxes empty if you do not object."
            )
        ),
        optional=True,
        options=tuple(options),
    )
    pages = [Page("consultations", (checks,))]
    for item in procedure.consultations:
        label = _every(
            lambda lang, item=item: _("Upload %(document)s", document=item.document(lang))
        )
        upload = Field(id=f"oppose_{item.id}_document", type="file", label=label)
        pages.append(
            Page(
                f"consultations_{item.id}",
                (upload,),
                show_if=Condition("oppose_consultations", (item.id,)),
            )
        )
    section = procedure.form.pages[-1].section if procedure.form else None
    return tuple(Page(p.id, p.fields, p.title, section, p.show_if) for p in pages)


def _every(message: Callable[[str], str]) -> Text:
    """A gettext string in all six languages (``message`` gets the language, for content
    it names), for the pages the engine adds to a definition."""
    texts = {}
    for lang in LANGUAGES:
        with force_locale(lang):
            texts[lang] = message(lang)
    return Text(texts)


def all_pages(procedure: Procedure) -> tuple[Page, ...]:
    assert procedure.form is not None  # noqa: S101 - for the type checker; guaranteed by the caller
    return procedure.form.pages + _consultation_pages(procedure)


def find_page(procedure: Procedure, page_id: str) -> Page | None:
    return next((page for page in all_pages(procedure) if page.id == page_id), None)


def find_field(procedure: Procedure, field_id: str) -> Field | None:
    for page in all_pages(procedure):
        for one in page.fields:
            if one.id == field_id:
                return one
    return None


def visible_pages(procedure: Procedure, answers: dict[str, Any]) -> list[Page]:
    """The pages this citizen is asked, given their answers so far."""
    return [p for p in all_pages(procedure) if p.show_if is None or p.show_if.holds(answers)]


def is_answered(page: Page, answers: dict[str, Any]) -> bool:
    for one in page.fields:
        if one.optional:
            if one.id not in answers:
                return False  # not yet seen: an optional question is answered once saved
            continue
        value = answers.get(one.id)
        if value is None or value == "" or value == []:
            return False
    return True


def first_unanswered(procedure: Procedure, answers: dict[str, Any]) -> Page | None:
    return next((p for p in visible_pages(procedure, answers) if not is_answered(p, answers)), None)


def next_page(procedure: Procedure, page: Page, answers: dict[str, Any]) -> Page | None:
    pages = visible_pages(procedure, answers)
    ids = [p.id for p in pages]
    if page.id not in ids:
        return first_unanswered(procedure, answers)
    index = ids.index(page.id)
    return pages[index + 1] if index + 1 < len(pages) else None


def previous_page(procedure: Procedure, page: Page, answers: dict[str, Any]) -> Page | None:
    pages = visible_pages(procedure, answers)
    ids = [p.id for p in pages]
    if page.id not in ids or ids.index(page.id) == 0:
        return None
    return pages[ids.index(page.id) - 1]


def clean(procedure: Procedure, answers: dict[str, Any]) -> dict[str, Any]:
    """Only the answers to pages still asked: a changed answer can hide pages answered before."""
    keep = {one.id for page in visible_pages(procedure, answers) for one in page.fields}
    return {key: value for key, value in answers.items() if key in keep}


def snapshot_for(procedure: Procedure) -> DefinitionSnapshot:
    """The stored copy of this exact definition text, written the first time it is used."""
    found = db.session.scalar(
        select(DefinitionSnapshot).where(DefinitionSnapshot.sha256 == procedure.sha256)
    )
    if found is not None:
        return found
    snapshot = DefinitionSnapshot(
        slug=procedure.slug,
        version=procedure.version,
        sha256=procedure.sha256,
        source=procedure.source,
    )
    try:
        with db.session.begin_nested():
            db.session.add(snapshot)
    except IntegrityError:  # written meanwhile by another request
        return db.session.scalars(
            select(DefinitionSnapshot).where(DefinitionSnapshot.sha256 == procedure.sha256)
        ).one()
    return snapshot


def definition_of(application: Application) -> Procedure:
    """The definition the application was filled against, even if the file changed since."""
    current = catalogue.get(application.procedure_slug)
    if current is not None and current.sha256 == application.snapshot.sha256:
        return current
    return catalogue.from_snapshot(application.snapshot)


def current_draft(account: Account, procedure: Procedure) -> Application | None:
    return db.session.scalar(
        select(Application)
        .where(
            Application.account_id == account.id,
            Application.procedure_slug == procedure.slug,
            Application.status == DRAFT,
        )
        .order_by(Application.id.desc())
        .limit(1)
    )


def start(
    account: Account,
    procedure: Procedure,
    lang: str,
    now: datetime | None = None,
    assisted_by: int | None = None,
) -> Application:
    """The citizen's draft for this procedure: the one they left, or a new one filled from
    their record. Starting twice (a double click) gives the same draft.

    ``assisted_by`` is the staff member filling it in at a counter with the citizen present
    (counter mode): the draft is still the citizen's, and records who helped. A draft the
    citizen began online and brings to the counter becomes an assisted one."""
    existing = current_draft(account, procedure)
    if existing is not None:
        if assisted_by is not None:
            existing.channel, existing.assisted_by_account_id = "counter", assisted_by
            db.session.commit()
        return existing
    now = now or utcnow()
    held = record.attributes(account)
    answers: dict[str, Any] = {}
    provenance: dict[str, Any] = {}
    assert procedure.form is not None  # noqa: S101 - for the type checker; guaranteed by the caller
    for _page, one in procedure.form.fields():
        if one.prefill and one.prefill in held:
            attribute = held[one.prefill]
            answers[one.id] = attribute.value
            provenance[one.id] = {
                "source": attribute.source,
                "updated_at": attribute.updated_at.isoformat(),
                "verified": attribute.verified,
                "value": attribute.value,
            }
    application = Application(
        reference=new_reference(),
        account_id=account.id,
        procedure_slug=procedure.slug,
        snapshot=snapshot_for(procedure),
        status=DRAFT,
        language=lang,
        provenance=provenance,
        created_at=now,
        updated_at=now,
        expires_at=now + DRAFT_LIFETIME,
        channel="counter" if assisted_by is not None else "online",
        assisted_by_account_id=assisted_by,
    )
    application.answers = {}
    application.reached_page = reached_page(procedure, {})
    # Prefilled answers are offered, not yet given: they count once the page is saved.
    application.provenance = {**provenance, "_prefill": answers}
    db.session.add(application)
    db.session.commit()
    return application


def may_fill(application: Application, account_id: int) -> bool:
    """The citizen may fill in and follow their own application; the staff member who is
    helping them at a counter may too, while the back office still lets them (it is
    registered as ``app.extensions["counter_assistance"]``: staff, second factor, a
    recorded purpose for this case within the sitting). ``procedures`` knows nothing of
    staff, so that rule lives with them."""
    if application.account_id == account_id:
        return True
    if application.channel != "counter" or application.assisted_by_account_id != account_id:
        return False
    allowed = current_app.extensions.get("counter_assistance")
    return bool(allowed and allowed(application, account_id))


def owner_name(application: Application) -> str:
    """Whose application it is, by name (their email when the record holds none): what the
    staff member filling it in at a counter sees at the top of each page."""
    account = db.session.get(Account, application.account_id) if application.account_id else None
    if account is None:
        return ""
    held = record.attributes(account)
    names = [held[key].value for key in ("given_name", "family_name") if key in held]
    return " ".join(str(name) for name in names if name) or account.email


def reached_page(procedure: Procedure, answers: dict[str, Any]) -> str:
    """Where a draft stands, for the abandonment figures: the first page still to answer,
    or ``abandonment.CHECK`` when only checking and sending are left."""
    page = first_unanswered(procedure, answers)
    return page.id if page is not None else abandonment.CHECK


def prefilled(application: Application) -> dict[str, Any]:
    return dict((application.provenance or {}).get("_prefill") or {})


def save_page(
    application: Application,
    procedure: Procedure,
    page: Page,
    values: dict[str, Any],
    now: datetime | None = None,
) -> None:
    """Store a valid page's answers; the draft's life starts again from now."""
    now = now or utcnow()
    answers = application.answers
    answers.update(values)
    application.answers = clean(procedure, answers)
    application.reached_page = reached_page(procedure, application.answers)
    application.updated_at = now
    application.expires_at = now + DRAFT_LIFETIME
    application.reminded_at = None
    db.session.commit()


def _registry_number(year: int) -> tuple[int, str]:
    """The next number of the year's registry, atomically: two submissions never share one."""
    insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(RegistryCounter)
        .values(year=year, last=1)
        .on_conflict_do_update(
            index_elements=[RegistryCounter.year], set_={"last": RegistryCounter.last + 1}
        )
        .returning(RegistryCounter.last)
    )
    sequence = db.session.execute(statement).scalar_one()
    return sequence, f"REG-{year}-{sequence:06d}"


def fingerprint(answers: dict[str, Any], file_hashes: list[str]) -> str:
    """SHA-256 over exactly what was submitted: canonical JSON of answers and file hashes."""
    document = json.dumps(
        {"answers": answers, "files": sorted(file_hashes)}, sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(document.encode()).hexdigest()


def add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, monthrange(year, month)[1]))


def submit(
    application: Application,
    procedure: Procedure,
    now: datetime | None = None,
    by_account_id: int | None = None,
) -> Application:
    """Submit the draft: application, registry entry, timeline event and the receipt's email
    to the applicant (even when staff send it for them at a counter) in one transaction.

    Idempotent: a second call (double click, back and resubmit, retry after a time-out)
    finds the application no longer a draft and returns it with its first receipt.
    ``by_account_id`` is who pressed Send: the citizen, or the staff member assisting them
    at a counter, who is then the event's actor.
    """
    if not application.is_draft:
        return application
    answers = clean(procedure, application.answers)
    missing = first_unanswered(procedure, answers)
    if missing is not None:
        raise IncompleteError(missing)
    now = now or utcnow()
    claimed = db.session.execute(
        update(Application)
        .where(Application.id == application.id, Application.status == DRAFT)
        .values(status=procedure.workflow.initial, submitted_at=now)
    )
    if claimed.rowcount != 1:  # another request submitted it first
        db.session.rollback()
        db.session.refresh(application)
        return application
    zone_name = current_app.config.get("REGISTRY_TIME_ZONE", "Europe/Madrid")
    year = now.astimezone(ZoneInfo(zone_name)).year
    sequence, number = _registry_number(year)
    hashes = [f.sha256 for f in application.files if _file_kept(f.id, answers)]
    db.session.add(
        RegistryEntry(
            application_id=application.id,
            number=number,
            year=year,
            sequence=sequence,
            registered_at=now,
            time_zone=zone_name,
            sha256=fingerprint(answers, hashes),
        )
    )
    db.session.add(
        TimelineEvent(
            application_id=application.id,
            at=now,
            kind="submitted",
            to_state=procedure.workflow.initial,
            **_submitter(application, by_account_id),
        )
    )
    application.answers = answers
    application.age_band, application.district = segments.at_submission(
        application.account_id, now.astimezone(ZoneInfo(zone_name)).date()
    )
    application.expires_at = None
    application.reached_page = None  # a draft's place in the form: sent, it has none
    application.due_at = add_months(now, procedure.max_resolution_months)
    documents.issue_receipt(application, now)
    owner = db.session.get(Account, application.account_id) if application.account_id else None
    if owner is not None:
        db.session.flush()  # the registry entry, for the email
        emails.submitted(application, procedure, owner)
    db.session.commit()
    db.session.refresh(application)
    return application


def _submitter(application: Application, by_account_id: int | None) -> dict[str, Any]:
    if by_account_id is not None and by_account_id != application.account_id:
        return {"actor": "staff", "actor_account_id": by_account_id}
    return {"actor": "citizen", "actor_account_id": application.account_id}


def _file_kept(file_id: int, answers: dict[str, Any]) -> bool:
    return any(isinstance(v, dict) and v.get("file_id") == file_id for v in answers.values())


def can_withdraw(application: Application, procedure: Procedure) -> bool:
    return not application.is_draft and procedure.workflow.allows(
        application.status, "withdrawn", "citizen"
    )


def withdraw(
    application: Application, procedure: Procedure, reason: str | None, now: datetime | None = None
) -> bool:
    """The citizen withdraws (Ley 39/2015 art. 94) while the workflow allows it.

    If staff resolved it a moment ago, the compare-and-set in ``change_state`` refuses, and
    the withdrawal does not undo the decision."""
    if not can_withdraw(application, procedure):
        return False
    try:
        workflow.change_state(
            application,
            procedure,
            "withdrawn",
            "citizen",
            application.account_id,
            reason=reason,
            now=now,
        )
    except workflow.TransitionRefusedError:
        db.session.rollback()
        db.session.refresh(application)
        return False
    db.session.commit()
    db.session.refresh(application)
    return True


def drafts_to_remind(now: datetime | None = None) -> list[Application]:
    """Drafts that expire within a week and whose citizen has not been told yet."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(Application).where(
                Application.status == DRAFT,
                Application.reminded_at.is_(None),
                Application.account_id.is_not(None),
                Application.expires_at <= now + REMIND_BEFORE,
                Application.expires_at > now,
            )
        )
    )


def delete_expired_drafts(now: datetime | None = None) -> int:
    now = now or utcnow()
    expired = list(
        db.session.scalars(
            select(Application).where(Application.status == DRAFT, Application.expires_at <= now)
        )
    )
    from procedures import uploads

    for application in expired:
        abandonment.record(application)
        uploads.delete_all(application)
        db.session.delete(application)
    db.session.commit()
    return len(expired)


def forget_drafts(account: Account, **_: object) -> None:
    """The account is closing: its drafts go (with their files); what was submitted stays,
    as the administration's record. The caller commits."""
    from procedures import uploads

    drafts = db.session.scalars(
        select(Application).where(Application.account_id == account.id, Application.status == DRAFT)
    ).all()
    for application in drafts:
        abandonment.record(application)
        uploads.delete_all(application)
        db.session.delete(application)
