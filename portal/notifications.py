"""Notifications: what we tell a citizen about their cases, in the folder and by email.

A notification is written in the same transaction as the change it reports (a receiver of
``procedures.signals``), so a rolled-back change leaves no notice of something that did
not happen. It keeps its texts in every language (the procedure's title, the new status),
so the inbox reads in whatever language the citizen browses in, while the email goes in
the language they chose for us to write to them.

Requests for information and decisions are *formal notifications* (Ley 39/2015 arts. 40
to 43): the inbox names them, but their content shows only once the citizen opens them,
and that moment is recorded (``opened_at``) and shown on the case's timeline, because the
legal effects run from it. Left unopened ten days, the law counts them as rejected; the
page says so. Their email is only a notice that something waits in the folder (art. 41.6).

A notification's email is written to the outbox (``portal.outbox``) with it, in the same
transaction, so a rolled-back change sends nothing and a committed one cannot lose its
email; ``emailed_at`` says when it was handed to the outbox, which sends it.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import ForeignKey, Index, String, Text, delete, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from identity import signals as identity_signals
from identity.models import Account, UTCDateTime, utcnow
from portal import i18n, mail, outbox
from portal.extensions import db
from portal.i18n import writing_in
from procedures import signals
from procedures.definitions import Procedure
from procedures.models import Application, IssuedDocument, TimelineEvent

log = logging.getLogger(__name__)

PAGE_SIZE = 20
#: Ley 39/2015 art. 43.2: a formal notification not opened in ten calendar days is rejected.
FORMAL_DAYS = 10


@dataclass(frozen=True)
class Kind:
    label: LazyString
    hint: LazyString
    formal: bool
    #: Whether we email it to a citizen who has not said otherwise.
    email_by_default: bool = True


KINDS: dict[str, Kind] = {
    "request": Kind(
        _l("Requests for information"),
        _l("When we need something from you to go on with an application."),
        formal=True,
    ),
    "decision": Kind(
        _l("Decisions"),
        _l("When we decide on an application."),
        formal=True,
    ),
    "status": Kind(
        _l("Changes of status"),
        _l("When an application moves on, for example when we start reviewing it."),
        formal=False,
    ),
    "reply": Kind(
        _l("Replies to complaints and suggestions"),
        _l("When we reply to a complaint, suggestion or thank-you you sent us."),
        formal=False,
    ),
    "document": Kind(
        _l("New documents"),
        _l("When we issue a certificate or another document for you."),
        formal=False,
    ),
    "survey": Kind(
        _l("Questions about our service"),
        _l("When we close an application, we ask how we did. Answering is optional."),
        formal=False,
    ),
}


class Notification(db.Model):  # type: ignore[name-defined]
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_account_read", "account_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Random and public (in URLs), so ids are never shown.
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(20))
    formal: Mapped[bool] = mapped_column(default=False)
    #: reference, and per language: procedure (its title), status, document (its title).
    params: Mapped[dict[str, Any]] = mapped_column(db.JSON, default=dict)
    #: What staff wrote, in the citizen's language (a request's message, a decision's reasons).
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Formal notifications: when the citizen first opened it (the legal effects run from it).
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Decided when written, from the citizen's preference at that time.
    email_wanted: Mapped[bool] = mapped_column(default=False)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def reference(self) -> str:
        return str(self.params.get("reference", ""))

    def text(self, key: str, lang: str) -> str:
        texts = self.params.get(key) or {}
        return str(texts.get(lang) or texts.get("es") or next(iter(texts.values()), ""))

    def headline(self, lang: str) -> str:
        """The one line that names it, in ``lang`` (the inbox, the email subject)."""
        title = self.text("procedure", lang)
        if self.kind == "request":
            return _("We need information about your application “%(title)s”", title=title)
        if self.kind == "decision":
            return _("We have decided on your application “%(title)s”", title=title)
        if self.kind == "document":
            return _("A new document is ready: %(title)s", title=self.text("document", lang))
        if self.kind == "reply":
            return _("We have replied to your message “%(title)s”", title=title)
        if self.kind == "survey":
            return _("How did we do with your application “%(title)s”?", title=title)
        return _(
            "Your application “%(title)s” is now: %(status)s",
            title=title,
            status=self.text("status", lang),
        )

    def reject_after(self) -> datetime:
        return self.created_at + timedelta(days=FORMAL_DAYS)

    @property
    def sealed(self) -> bool:
        """A formal notification not yet opened: its content is not shown until it is."""
        return self.formal and self.opened_at is None


class NotificationPreference(db.Model):  # type: ignore[name-defined]
    """Whether the citizen wants an email for one kind; no row means the kind's default."""

    __tablename__ = "notification_preferences"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    email: Mapped[bool]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# Preferences ---------------------------------------------------------------------------


