"""The figures that steer an agency's service, for a chosen period.

Per procedure and per channel: cases received and resolved, how long resolving took
(median and 90th percentile), the share resolved within the legal deadline, what is
overdue now, and how often we had to ask the applicant for more. Then who applied (age
band, district, language, each with small cells hidden: ``suppression``), where unsent
forms stop, and how satisfied people were.

Six queries whatever the size of the data, none of them loading whole applications: the
figures read no answers, names or records, so they need no purpose (``portal.audit.guard``
would refuse a view that loaded a citizen's rows). The database counts the cases received
(``figures_counts``) and sends the resolved ones' times to resolve in whole microseconds;
the percentiles are computed here from those, so SQLite and PostgreSQL give the same
answer to the last decimal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from math import floor
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from identity.models import utcnow
from portal.backoffice import cases, complaints, decisions, figures_counts
from portal.backoffice.period import Period
from portal.backoffice.suppression import MIN_PEOPLE, head_count, hidden_cells
from portal.extensions import db
from portal.folder.satisfaction import RATINGS, Answer
from procedures import applications
from procedures.abandonment import CHECK, AbandonedDraft
from procedures.definitions import LANGUAGES, Procedure
from procedures.models import DRAFT, Application
from procedures.segments import AGE_BANDS

#: The states that resolve a case: the first move into one ends the time to resolve (a
#: decision either way, or the reply that ends a complaint).
RESOLVED = (decisions.FAVOURABLE, decisions.UNFAVOURABLE, complaints.ANSWERED)
CHANNELS = {"online": _l("Online"), "counter": _l("At a counter")}
AGE_LABELS = {
    "0-17": _l("Under 18"),
    "18-29": _l("18 to 29"),
    "30-44": _l("30 to 44"),
    "45-64": _l("45 to 64"),
    "65+": _l("65 and over"),
}
NOT_KNOWN = _l("Not known")
CHECK_LABEL = _l("Check your answers and send")
SEGMENTS = {
    "age_band": _l("By age band when they applied"),
    "district": _l("By postcode district"),
    "language": _l("By language of the application"),
}


def percentile(values: Iterable[float], share: float) -> float | None:
    """Linear interpolation between the closest ranks, as PostgreSQL's ``percentile_cont``
    and spreadsheets' ``PERCENTILE.INC``: the median of 1, 2, 3, 10 is 2.5."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = share * (len(ordered) - 1)
    low = floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Measures:
    received: int
    resolved: int
    median_days: float | None
    p90_days: float | None
    #: Of the cases resolved in the period, the share resolved by their legal deadline.
    within_deadline: float | None
    overdue: int
    #: Requests for information so far per case received in the period.
    requests_per_case: float | None


@dataclass
class _Tally:
    received: int = 0
    requests: int = 0
    resolved: int = 0
    within: int = 0
    overdue: int = 0
    #: The times to resolve, in days.
    durations: list[float] = field(default_factory=list)

    def measures(self) -> Measures:
        resolved = self.resolved
        return Measures(
            received=self.received,
            resolved=resolved,
            median_days=percentile(self.durations, 0.5),
            p90_days=percentile(self.durations, 0.9),
            within_deadline=self.within / resolved if resolved else None,
            overdue=self.overdue,
            requests_per_case=self.requests / self.received if self.received else None,
        )


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    measures: Measures


@dataclass(frozen=True)
class Cell:
    """A figure in a table about people: ``value`` is None when there is nothing to show
    (no case) and meaningless when ``hidden``."""

    value: float | None
    hidden: bool = False


@dataclass(frozen=True)
class SegmentRow:
    key: str
    label: str
    received: Cell
    resolved: Cell
    median_days: Cell


@dataclass(frozen=True)
class SegmentTable:
    key: str
    title: str
    rows: list[SegmentRow]
    total: SegmentRow

    @property
    def hides(self) -> bool:
        return any(c.hidden for row in self.rows for c in (row.received, row.resolved))


