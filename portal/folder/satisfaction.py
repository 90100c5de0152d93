"""How did we do? After a case closes, its applicant is asked to rate it from 1 to 5.

FixMyStreet's questionnaire and GOV.UK's satisfaction page are the models: one page, one
question and an optional comment, asked once, never required for anything.

Anonymous by construction, not by promise. The invitation belongs to the citizen's case
and records only *whether* it was answered. The answer is a row of its own holding what
the figures need (procedure, agency, the language of the answer, the month) and nothing
that leads back to the case or the person: no id, no account, no day (a day could be
matched with the day a case closed). So no one, staff or database administrator, can
read how a particular citizen rated us, and the citizen's export has nothing to show but
"answered".
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, SmallInteger, String, Text, update
from sqlalchemy.orm import Mapped, mapped_column

from identity.models import UTCDateTime, utcnow
from portal import notifications
from portal.extensions import db
from procedures.definitions import Procedure
from procedures.models import Application, TimelineEvent

#: Best first, as GOV.UK's feedback page lists them.
RATINGS = {
    5: _l("Very satisfied"),
    4: _l("Satisfied"),
    3: _l("Neither satisfied nor dissatisfied"),
    2: _l("Dissatisfied"),
    1: _l("Very dissatisfied"),
}
COMMENT_MAX = 1200


class Invitation(db.Model):  # type: ignore[name-defined]
    """One per closed case: that we asked, and whether the citizen answered (not how)."""

    __tablename__ = "satisfaction_invitations"

    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True
    )
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answered: Mapped[bool] = mapped_column(default=False)


class Answer(db.Model):  # type: ignore[name-defined]
    """A rating, unlinkable to whoever gave it (see the module's docstring)."""

    __tablename__ = "satisfaction_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    procedure_slug: Mapped[str] = mapped_column(String(80), index=True)
    agency: Mapped[str] = mapped_column(String(80))
    language: Mapped[str] = mapped_column(String(5))
    #: The first day of the month it was given in.
    month: Mapped[date] = mapped_column(Date())
    rating: Mapped[int] = mapped_column(SmallInteger())
    comment: Mapped[str | None] = mapped_column(Text)


def invite(application: Application, procedure: Procedure, event: TimelineEvent) -> None:
    """When a case is closed, ask its applicant how we did (in the caller's transaction)."""
    if event.to_state != "closed" or application.account_id is None:
        return
    if db.session.get(Invitation, application.id) is not None:
        return  # closed before, reopened, closed again: asked once
    db.session.add(Invitation(application_id=application.id, invited_at=event.at))
    notifications.notify(
        application.account_id,
        "survey",
        {
            "reference": application.reference,
            "procedure": notifications.in_every_language(lambda lang: procedure.text(lang).title),
        },
        application_id=application.id,
        at=event.at,
    )


def on_case_changed(
    application: Application, procedure: Procedure, event: TimelineEvent, **_: Any
) -> None:
    invite(application, procedure, event)


def invitation(application_id: int) -> Invitation | None:
    return db.session.get(Invitation, application_id)


def answer(
    application: Application,
    procedure: Procedure,
    rating: int,
    comment: str,
    lang: str,
    today: date | None = None,
) -> bool:
    """Record the answer; False if this case's invitation was already answered (a double
    submit, a second tab), and then nothing is written. The caller commits."""
    if rating not in RATINGS:
        raise ValueError(f"rating {rating!r} is not 1 to 5")
    claimed = db.session.execute(
        update(Invitation)
        .where(Invitation.application_id == application.id, Invitation.answered.is_(False))
        .values(answered=True)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return False
    day = today or utcnow().date()
    db.session.add(
        Answer(
            procedure_slug=procedure.slug,
            agency=procedure.agency.key,
            language=lang,
            month=day.replace(day=1),
            rating=rating,
            comment=comment.strip()[:COMMENT_MAX] or None,
        )
    )
    return True