def email_preferences(account_id: int) -> dict[str, bool]:
    chosen = dict(
        db.session.execute(
            select(NotificationPreference.kind, NotificationPreference.email).where(
                NotificationPreference.account_id == account_id
            )
        ).all()
    )
    return {key: chosen.get(key, kind.email_by_default) for key, kind in KINDS.items()}


def set_email_preferences(account_id: int, wanted: set[str]) -> None:
    """Email the kinds in ``wanted`` and no others. The caller commits."""
    existing = {
        row.kind: row
        for row in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.account_id == account_id)
        )
    }
    for key in KINDS:
        row = existing.get(key)
        if row is None:
            db.session.add(
                NotificationPreference(account_id=account_id, kind=key, email=key in wanted)
            )
        elif row.email != (key in wanted):
            row.email = key in wanted
            row.updated_at = utcnow()


# Writing -------------------------------------------------------------------------------


def in_every_language(text: Any) -> dict[str, str]:
    return {lang: text(lang) for lang in i18n.LANGUAGES}


def notify(
    account_id: int,
    kind: str,
    params: dict[str, Any],
    application_id: int | None = None,
    body: str | None = None,
    at: datetime | None = None,
) -> Notification:
    """Write a notification in the caller's transaction; its email leaves after the commit."""
    spec = KINDS[kind]
    row = Notification(
        public_id=secrets.token_urlsafe(16),
        account_id=account_id,
        application_id=application_id,
        kind=kind,
        formal=spec.formal,
        params=params,
        body=body or None,
        created_at=at or utcnow(),
        email_wanted=email_preferences(account_id)[kind],
    )
    db.session.add(row)
    db.session.flush()
    if row.email_wanted:
        _enqueue_email(row, row.created_at)
    return row


def kind_of(event: TimelineEvent, procedure: Procedure) -> str | None:
    """Which notification a timeline event makes, if any: the citizen's own steps make none."""
    if event.actor == "citizen" or event.to_state is None:
        return None
    if event.kind == "information_requested":
        return "request"
    if event.to_state == "answered":  # a complaint's reply (workflows/complaints.yaml)
        return "reply"
    state = procedure.workflow.states.get(event.to_state)
    if state is not None and state.clock == "stopped" and event.to_state != "closed":
        return "decision"
    return "status"


def _on_case_changed(
    application: Application, procedure: Procedure, event: TimelineEvent, **_: Any
) -> None:
    kind = kind_of(event, procedure)
    if kind is None or application.account_id is None:
        return
    state = procedure.workflow.states[event.to_state]  # type: ignore[index]
    notify(
        application.account_id,
        kind,
        {
            "reference": application.reference,
            "procedure": in_every_language(lambda lang: procedure.text(lang).title),
            "status": in_every_language(state.citizen),
        },
        application_id=application.id,
        body=event.reason,
        at=event.at,
    )


def _on_document_issued(document: IssuedDocument, **_: Any) -> None:
    if document.account_id is None:
        return
    application = db.session.get(Application, document.application_id)
    notify(
        document.account_id,
        "document",
        {
            "reference": application.reference if application else "",
            "csv": document.csv,
            "document": dict(document.title or {}),
        },
        application_id=document.application_id,
        at=document.issued_at,
    )


# Reading -------------------------------------------------------------------------------


