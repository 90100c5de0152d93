"""Small-cell suppression: figures about groups of people never show a group of fewer
than five, nor let one be worked out from what is shown.

Primary suppression hides every cell that counts fewer than ``MIN_PEOPLE`` distinct
people (a cell of nobody is shown: there is no one to protect). A table's total is always
shown, so one hidden cell could be recomputed by subtracting the others from it; secondary
suppression therefore hides the next smallest cells too, until at least two are hidden and
together they count at least ``MIN_PEOPLE`` people. What is left to subtract is then
only the sum of several hidden cells, itself not small: the usual cell-suppression rule
of statistical offices for frequency tables.

People are whatever hashable value names them; a set of them is a cell's "people".
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Set

MIN_PEOPLE = 5


def hidden_cells(cells: Mapping[str, tuple[int, Set[Hashable]]]) -> set[str]:
    """The keys of ``cells`` (key → (value, people)) to hide in one column whose total is
    shown. Values are what the column adds up (cases, answers)."""
    hidden = {key for key, (value, people) in cells.items() if value and len(people) < MIN_PEOPLE}
    if not hidden:
        return hidden
    candidates = sorted(
        (key for key, (value, _people) in cells.items() if value and key not in hidden),
        key=lambda key: (cells[key][0], len(cells[key][1]), key),
    )
    for key in candidates:
        together: set[Hashable] = set().union(*(cells[one][1] for one in hidden))
        if len(hidden) >= 2 and len(together) >= MIN_PEOPLE:
            break
        hidden.add(key)
    return hidden
