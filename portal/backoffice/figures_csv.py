"""The figures as a CSV file: the same numbers as the page, one per line.

One "long" table (table, row, measure, value, note) rather than the page's several wide
ones, so that one file holds them all and any spreadsheet can pivot it. Headers and
labels are in the reader's language; values are machine-readable (a full stop for
decimals, no thousands separator, dates as ISO 8601), so a spreadsheet in any locale reads
them as numbers. UTF-8 with a byte order mark, which Excel needs to read accents and
Arabic. A hidden cell's value is empty, and its note says why.

Any text that a spreadsheet would take for a formula (it starts with = + - @, a tab or a
carriage return) gets a leading apostrophe (OWASP's advice against CSV injection):
procedure titles and page titles come from definition files, which are not ours alone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.backoffice.figures import Cell, Figures, Measures
from portal.folder.satisfaction import RATINGS

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HIDDEN_NOTE = _l(
    "Not shown: fewer than 5 people, or hidden so that such a number cannot be worked out"
)

Line = list[str]


def neutralise(text: str) -> str:
    """Text a spreadsheet will show as text, never run as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def number(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def render(figures: Figures) -> str:
    """The whole file, in the language of the current request."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_("Table"), _("Row"), _("Measure"), _("Value"), _("Note")])
    for line in lines(figures):
        writer.writerow([neutralise(cell) for cell in line])
    return BOM + out.getvalue()


def lines(figures: Figures) -> Iterator[Line]:
    period = _("Period")
    yield [period, "", _("First day"), figures.period.first.isoformat(), ""]
    yield [period, "", _("Last day"), figures.period.last.isoformat(), ""]
    yield [period, "", _("Overdue counted at"), figures.now.isoformat(timespec="minutes"), ""]
    for table, rows in (
        (_("By procedure"), figures.procedures),
        (_("By channel"), figures.channels),
    ):
        for row in rows:
            yield from _measures(table, row.label, row.measures)
        yield from _measures(table, _("Total"), figures.total)
    yield from _segments(figures)
    yield from _abandonment(figures)
    yield from _satisfaction(figures)


def _measures(table: str, row: str, measures: Measures) -> Iterator[Line]:
    for measure, value in (
        (_("Cases received"), number(measures.received)),
        (_("Cases resolved"), number(measures.resolved)),
        (_("Median days to resolve"), number(measures.median_days)),
        (_("90th percentile of days to resolve"), number(measures.p90_days)),
        (_("Resolved within the legal deadline (%)"), _percent(measures.within_deadline)),
        (_("Overdue now"), number(measures.overdue)),
        (_("Requests for information per case"), number(measures.requests_per_case, 2)),
    ):
        yield [table, row, measure, value, ""]


def _percent(share: float | None) -> str:
    return number(share * 100 if share is not None else None)


def _cell(table: str, row: str, measure: str, cell: Cell, digits: int = 1) -> Line:
    if cell.hidden:
        return [table, row, measure, "", str(HIDDEN_NOTE)]
    return [table, row, measure, number(cell.value, digits), ""]


def _segments(figures: Figures) -> Iterator[Line]:
    for segment in figures.segments:
        for row in [*segment.rows, segment.total]:
            label = row.label or _("Total")
            yield _cell(segment.title, label, _("Cases received"), row.received)
            yield _cell(segment.title, label, _("Cases resolved"), row.resolved)
            yield _cell(segment.title, label, _("Median days to resolve"), row.median_days)


def _abandonment(figures: Figures) -> Iterator[Line]:
    for form in figures.abandonment:
        table = _("Online forms: %(procedure)s", procedure=form.label)
        yield [table, "", _("Forms started"), number(form.started), ""]
        yield [table, "", _("Forms sent"), number(form.sent), ""]
        yield [table, "", _("Forms not sent"), number(form.unsent), ""]
        for page in form.pages:
            row = f"{page.position}. {page.label}" if page.position else page.label
            yield [table, row, _("Stopped here, still a draft"), number(page.drafts), ""]
            yield [table, row, _("Stopped here, deleted"), number(page.deleted), ""]


def _satisfaction(figures: Figures) -> Iterator[Line]:
    for table, rows, by_key in (
        (_("Satisfaction by procedure"), figures.satisfaction, False),
        (_("Satisfaction by month"), figures.satisfaction_months, True),
    ):
        for rating in [*rows, figures.satisfaction_total]:
            # Months as 2025-03: a spreadsheet sorts and reads them in any language.
            label = rating.label if rating.label else _("Total")
            label = rating.key if by_key and rating.label else label
            if rating.hidden:
                yield [table, label, _("Answers"), "", str(HIDDEN_NOTE)]
                continue
            yield [table, label, _("Answers"), number(rating.answers), ""]
            yield [table, label, _("Mean rating (1 to 5)"), number(rating.mean, 2), ""]
            for value, text in RATINGS.items():
                yield [table, label, str(text), number(rating.counts[value]), ""]
