"""Answers that make a form ask its conditional pages (``show_if``), or skip them.

Worked out from the definition alone, so the tests walk every procedure both ways
without knowing its questions: one set of answers shows every conditional page it can
(a value every condition on that question accepts; every box any condition names), the
other hides every one it can (a value no condition names).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from procedures.definitions import Condition, Field, Page

YES_NO = ("yes", "no")


def controlling_fields(pages: Sequence[Page]) -> list[Field]:
    """The questions some page depends on, in the form's order."""
    named = {page.show_if.field for page in pages if page.show_if is not None}
    return [one for page in pages for one in page.fields if one.id in named]


def conditions_on(pages: Sequence[Page], field_id: str) -> list[Condition]:
    return [p.show_if for p in pages if p.show_if is not None and p.show_if.field == field_id]


def _values(one: Field) -> list[str]:
    return list(YES_NO) if one.type == "yes_no" else [o.value for o in one.options]


def showing(pages: Sequence[Page], one: Field) -> Any:
    """The answer to ``one`` that asks every page depending on it (when one answer can)."""
    conditions = conditions_on(pages, one.id)
    if one.type == "checkboxes":
        return sorted({value for c in conditions for value in c.values})
    common = [v for v in _values(one) if all(v in c.values for c in conditions)]
    return common[0] if common else conditions[0].values[0]


def hiding(pages: Sequence[Page], one: Field) -> Any:
    """The answer to ``one`` that asks none of the pages depending on it, if there is one."""
    named = {value for c in conditions_on(pages, one.id) for value in c.values}
    others = [v for v in _values(one) if v not in named]
    if one.type == "checkboxes":
        return [others[0]] if others else [] if one.optional else [_values(one)[0]]
    return others[0] if others else _values(one)[0]


def showing_every_page(pages: Sequence[Page]) -> list[dict[str, Any]]:
    """Sets of answers that between them ask every conditional page: usually one; more only
    when two pages depend on different answers to the same question."""
    left = [page for page in pages if page.show_if is not None]
    fields = {one.id: one for page in pages for one in page.fields}
    scenarios: list[dict[str, Any]] = []
    while left:
        answers: dict[str, Any] = {}
        for page in left:
            condition = page.show_if
            assert condition is not None
            if fields[condition.field].type == "checkboxes":
                ticked = answers.setdefault(condition.field, [])
                if not any(value in ticked for value in condition.values):
                    ticked.append(condition.values[0])
            elif condition.field not in answers:
                answers[condition.field] = showing(pages, fields[condition.field])
        shown = [page for page in left if page.show_if.holds(answers)]  # type: ignore[union-attr]
        assert shown, f"no answers ask {[page.id for page in left]}"
        scenarios.append(answers)
        left = [page for page in left if page not in shown]
    return scenarios or [{}]


def hiding_every_page(pages: Sequence[Page]) -> dict[str, Any]:
    return {one.id: hiding(pages, one) for one in controlling_fields(pages)}


def asked(pages: Sequence[Page], answers: dict[str, Any]) -> list[str]:
    """The pages a citizen with these answers is asked, in order."""
    return [p.id for p in pages if p.show_if is None or p.show_if.holds(answers)]
