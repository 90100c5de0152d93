"""Plain-text tables: what every benchmark prints, readable in a terminal and in CI's log."""

from __future__ import annotations

from collections.abc import Sequence


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], text_columns: int = 1) -> str:
    """Columns padded to their widest cell: the first ``text_columns`` aligned left, the
    rest (figures) right."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [
        max(len(headers[column]), *(len(row[column]) for row in cells)) if cells else len(header)
        for column, header in enumerate(headers)
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            value.ljust(width) if column < text_columns else value.rjust(width)
            for column, (value, width) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in cells)])


def kib(size: float) -> str:
    return f"{size / 1024:.1f} KB" if size else "0"


def ms(milliseconds: float) -> str:
    return f"{milliseconds:.1f} ms" if milliseconds < 100 else f"{milliseconds:.0f} ms"


def per_second(rate: float) -> str:
    return f"{rate:,.0f}/s" if rate >= 100 else f"{rate:.1f}/s"


def ratio(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole else "n/a"
