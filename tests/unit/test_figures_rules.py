"""The rules under the agency's figures, as plain functions: percentiles, small-cell
suppression, the age band and district kept at submission, the period's days, and CSV
text a spreadsheet will not run."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from portal.backoffice.figures import percentile
from portal.backoffice.figures_csv import neutralise
from portal.backoffice.period import Period
from portal.backoffice.suppression import hidden_cells
from procedures.segments import age_band, district


def test_percentiles_interpolate_between_ranks_as_percentile_cont_does() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.5) == 7.0
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([10.0, 1.0, 3.0, 2.0], 0.5) == 2.5  # order does not matter
    assert percentile([1.0, 2.0, 3.0, 10.0], 0.9) == pytest.approx(7.9)  # 3 + 0.7 * 7
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.9) == pytest.approx(4.6)
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == 3.0


def people(*ids: int) -> set[int]:
    return set(ids)


def test_nothing_is_hidden_when_every_cell_counts_five_people_or_none() -> None:
    cells = {"a": (5, people(1, 2, 3, 4, 5)), "b": (0, set()), "c": (9, people(*range(6, 15)))}
    assert hidden_cells(cells) == set()


def test_a_small_cell_hides_the_next_smallest_so_the_total_gives_nothing_away() -> None:
    cells = {
        "small": (3, people(1, 2, 3)),
        "middle": (6, people(*range(10, 16))),
        "large": (20, people(*range(20, 40))),
    }
    assert hidden_cells(cells) == {"small", "middle"}


def test_people_not_cases_decide_what_is_small() -> None:
    # Two people with eight cases between them are still two people.
    cells = {
        "busy": (8, people(1, 2)),
        "b": (6, people(*range(10, 16))),
        "c": (7, people(*range(20, 27))),
    }
    assert hidden_cells(cells) == {"busy", "b"}


def test_hidden_cells_together_must_count_five_people() -> None:
    # Two small cells hidden together still add up to 3 people: hide one more.
    cells = {
        "a": (1, people(1)),
        "b": (2, people(2, 3)),
        "c": (9, people(*range(10, 19))),
        "d": (30, people(*range(20, 50))),
    }
    assert hidden_cells(cells) == {"a", "b", "c"}


def test_the_same_person_in_two_hidden_cells_counts_once() -> None:
    cells = {
        "a": (2, people(1, 2)),
        "b": (3, people(1, 2, 3)),
        "c": (5, people(*range(10, 15))),
    }
    assert hidden_cells(cells) == {"a", "b", "c"}  # a and b are only 3 people together


def test_cells_whose_people_are_only_counted_decide_as_if_they_were_listed() -> None:
    """The database lists the people of small cells only, and counts the others': the same
    cells are hidden either way."""
    examples = [
        {"a": (1, people(1)), "b": (2, people(2, 3)), "c": (9, people(*range(10, 19)))},
        {"a": (2, people(1, 2)), "b": (3, people(1, 2, 3)), "c": (5, people(*range(10, 15)))},
        {
            "small": (3, people(1, 2)),
            "x": (6, people(*range(10, 16))),
            "y": (6, people(*range(20, 27))),
        },
    ]
    for listed in examples:
        counted = {
            key: (cases, len(who) if len(who) >= 5 else who) for key, (cases, who) in listed.items()
        }
        assert hidden_cells(counted) == hidden_cells(listed)


def test_age_band_on_the_day_of_submission() -> None:
    born = date(1985, 3, 27)
    assert age_band(born, date(2015, 3, 26)) == "18-29"  # 29 until the birthday
    assert age_band(born, date(2015, 3, 27)) == "30-44"
    assert age_band(date(2010, 1, 1), date(2027, 12, 31)) == "0-17"
    assert age_band(date(1960, 6, 1), date(2025, 6, 1)) == "65+"
    assert age_band(date(2030, 1, 1), date(2025, 1, 1)) is None


def test_district_is_a_spanish_postcode_or_nothing() -> None:
    assert district({"street": "Calle Nueva", "postcode": " 28013 "}) == "28013"
    assert district({"postcode": "SW1A 1AA"}) is None
    assert district({}) is None
    assert district("Calle Nueva 7, 28013") is None


def test_a_period_counts_whole_days_in_the_portal_time_zone() -> None:
    march = Period(date(2025, 3, 1), date(2025, 3, 31))
    start, end = march.bounds(ZoneInfo("Europe/Madrid"))
    assert start == datetime(2025, 2, 28, 23, 0, tzinfo=UTC)  # CET, UTC+1
    assert end == datetime(2025, 3, 31, 22, 0, tzinfo=UTC)  # CEST from 30 March, UTC+2
    assert march.days == 31
    assert march.months() == (date(2025, 3, 1), date(2025, 3, 1))
    assert Period.last_days(30, date(2025, 3, 30)) == Period(date(2025, 3, 1), date(2025, 3, 30))


@pytest.mark.parametrize("text", ["=1+1", "+34 600", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_text_a_spreadsheet_would_run_is_made_plain_text(text: str) -> None:
    assert neutralise(text) == "'" + text


def test_ordinary_text_is_left_alone() -> None:
    assert neutralise("Cambio de domicilio") == "Cambio de domicilio"
    assert neutralise("12.5") == "12.5"
