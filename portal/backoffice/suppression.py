"""Small-cell suppression: figures about groups of people never show a group of fewer
than five, nor let one be worked out from what is shown.

Primary suppression hides every cell that counts fewer than ``MIN_PEOPLE`` distinct
people (a cell of nobody is shown: there is no one to protect). A table's total is always
shown, so one hidden cell could be recomputed by subtracting the others from it; secondary
suppression therefore hides the next smallest cells too, until at least two are hidden and
together they count at least ``MIN_PEOPLE`` people. What is left to subtract is then
only the sum of several hidden cells, itself not small: the usual cell-suppression rule
of statistical offices for frequency tables.

People are whatever hashable value names them; a set of them is a cell's "people". A
cell of ``MIN_PEOPLE`` or more may give just their number instead (the database counts
them, ``figures_counts``): whoever they are, any group of cells holding it holds at least
``MIN_PEOPLE`` people, which is all the rule needs to know.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Set

MIN_PEOPLE = 5

People = Set[Hashable] | int


def head_count(people: People) -> int:
    return people if isinstance(people, int) else len(people)


def hidden_cells(cells: Mapping[str, tuple[int, People]]) -> set[str]:
    """The keys of ``cells`` (key → (value, people)) to hide in one column whose total is
    shown. Values are what the column adds up (cases, answers)."""
    hidden = {
        key for key, (value, people) in cells.items() if value and head_count(people) < MIN_PEOPLE
    }
    if not hidden:
        return hidden
    candidates = sorted(
        (key for key, (value, _people) in cells.items() if value and key not in hidden),
        key=lambda key: (cells[key][0], head_count(cells[key][1]), key),
    )
    for key in candidates:
        if len(hidden) >= 2 and _together(cells[one][1] for one in hidden) >= MIN_PEOPLE:
            break
        hidden.add(key)
    return hidden


def _together(groups: Iterable[People]) -> int:
    """How many different people the groups hold (at least ``MIN_PEOPLE`` once one of them
    is only counted)."""
    known: set[Hashable] = set()
    for people in groups:
        if isinstance(people, int):
            return max(people, MIN_PEOPLE)
        known |= people
    return len(known)
