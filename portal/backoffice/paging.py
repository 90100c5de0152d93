"""Keyset pagination of an agency's cases in the inbox's order, at the same cost on the
first page as on the thousandth, however many cases there are.

The inbox lists cases nearest legal deadline first (then the oldest sent, then by id;
cases without a deadline last). Paging with OFFSET read and sorted every case before the
page, and even the first page sorted every case matching the filters: no single index
gives that order across several states at once. So a page is found from where its
neighbour ended instead: the last case shown (``after``) or the first one (``before``),
by its position in that order. For each state the filters allow, the index
``ix_applications_inbox_order`` (status, due date, sent time, id, procedure, paused
clock) holds that state's cases already in order and can be entered at the position; the
database reads each run only until it has a page of the agency's cases (their procedure
and clock are in the index too) and merges the runs (a Merge Append on PostgreSQL),
whatever lies before the position or after the page. An agency with a small share of the
cases costs a longer read of each run, never a sort.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, select, tuple_, union_all

from portal.extensions import db
from procedures.models import Application


@dataclass(frozen=True)
class Position:
    """Where a case stands in the inbox's order."""

    due_at: datetime | None
    submitted_at: datetime | None
    id: int


def position_of(reference: str, slugs: Iterable[str]) -> Position | None:
    """The position of the case ``reference`` among the given procedures' (None if it is
    not one of theirs), read without loading the case."""
    found = db.session.execute(
        select(Application.due_at, Application.submitted_at, Application.id).where(
            Application.reference == reference, Application.procedure_slug.in_(list(slugs))
        )
    ).first()
    return Position(*found) if found else None


def page_ids(
    base: Select[tuple[int]],
    statuses: list[str],
    start: Position | None,
    backwards: bool,
    size: int,
) -> list[int]:
    """Up to ``size`` ids of cases of ``base`` (a select of ``Application.id`` with the
    filters' joins and conditions, the agency's procedures among them) in these states, in
    the inbox's order after ``start`` (or, going ``backwards``, before it, nearest first)."""
    parts = [
        _run(base.where(Application.status == status), start, backwards, size)
        for status in statuses
    ]
    parts.append(_without_deadline(base, statuses, start, backwards, size))
    chosen = [select(*part.subquery().c) for part in parts if part is not None]
    if not chosen:
        return []
    page = union_all(*chosen).subquery()
    return list(
        db.session.scalars(select(page.c.id).order_by(*_order(page.c, backwards)).limit(size))
    )


def _order(columns: object, backwards: bool) -> list[object]:
    due, sent, ident = columns.due_at, columns.submitted_at, columns.id  # type: ignore[attr-defined]
    if backwards:
        return [due.desc().nulls_first(), sent.desc(), ident.desc()]
    return [due.asc().nulls_last(), sent.asc(), ident.asc()]


def _columns(query: Select[tuple[int]]) -> Select[tuple[int, datetime, datetime]]:
    return query.add_columns(Application.due_at, Application.submitted_at)  # type: ignore[return-value]


def _run(
    query: Select[tuple[int]], start: Position | None, backwards: bool, size: int
) -> Select[tuple[int, datetime, datetime]] | None:
    """One state's cases with a deadline, from the index, in order."""
    if start is not None and start.due_at is None and not backwards:
        return None  # every case with a deadline comes before one without
    query = query.where(Application.due_at.is_not(None))
    if start is not None and start.due_at is not None:
        key = tuple_(Application.due_at, Application.submitted_at, Application.id)
        here = tuple_(start.due_at, start.submitted_at, start.id)
        query = query.where(key < here if backwards else key > here)
    return _columns(query).order_by(*_order(Application, backwards)).limit(size)


def _without_deadline(
    query: Select[tuple[int]],
    statuses: list[str],
    start: Position | None,
    backwards: bool,
    size: int,
) -> Select[tuple[int, datetime, datetime]] | None:
    """Cases without a deadline, which come last (by sent time and id). Every sent case
    has one today; these are only ever none or a few, so they need no index of their own."""
    if start is not None and start.due_at is not None and backwards:
        return None
    condition: ColumnElement[bool] = Application.due_at.is_(None)
    if start is not None and start.due_at is None:
        key = tuple_(Application.submitted_at, Application.id)
        here = tuple_(start.submitted_at, start.id)
        condition = and_(condition, key < here if backwards else key > here)
    query = query.where(condition, Application.status.in_(statuses))
    return _columns(query).order_by(*_order(Application, backwards)).limit(size)
