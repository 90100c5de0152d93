"""The two statements behind the agency's figures: the cases received in a period and the
cases first resolved in it, read as cheaply as their figures allow.

Received cases are counted by the database: it sends back counts per procedure and
channel, and per segment (age band, district, language) the cases and the distinct
people, with the people themselves only for groups of fewer than ``MIN_PEOPLE`` (what
small-cell suppression needs to know). Resolved cases need their times to resolve for the
medians and 90th percentiles, exactly: each case's time is computed by the database in
whole microseconds (the same on both engines, and the same float in days as Python makes
from the two times), sent back with the few columns the figures group by, and grouped and
sorted here. Ranking them in SQL instead (a window per grouping) sorted the period six
times and was two to three times slower than sorting here.

The old way fetched every case of the period whole, and grouped people with a new set per
case (quadratic): a year at 100,000 applications took seconds, at a million minutes.

Segments whose value is unknown come back as ``""`` from the database (a group by NULL
would not match a NULL in ``IN``) and as ``None`` from here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    case,
    distinct,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import FunctionElement

from portal.backoffice.suppression import MIN_PEOPLE, People
from portal.extensions import db
from procedures.models import DRAFT, Application, TimelineEvent

SEGMENT_KEYS = ("age_band", "district", "language")
#: Stands for every applicant whose account is closed: counted as one person together,
#: since we cannot tell them apart (the smallest count is the safe one).
GONE = 0
DAY = 86400.0


class MicrosecondsBetween(FunctionElement[int]):
    """``later - earlier`` in whole microseconds, exact on both engines."""

    type = BigInteger()
    inherit_cache = True
    name = "microseconds_between"


@compiles(MicrosecondsBetween, "postgresql")
def _postgresql(element: MicrosecondsBetween, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(one, **kw) for one in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({later}) - ({earlier})) * 1000000 AS BIGINT)"


@compiles(MicrosecondsBetween, "sqlite")
def _sqlite(element: MicrosecondsBetween, compiler: Any, **kw: Any) -> str:
    """SQLite keeps times as text, ``YYYY-MM-DD HH:MM:SS.ffffff``: whole seconds from
    strftime, and the microseconds as written."""
    later, earlier = (compiler.process(one, **kw) for one in element.clauses)
    return (
        f"((CAST(strftime('%s', {later}) AS INTEGER) - CAST(strftime('%s', {earlier}) AS INTEGER))"
        f" * 1000000 + CAST(substr({later}, 21, 6) AS INTEGER)"
        f" - CAST(substr({earlier}, 21, 6) AS INTEGER))"
    )


@dataclass
class Counted:
    """What one statement counted. ``lines``: (procedure, channel) → (cases, and requests
    for information or cases resolved in time); ``cells``: segment → value → (cases,
    people), the people as a set for fewer than ``MIN_PEOPLE`` of them, else their number;
    ``durations``: (group, key) → (cases, their times to resolve in days, in order); a group
    is a procedure, a channel, a segment's value, or ("total", None)."""

    lines: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    cells: dict[str, dict[str | None, tuple[int, People]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    durations: dict[tuple[str, str | None], tuple[int, list[float]]] = field(default_factory=dict)

    def cases(self) -> int:
        return sum(cases for cases, _other in self.lines.values())


def received(slugs: list[str], start: datetime, end: datetime) -> Counted:
    """Cases submitted in the period, with their requests for information so far."""
    requests = (
        select(func.count(TimelineEvent.id))
        .where(
            TimelineEvent.application_id == Application.id,
            TimelineEvent.kind == "information_requested",
        )
        .correlate(Application)
        .scalar_subquery()
    )
    period = (
        select(*_segment_columns(), requests.label("extra"))
        .where(
            Application.procedure_slug.in_(slugs),
            Application.status != DRAFT,
            Application.submitted_at >= start,
            Application.submitted_at < end,
        )
        .cte("received")
    )
    return _decode(db.session.execute(union_all(*_counts(period))))


def resolved(slugs: list[str], states: tuple[str, ...], start: datetime, end: datetime) -> Counted:
    """Cases whose first move into one of ``states`` fell in the period: in time or not,
    and how long resolving took, in order."""
    earlier = aliased(TimelineEvent)
    resolved_before = exists().where(
        earlier.application_id == TimelineEvent.application_id,
        earlier.to_state.in_(states),
        or_(
            earlier.at < TimelineEvent.at,
            and_(earlier.at == TimelineEvent.at, earlier.id < TimelineEvent.id),
        ),
    )
    in_time = or_(Application.due_at.is_(None), TimelineEvent.at <= Application.due_at)
    period = (
        select(
            *_segment_columns(),
            case((in_time, 1), else_=0),
            MicrosecondsBetween(TimelineEvent.at, Application.submitted_at),
        )
        .join(TimelineEvent, TimelineEvent.application_id == Application.id)
        .where(
            Application.procedure_slug.in_(slugs),
            Application.submitted_at.is_not(None),
            TimelineEvent.to_state.in_(states),
            TimelineEvent.at >= start,
            TimelineEvent.at < end,
            ~resolved_before,
        )
    )
    counted = Counted()
    lines: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    cells = {key: defaultdict(lambda: [0, set()]) for key in SEGMENT_KEYS}  # type: ignore[var-annotated]
    spent: dict[tuple[str, str | None], list[float]] = defaultdict(list)
    for procedure, channel, person, *segments, within, microseconds in db.session.execute(period):
        days = microseconds / 10**6 / DAY
        line = lines[(procedure, channel)]
        line[0] += 1
        line[1] += within
        spent[("procedure", procedure)].append(days)
        spent[("channel", channel)].append(days)
        spent[("total", None)].append(days)
        for key, value in zip(SEGMENT_KEYS, segments, strict=True):
            cell = cells[key][value or None]
            cell[0] += 1
            cell[1].add(person)
            spent[(key, value or None)].append(days)
    counted.lines = {key: (cases, within) for key, (cases, within) in lines.items()}
    for key, by_value in cells.items():
        counted.cells[key] = {value: (cases, people) for value, (cases, people) in by_value.items()}
    counted.durations = {group: (len(days), sorted(days)) for group, days in spent.items()}
    return counted


def _segment_columns() -> tuple[ColumnElement[Any], ...]:
    return (
        Application.procedure_slug.label("procedure"),
        Application.channel.label("channel"),
        func.coalesce(Application.account_id, GONE).label("person"),
        *(func.coalesce(getattr(Application, key), "").label(key) for key in SEGMENT_KEYS),
    )


def _row(part: str, a: Any, b: Any, n: Any, m: Any) -> Any:
    """One row of the answer: (part, key, second key, number, number)."""
    return select(
        literal(part).label("part"), a.label("a"), b.label("b"), n.label("n"), m.label("m")
    )


def _counts(period: Any) -> list[Any]:
    """Cases per procedure and channel; per segment value, cases and distinct people; and
    the people of each value with fewer than ``MIN_PEOPLE`` of them."""
    c = period.c
    parts = [
        _row("line", c.procedure, c.channel, func.count(), func.sum(c.extra)).group_by(
            c.procedure, c.channel
        )
    ]
    for key in SEGMENT_KEYS:
        value = c[key]
        people = func.count(distinct(c.person))
        parts.append(_row(key, value, literal(""), func.count(), people).group_by(value))
        few = select(value).group_by(value).having(people < MIN_PEOPLE)
        parts.append(
            _row(f"{key} person", value, literal(""), c.person, literal(0))
            .where(value.in_(few))
            .group_by(value, c.person)
        )
    return parts


def _decode(rows: Any) -> Counted:
    counted = Counted()
    people_rows = []
    for part, a, b, n, m in rows:
        if part == "line":
            counted.lines[(a, b)] = (int(n), int(m or 0))
        elif part in SEGMENT_KEYS:
            people = int(m)
            counted.cells[part][a or None] = (int(n), set() if people < MIN_PEOPLE else people)
        else:
            people_rows.append((part.removesuffix(" person"), a or None, int(n)))
    for segment, value, person in people_rows:  # a union's rows come in no promised order
        counted.cells[segment][value][1].add(person)  # type: ignore[union-attr]
    return counted