@dataclass(frozen=True)
class StopPage:
    key: str
    label: str
    #: The page's place in the form (1 for the first), None for one no longer in it.
    position: int | None
    #: Still drafts, and drafts deleted (30 days untouched, or the account closed).
    drafts: int
    deleted: int

    @property
    def total(self) -> int:
        return self.drafts + self.deleted


@dataclass(frozen=True)
class FormAbandonment:
    procedure: Procedure
    label: str
    started: int
    sent: int
    pages: list[StopPage]

    @property
    def unsent(self) -> int:
        return self.started - self.sent

    @property
    def unsent_share(self) -> float | None:
        return self.unsent / self.started if self.started else None


@dataclass(frozen=True)
class Rating:
    """Satisfaction answers for a procedure or a month (or all of them)."""

    key: str
    label: str
    answers: int
    mean: float | None
    #: rating (5 best) → how many gave it.
    counts: dict[int, int]
    hidden: bool = False


@dataclass(frozen=True)
class Figures:
    agency: str
    period: Period
    now: datetime
    procedures: list[Line]
    channels: list[Line]
    total: Measures
    segments: list[SegmentTable]
    abandonment: list[FormAbandonment]
    satisfaction: list[Rating]
    satisfaction_months: list[Rating]
    satisfaction_total: Rating


def compute(
    agency: str, period: Period, lang: str, zone: ZoneInfo, now: datetime | None = None
) -> Figures:
    """Every figure of ``agency``'s page for ``period``, labelled in ``lang``."""
    now = now or utcnow()
    procedures = {p.slug: p for p in cases.agency_procedures(agency)}
    start, end = period.bounds(zone)
    received = figures_counts.received(list(procedures), start, end)
    resolved = figures_counts.resolved(list(procedures), RESOLVED, start, end)
    overdue = _overdue(procedures, now)

    by_procedure: dict[str, _Tally] = defaultdict(_Tally)
    by_channel: dict[str, _Tally] = defaultdict(_Tally)
    total = _Tally()
    for (slug, channel), (count, requests) in received.lines.items():
        for tally in (by_procedure[slug], by_channel[channel], total):
            tally.received += count
            tally.requests += requests
    for (slug, channel), (count, within) in resolved.lines.items():
        for tally in (by_procedure[slug], by_channel[channel], total):
            tally.resolved += count
            tally.within += within
    for (group, key), (_count, durations) in resolved.durations.items():
        tallies = {"procedure": by_procedure, "channel": by_channel}
        if group == "total":
            total.durations = durations
        elif group in tallies:
            tallies[group][str(key)].durations = durations
    for (slug, channel), count in overdue.items():
        for tally in (by_procedure[slug], by_channel[channel], total):
            tally.overdue += count

    with force_locale(lang):
        shown = [p for p in procedures.values() if p.form is not None or p.slug in by_procedure]
        titles = {p.slug: p.text(lang).title for p in procedures.values()}
        procedure_lines = sorted(
            (Line(p.slug, titles[p.slug], by_procedure[p.slug].measures()) for p in shown),
            key=lambda line: line.label,
        )
        channel_lines = [
            Line(key, str(CHANNELS.get(key, key)), by_channel[key].measures())
            for key in [*CHANNELS, *sorted(set(by_channel) - set(CHANNELS))]
        ]
        satisfaction, months, everyone = _satisfaction(agency, period, titles, lang)
        return Figures(
            agency=agency,
            period=period,
            now=now,
            procedures=procedure_lines,
            channels=channel_lines,
            total=total.measures(),
            segments=[
                _segment(key, str(title), received, resolved, lang)
                for key, title in SEGMENTS.items()
            ],
            abandonment=_abandonment(procedures, titles, period, start, end, lang),
            satisfaction=satisfaction,
            satisfaction_months=months,
            satisfaction_total=everyone,
        )


def _overdue(procedures: dict[str, Procedure], now: datetime) -> dict[tuple[str, str], int]:
    """Open cases past their legal deadline now, as the inbox counts them."""
    rows = db.session.execute(
        select(Application.procedure_slug, Application.channel, func.count())
        .where(
            Application.procedure_slug.in_(list(procedures)),
            Application.status != DRAFT,
            cases._overdue(now, cases.open_states(list(procedures.values()))),
        )
        .group_by(Application.procedure_slug, Application.channel)
    )
    return {(slug, channel): count for slug, channel, count in rows}