def inbox(
    account_id: int, unread_only: bool = False, kind: str | None = None, page: int = 1
) -> tuple[list[Notification], int]:
    """One page of the inbox, unread first, then newest first; and how many match."""
    conditions = [Notification.account_id == account_id]
    if unread_only:
        conditions.append(Notification.read_at.is_(None))
    if kind in KINDS:
        conditions.append(Notification.kind == kind)
    total = db.session.scalar(select(func.count()).where(*conditions)) or 0
    rows = db.session.scalars(
        select(Notification)
        .where(*conditions)
        .order_by(
            Notification.read_at.is_not(None),
            Notification.created_at.desc(),
            Notification.id.desc(),
        )
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return list(rows), total


def unread_count(account_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count()).where(
                Notification.account_id == account_id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def find(account_id: int, public_id: str) -> Notification | None:
    """The citizen's own notification; None for anyone else's (the view answers 404)."""
    return db.session.scalar(
        select(Notification).where(
            Notification.public_id == public_id, Notification.account_id == account_id
        )
    )


def open_notification(notification: Notification, now: datetime | None = None) -> None:
    """The citizen reads it: marked read; a formal one records, once, when it was opened, on
    the case's timeline too. The caller commits."""
    now = now or utcnow()
    if notification.read_at is None:
        notification.read_at = now
    if not notification.formal or notification.opened_at is not None:
        return
    claimed = db.session.execute(
        update(Notification)
        .where(Notification.id == notification.id, Notification.opened_at.is_(None))
        .values(opened_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    notification.opened_at = now
    if claimed and notification.application_id is not None:
        db.session.add(
            TimelineEvent(
                application_id=notification.application_id,
                at=now,
                kind="notification_opened",
                actor="citizen",
                actor_account_id=notification.account_id,
            )
        )


def mark_all_read(account_id: int, now: datetime | None = None) -> int:
    """Mark every unread notification read, except formal ones: only opening them counts."""
    return db.session.execute(
        update(Notification)
        .where(
            Notification.account_id == account_id,
            Notification.read_at.is_(None),
            Notification.formal.is_(False),
        )
        .values(read_at=now or utcnow())
    ).rowcount


def mark_unread(notification: Notification) -> None:
    notification.read_at = None


# Email ---------------------------------------------------------------------------------


def email_of(notification: Notification, account: Account) -> mail.Email:
    lang = account.language if account.language in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE
    with writing_in(lang):
        subject = (
            _("You have a formal notification")
            if notification.formal
            else notification.headline(lang)
        )
        context = {
            "subject": subject,
            "lang": lang,
            "notification": notification,
            "link": mail.public_url(
                "folder.notification", lang=lang, public_id=notification.public_id
            ),
            "reject_after": notification.reject_after(),
        }
        text = render_template("folder/email/notification.txt", **context)
        html = render_template("folder/email/notification.html", **context)
    return mail.Email(to=account.email, subject=subject, text=text, html=html, language=lang)


def _enqueue_email(notification: Notification, now: datetime) -> bool:
    """Hand the email to the outbox, in the caller's transaction; False for an account that
    has gone (its notifications go with it)."""
    account = db.session.get(Account, notification.account_id)
    if account is None or account.deleted_at is not None:
        return False
    outbox.enqueue(email_of(notification, account), f"notification.{notification.kind}")
    notification.emailed_at = now
    return True


def enqueue_unsent(now: datetime | None = None) -> int:
    """Hand to the outbox the emails of notifications written before it existed (sent after
    the commit then, and left unsent when the mail server refused them). Each is claimed
    with a conditional UPDATE in the transaction that enqueues it, so it goes once. Run by
    the worker; a no-op once those are gone."""
    now = now or utcnow()
    handed = 0
    ids = db.session.scalars(
        select(Notification.id)
        .where(Notification.email_wanted.is_(True), Notification.emailed_at.is_(None))
        .order_by(Notification.id)
        .limit(500)
    ).all()
    for notification_id in ids:
        claimed = db.session.execute(
            update(Notification)
            .where(Notification.id == notification_id, Notification.emailed_at.is_(None))
            .values(emailed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        notification = db.session.get(Notification, notification_id) if claimed else None
        if notification is not None and _enqueue_email(notification, now):
            handed += 1
        db.session.commit()
    return handed


def forget(account: Account, **_: Any) -> None:
    """The account is closing: its notifications and preferences go. The caller commits."""
    for model in (Notification, NotificationPreference):
        db.session.execute(delete(model).where(model.account_id == account.id))


def init_app(app: Flask) -> None:
    identity_signals.account_closing.connect(forget)
    signals.case_changed.connect(_on_case_changed)
    signals.document_issued.connect(_on_document_issued)
