"""Proactive suggestions: rules, one YAML file each in ``rules/``, that look at what the
citizen has sent us and suggest a procedure, with the reason in their language.

"You asked for a birth certificate on 3 May: if a child has been born in your family, you
may be entitled to the child-birth benefit." The rules run here, on the citizen's own
records, when their folder is shown; nothing is sent anywhere and nothing is stored but
the citizen's "no, thanks" (a dismissal, keyed by the rule and the application that
prompted it, so moving house again brings the suggestion back).

A rule file is checked like a procedure definition: each error names the file, the path
and the reason, and a broken file is left out (and logged), never taking the site down.
``python -m portal.suggestions`` checks them all.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from flask import Flask, current_app
from flask_babel import format_date
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column

from identity import signals as identity_signals
from identity.models import Account, UTCDateTime, utcnow
from portal.extensions import db
from procedures import catalogue
from procedures.definitions import DefinitionError, Reader, Text
from procedures.models import DRAFT, Application

log = logging.getLogger(__name__)

RULES_DIR = Path(__file__).parent / "rules"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Rule:
    id: str
    #: The procedure suggested (a catalogue slug).
    suggest: str
    #: The citizen sent an application for one of these procedures...
    after: tuple[str, ...]
    #: ...no more than this many days ago...
    within_days: int
    #: ...and, if given, with this answer (field id → value).
    answer: tuple[tuple[str, str], ...]
    #: Why, per language, with ``%(date)s`` for the day they sent it.
    reason: Text


@dataclass(frozen=True)
class Suggestion:
    rule: Rule
    #: The reference of the application that prompted it.
    trigger: str
    procedure_title: str
    reason: str


class DismissedSuggestion(db.Model):  # type: ignore[name-defined]
    __tablename__ = "dismissed_suggestions"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    rule_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    trigger: Mapped[str] = mapped_column(String(20), primary_key=True)
    dismissed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# Loading -------------------------------------------------------------------------------


def read_rule(path: Path, slugs: set[str]) -> tuple[Rule | None, list[DefinitionError]]:
    reader = Reader(path.name)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        reader.error("", f"is not valid YAML: {error}")
        return None, reader.errors
    node = reader.mapping(document, "")
    reader.only(node, "", {"id", "suggest", "when", "reason"})
    rule_id = reader.required(node, "id", "")
    if rule_id is not None and rule_id != path.stem:
        reader.error("id", f"must match the file name ({path.stem})")
    suggest = reader.required(node, "suggest", "")
    if suggest is not None and suggest not in slugs:
        reader.error("suggest", f"no procedure {suggest!r} in the catalogue")
    when = reader.mapping(reader.required(node, "when", "") or {}, "when")
    reader.only(when, "when", {"applied_for", "within_days", "answer"})
    after = when.get("applied_for")
    if not isinstance(after, list) or not after:
        reader.error("when.applied_for", "must list at least one procedure")
        after = []
    for index, slug in enumerate(after):
        if slug not in slugs:
            reader.error(f"when.applied_for[{index}]", f"no procedure {slug!r} in the catalogue")
    days = reader.integer(reader.required(when, "within_days", "when"), "when.within_days", 1)
    answer = reader.mapping(when.get("answer", {}), "when.answer")
    reason = reader.text(node.get("reason"), "reason")
    if reason is not None:
        for lang in reason:
            unknown = set(PLACEHOLDER.findall(reason[lang])) - {"date"}
            if unknown:
                reader.error(f"reason.{lang}", f"unknown placeholder: {', '.join(unknown)}")
    if reader.errors or reason is None:
        return None, reader.errors
    rule = Rule(
        rule_id,
        suggest,
        tuple(after),
        days,
        tuple((str(key), str(value)) for key, value in answer.items()),
        reason,
    )
    return rule, []


def load_rules(directory: Path = RULES_DIR) -> tuple[list[Rule], list[DefinitionError]]:
    """Every valid rule in ``directory``; invalid files are logged and left out."""
    slugs = set(catalogue.current().procedures)
    rules, errors = [], []
    for path in sorted(directory.glob("*.yaml")):
        rule, found = read_rule(path, slugs)
        errors += found
        if rule is not None:
            rules.append(rule)
    for error in errors:
        log.error("suggestion rule left out: %s", error)
    return rules, errors


def current() -> list[Rule]:
    return current_app.extensions["suggestion_rules"]  # type: ignore[no-any-return]


# Working them out ----------------------------------------------------------------------


def _matches(rule: Rule, application: Application, now: datetime) -> bool:
    if application.procedure_slug not in rule.after or application.submitted_at is None:
        return False
    if application.submitted_at < now - timedelta(days=rule.within_days):
        return False
    if not rule.answer:
        return True
    answers = application.answers
    return all(str(answers.get(key)) == value for key, value in rule.answer)


def for_account(account_id: int, lang: str, now: datetime | None = None) -> list[Suggestion]:
    """What to suggest, newest prompt first: rules whose trigger is recent, the citizen has
    not dismissed, and whose procedure they have not applied for since."""
    rules = current()
    if not rules:
        return []
    now = now or utcnow()
    oldest = now - timedelta(days=max(rule.within_days for rule in rules))
    sent = db.session.scalars(
        select(Application)
        .where(
            Application.account_id == account_id,
            Application.status != DRAFT,
            Application.submitted_at >= oldest,
        )
        .order_by(Application.submitted_at.desc())
    ).all()
    started = {
        (row.procedure_slug, row.created_at)
        for row in db.session.execute(
            select(Application.procedure_slug, Application.created_at).where(
                Application.account_id == account_id,
                Application.procedure_slug.in_({rule.suggest for rule in rules}),
                Application.created_at >= oldest,
            )
        )
    }
    dismissed = {
        (row.rule_id, row.trigger)
        for row in db.session.execute(
            select(DismissedSuggestion.rule_id, DismissedSuggestion.trigger).where(
                DismissedSuggestion.account_id == account_id
            )
        )
    }
    found: list[Suggestion] = []
    for rule in rules:
        procedure = catalogue.get(rule.suggest)
        if procedure is None:
            continue
        trigger = next((one for one in sent if _matches(rule, one, now)), None)
        if trigger is None or (rule.id, trigger.reference) in dismissed:
            continue
        assert trigger.submitted_at is not None  # noqa: S101 - _matches checked it
        if any(
            slug == rule.suggest and created >= trigger.submitted_at for slug, created in started
        ):
            continue  # they have applied (or started to) since
        reason = rule.reason(lang) % {"date": format_date(trigger.submitted_at, "long")}
        found.append(Suggestion(rule, trigger.reference, procedure.text(lang).title, reason))
    return found


def dismiss(account_id: int, rule_id: str, trigger: str) -> bool:
    """ "No, thanks": False for a rule or trigger that is not the citizen's. Caller commits."""
    if rule_id not in {rule.id for rule in current()}:
        return False
    owned = db.session.scalar(
        select(Application.id).where(
            Application.account_id == account_id, Application.reference == trigger
        )
    )
    if owned is None:
        return False
    if db.session.get(DismissedSuggestion, (account_id, rule_id, trigger)) is None:
        db.session.add(DismissedSuggestion(account_id=account_id, rule_id=rule_id, trigger=trigger))
    return True


def forget(account: Account, **_: Any) -> None:
    """The account is closing: its dismissals go. The caller commits."""
    db.session.execute(
        DismissedSuggestion.__table__.delete().where(DismissedSuggestion.account_id == account.id)
    )


def init_app(app: Flask) -> None:
    with app.app_context():
        app.extensions["suggestion_rules"], _ = load_rules()
    identity_signals.account_closing.connect(forget)