def _segment(
    key: str,
    title: str,
    received: figures_counts.Counted,
    resolved: figures_counts.Counted,
    lang: str,
) -> SegmentTable:
    """One "who applied" table: received and resolved cases and the median days per
    segment, each cell hidden as ``suppression`` says, with the total always shown."""
    got, done = received.cells[key], resolved.cells[key]
    keys = _segment_order(key, set(got) | set(done))
    nobody: tuple[int, set[Hashable]] = (0, set())
    hide_received = hidden_cells({str(k): got.get(k, nobody) for k in keys})
    hide_resolved = hidden_cells({str(k): done.get(k, nobody) for k in keys})
    label = _segment_labeller(key, lang)
    rows = []
    for one in keys:
        count, people = done.get(one, nobody)
        _count, durations = resolved.durations.get((key, one), (0, []))
        rows.append(
            SegmentRow(
                key=str(one),
                label=label(one),
                received=Cell(got.get(one, nobody)[0], str(one) in hide_received),
                resolved=Cell(count, str(one) in hide_resolved),
                median_days=Cell(
                    percentile(durations, 0.5),
                    bool(count) and head_count(people) < MIN_PEOPLE,
                ),
            )
        )
    everyone = resolved.cases()
    _count, durations = resolved.durations.get(("total", None), (0, []))
    total = SegmentRow(
        "total",
        "",
        Cell(received.cases()),
        Cell(everyone),
        Cell(percentile(durations, 0.5)),
    )
    return SegmentTable(key, title, rows, total)


def _segment_order(key: str, found: set[str | None]) -> list[str | None]:
    """Bands youngest first, districts by code, languages as the portal lists them;
    "not known" last."""
    if key == "age_band":
        known = [band for band, _lowest in AGE_BANDS if band in found]
    elif key == "language":
        known = [code for code in LANGUAGES if code in found]
    else:
        known = []
    known += sorted(one for one in found if one is not None and one not in known)
    return [*known, *([None] if None in found else [])]


def _segment_labeller(key: str, lang: str) -> Callable[[str | None], str]:
    def label(value: str | None) -> str:
        if value is None:
            return str(NOT_KNOWN)
        if key == "age_band":
            return str(AGE_LABELS.get(value, value))
        if key == "language":
            return language_name(value, lang)
        return value

    return label


def language_name(code: str, lang: str) -> str:
    """A language named in the reader's ("catalán" to a Spanish reader)."""
    try:
        return Locale.parse(code).get_language_name(lang) or code
    except (ValueError, UnknownLocaleError):
        return code


def _abandonment(
    procedures: dict[str, Procedure],
    titles: dict[str, str],
    period: Period,
    start: datetime,
    end: datetime,
    lang: str,
) -> list[FormAbandonment]:
    """Online forms started in the period: how many were sent, and where the others
    stopped (the page reached when last saved). Counter applications are left out: staff
    filling a form in with someone present do not abandon it the way a citizen alone does."""
    slugs = [slug for slug, p in procedures.items() if p.form is not None]
    live = db.session.execute(
        select(
            Application.procedure_slug, Application.status, Application.reached_page, func.count()
        )
        .where(
            Application.procedure_slug.in_(slugs),
            Application.channel == "online",
            Application.created_at >= start,
            Application.created_at < end,
        )
        .group_by(Application.procedure_slug, Application.status, Application.reached_page)
    )
    sent: dict[str, int] = defaultdict(int)
    stopped: dict[str, dict[str | None, list[int]]] = defaultdict(dict)
    for slug, status, page, count in live:
        if status == DRAFT:
            stopped[slug].setdefault(page, [0, 0])[0] += count
        else:
            sent[slug] += count
    deleted = db.session.execute(
        select(AbandonedDraft.procedure_slug, AbandonedDraft.reached_page, func.count())
        .where(
            AbandonedDraft.procedure_slug.in_(slugs),
            AbandonedDraft.channel == "online",
            AbandonedDraft.started_on >= period.first,
            AbandonedDraft.started_on <= period.last,
        )
        .group_by(AbandonedDraft.procedure_slug, AbandonedDraft.reached_page)
    )
    for slug, page, count in deleted:
        stopped[slug].setdefault(page, [0, 0])[1] += count
    found = []
    for slug in sorted(set(sent) | set(stopped), key=lambda one: titles[one]):
        pages = _stop_pages(procedures[slug], stopped[slug], lang)
        started = sent[slug] + sum(page.total for page in pages)
        found.append(FormAbandonment(procedures[slug], titles[slug], started, sent[slug], pages))
    return found


