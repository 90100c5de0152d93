"""Moving a case between the states of its workflow, with the legal clock (Ley 39/2015).

The clock runs from submission; it pauses while we wait for the citizen (art. 22.1.a), and
the deadline moves later by exactly the time it was paused; a resolution stops it. Each
move is a timeline event with its actor and reason, claimed with a compare-and-set so two
people acting at once cannot both move the case from the same state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from werkzeug.datastructures import FileStorage

from identity.models import utcnow
from portal.extensions import db
from procedures import signals, uploads
from procedures.definitions import Procedure
from procedures.models import Application, ApplicationFile, TimelineEvent

#: The field id under which files sent in answer to a request are kept.
RESPONSE_FILES = "_response"


class TransitionRefusedError(ValueError):
    """The workflow does not allow this move now (or someone moved the case first)."""


def change_state(
    application: Application,
    procedure: Procedure,
    target: str,
    by: str,
    actor_account_id: int | None,
    reason: str | None = None,
    kind: str = "state_changed",
    now: datetime | None = None,
) -> TimelineEvent:
    """Move the case to ``target`` and record it. The caller commits (or rolls back)."""
    source = application.status
    if not procedure.workflow.allows(source, target, by):
        raise TransitionRefusedError(f"{source} → {target} by {by}")
    now = now or utcnow()
    claimed = db.session.execute(
        update(Application)
        .where(Application.id == application.id, Application.status == source)
        .values(status=target)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise TransitionRefusedError(f"{application.reference} is no longer {source}")
    application.status = target
    clock = procedure.workflow.states[target].clock
    paused_at = application.clock_paused_at
    if paused_at is not None and clock != "paused":
        if clock == "runs" and application.due_at is not None:
            application.due_at += now - paused_at
        application.clock_paused_at = None
    elif paused_at is None and clock == "paused":
        application.clock_paused_at = now
    event = TimelineEvent(
        application_id=application.id,
        at=now,
        kind=kind,
        from_state=source,
        to_state=target,
        actor=by,
        actor_account_id=actor_account_id,
        reason=reason or None,
    )
    db.session.add(event)
    db.session.flush()
    signals.case_changed.send(application, procedure=procedure, event=event)
    return event


@dataclass(frozen=True)
class InformationRequest:
    """What we asked the citizen for, when, and by when they should answer."""

    message: str
    asked_at: datetime
    answer_by: datetime


def open_request(application: Application, procedure: Procedure) -> InformationRequest | None:
    """The request the citizen has yet to answer, if the case is waiting for them."""
    if procedure.workflow.states[application.status].clock != "paused":
        return None
    asked = next(
        (e for e in reversed(application.events) if e.to_state == application.status), None
    )
    if asked is None:
        return None
    days = procedure.workflow.deadlines.get(application.status, 10)
    return InformationRequest(asked.reason or "", asked.at, asked.at + timedelta(days=days))


def request_information(
    application: Application,
    procedure: Procedure,
    message: str,
    staff_account_id: int | None,
    now: datetime | None = None,
) -> TimelineEvent:
    """Staff ask the citizen for information or a correction: the clock pauses."""
    return change_state(
        application,
        procedure,
        "needs_information",
        "staff",
        staff_account_id,
        reason=message,
        kind="information_requested",
        now=now,
    )


def answer_request(
    application: Application,
    procedure: Procedure,
    message: str,
    files: list[FileStorage],
    now: datetime | None = None,
) -> TimelineEvent:
    """The citizen answers with a message and files: the case goes back to review and the
    clock runs again. The caller commits, or rolls back on :class:`uploads.UploadError` or
    :class:`TransitionRefusedError` (a refused file leaves none of the others behind)."""
    target = next(
        (
            t.target
            for t in procedure.workflow.transitions
            if t.source == application.status and t.by == "citizen" and t.target != "withdrawn"
        ),
        None,
    )
    if target is None:
        raise TransitionRefusedError(f"{application.status} has no answer")
    event = change_state(
        application,
        procedure,
        target,
        "citizen",
        application.account_id,
        reason=message,
        kind="information_provided",
        now=now,
    )
    stored: list[ApplicationFile] = []
    try:
        for upload in files:
            stored.append(uploads.store(application, RESPONSE_FILES, upload))
    except uploads.UploadError:
        for one in stored:
            uploads.path_of(one).unlink(missing_ok=True)
        raise
    return event


def response_files(application: Application) -> list[ApplicationFile]:
    return [f for f in application.files if f.field_id == RESPONSE_FILES]
