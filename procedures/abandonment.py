"""Where unsent forms stop, kept after the drafts themselves are gone.

A draft left untouched for 30 days is deleted with its files (``delete_expired_drafts``),
and so are the drafts of an account that closes. The agency still needs to know which
page of its form people give up on, so each deleted draft leaves one row here first:
the procedure, how it was being filled in, the day it was started and the page it had
reached. Nothing leads back to the person: no account, no reference, no answer, and a
day rather than a time.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from procedures.models import Application

#: ``reached_page`` of a draft whose every page is answered: only checking and sending were
#: left (no page id starts with an underscore).
CHECK = "_check"


class AbandonedDraft(db.Model):  # type: ignore[name-defined]
    __tablename__ = "abandoned_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    procedure_slug: Mapped[str] = mapped_column(String(80), index=True)
    #: "online" or "counter", as on the application.
    channel: Mapped[str] = mapped_column(String(20))
    #: The day it was started, in the portal's time zone (the figures' days are too).
    started_on: Mapped[date] = mapped_column(Date())
    #: The id of the page reached, or ``CHECK`` (only checking and sending were left).
    reached_page: Mapped[str | None] = mapped_column(String(80))


def zone() -> ZoneInfo:
    """The portal's time zone: the agency's figures count days in it."""
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Madrid")


def record(application: Application) -> None:
    """Keep the anonymous trace of a draft about to be deleted; the caller commits."""
    db.session.add(
        AbandonedDraft(
            procedure_slug=application.procedure_slug,
            channel=application.channel,
            started_on=application.created_at.astimezone(zone()).date(),
            reached_page=application.reached_page,
        )
    )