def _stop_pages(
    procedure: Procedure, stopped: dict[str | None, list[int]], lang: str
) -> list[StopPage]:
    pages = applications.all_pages(procedure)
    where = {page.id: (index + 1, page.heading(lang)) for index, page in enumerate(pages)}
    where[CHECK] = (len(pages) + 1, str(CHECK_LABEL))
    found = [
        StopPage(
            key=key or "",
            label=where[key][1] if key in where else (key or str(NOT_KNOWN)),
            position=where[key][0] if key in where else None,
            drafts=drafts,
            deleted=deleted,
        )
        for key, (drafts, deleted) in stopped.items()
    ]
    return sorted(found, key=lambda page: (page.position is None, page.position or 0, page.key))


def _satisfaction(
    agency: str, period: Period, titles: dict[str, str], lang: str
) -> tuple[list[Rating], list[Rating], Rating]:
    """Ratings by procedure and by month, and all of them. Answers are kept by month only
    (``portal.folder.satisfaction``), so every month the period touches counts whole.
    Each answer is one person's; rows of fewer than five are hidden like any small cell."""
    first, last = period.months()
    counts: dict[tuple[str, date], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for slug, month, rating, count in db.session.execute(
        select(Answer.procedure_slug, Answer.month, Answer.rating, func.count())
        .where(Answer.agency == agency, Answer.month >= first, Answer.month <= last)
        .group_by(Answer.procedure_slug, Answer.month, Answer.rating)
    ):
        counts[(slug, month)][rating] += count

    def gather(key: Callable[[str, date], Any]) -> dict[Any, dict[int, int]]:
        merged: dict[Any, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for (slug, month), ratings in counts.items():
            for rating, count in ratings.items():
                merged[key(slug, month)][rating] += count
        return merged

    by_procedure = gather(lambda slug, _month: slug)
    by_month = gather(lambda _slug, month: month)
    everyone = gather(lambda _slug, _month: "total").get("total", {})
    procedures = _ratings(
        sorted(by_procedure, key=lambda slug: titles.get(slug, slug)),
        by_procedure,
        lambda slug: titles.get(slug, slug),
    )
    months = _ratings(
        sorted(by_month),
        by_month,
        lambda month: format_skeleton("yMMMM", month, locale=lang),
        key=lambda month: month.strftime("%Y-%m"),
    )
    # A handful of answers in all would be told apart by anyone who knows whose cases
    # closed: the total is then hidden too, and with it every row.
    answered = sum(everyone.values())
    return procedures, months, _rating("total", "", everyone, 0 < answered < MIN_PEOPLE)


def _ratings(
    order: list[Any],
    counts: dict[Any, dict[int, int]],
    label: Callable[[Any], str],
    key: Callable[[Any], str] = str,
) -> list[Rating]:
    """One row per group, whole rows hidden as ``suppression`` says (each answer is a
    different person as far as we can know: answers are anonymous)."""
    hidden = hidden_cells(
        {
            key(one): (
                sum(counts[one].values()),
                {(key(one), n) for n in range(sum(counts[one].values()))},
            )
            for one in order
        }
    )
    return [_rating(key(one), label(one), counts[one], key(one) in hidden) for one in order]


def _rating(key: str, label: str, counts: dict[int, int], hidden: bool = False) -> Rating:
    answers = sum(counts.values())
    mean = sum(rating * count for rating, count in counts.items()) / answers if answers else None
    return Rating(key, label, answers, mean, {r: counts.get(r, 0) for r in RATINGS}, hidden)
