"""The staff inbox as a supervisor pages through it: nearest legal deadline first (then the
oldest sent, then the first registered; no deadline last), one page after another and
back again from where each page ends, with each filter choosing its cases, on SQLite and
on PostgreSQL. Pages are found by position (``portal.backoffice.paging``), so a page
boundary falling between two cases due at the same moment must neither lose nor repeat
one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from itertools import chain

import pytest
from flask import Flask
from sqlalchemy import event, update

from identity import accounts
from identity.models import Account
from portal.backoffice import cases, staff
from portal.extensions import db
from procedures import applications, catalogue, samples, workflow
from procedures.models import Application
from tests.support.staff import staff_member

pytestmark = pytest.mark.database

BULKY = "bulky-waste-collection"  # City Council, one month to decide
SPORTS = "sports-centre-membership"  # City Council, three months
GENERAL = "general-application"
#: "Now" for the overdue filter: 1 June 2025, before anything due that day.
NOW = datetime(2025, 6, 1, 8, tzinfo=UTC)


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


def apply(account: Account, slug: str, sent: str) -> Application:
    procedure = catalogue.get(slug)
    application = applications.start(account, procedure, "es", now=at(sent))
    samples.fill(application, procedure)
    applications.submit(application, procedure, now=at(sent))
    return application


def supervisor() -> staff.Staff:
    account = accounts.create_account("marta@villanueva.example", "una clave bien larga", "es")
    assert account is not None
    member = staff.make_staff(account, "city-council", "Padrón", "supervisor")
    db.session.flush()
    return staff.Staff(member, account)


def council_cases(me: staff.Staff) -> dict[str, str]:
    """Nine open cases of the City Council, one closed, one of the Civil Registry's;
    name → reference."""
    ana = accounts.create_account("ana@example.es", "una clave bien larga", "es")
    assert ana is not None
    made = {
        "b_jan": apply(ana, BULKY, "2025-01-10 10:00"),  # due 10 February: overdue
        "s_feb": apply(ana, SPORTS, "2025-02-01 10:00"),  # due 1 May: overdue, in review
        "b_may1": apply(ana, BULKY, "2025-05-01 10:00"),  # due 1 June 10:00
        "b_may1b": apply(ana, BULKY, "2025-05-01 10:00"),  # the same moment: after b_may1
        "b_may1c": apply(ana, BULKY, "2025-05-01 09:00"),  # due 1 June 09:00: before both
        "s_mar": apply(ana, SPORTS, "2025-03-10 10:00"),  # due 10 June; waiting for Ana
        "b_may20": apply(ana, BULKY, "2025-05-20 10:00"),
        "s_may": apply(ana, SPORTS, "2025-05-15 10:00"),  # due 15 August
        "g_none": apply(ana, GENERAL, "2025-05-02 10:00"),  # no deadline: last
        "closed": apply(ana, BULKY, "2025-01-05 10:00"),
        "registry": apply(ana, "civil-registry-certificate", "2025-05-03 10:00"),
    }
    sports = catalogue.get(SPORTS)
    workflow.change_state(made["s_feb"], sports, "in_review", "staff", me.account_id)
    assert cases.claim(me, made["s_feb"].id)
    workflow.request_information(
        made["s_mar"], sports, "Envíe el justificante.", me.account_id, now=at("2025-03-12 10:00")
    )
    bulky = catalogue.get(BULKY)
    workflow.change_state(made["closed"], bulky, "in_review", "staff", me.account_id)
    workflow.change_state(made["closed"], bulky, "resolved_favourable", "staff", me.account_id)
    db.session.execute(
        update(Application).where(Application.id == made["g_none"].id).values(due_at=None)
    )
    db.session.commit()
    return {name: one.reference for name, one in made.items()}


OPEN_ORDER = [
    "b_jan",
    "s_feb",
    "b_may1c",
    "b_may1",
    "b_may1b",
    "s_mar",
    "b_may20",
    "s_may",
    "g_none",
]


def walk(
    me: staff.Staff, filters: cases.Filters, names: dict[str, str]
) -> tuple[list[list[str]], list[list[str]]]:
    """Every page forwards from the first, then every page backwards from the last."""
    by_reference = {reference: name for name, reference in names.items()}
    forwards, backwards = [], []
    page = cases.inbox(me, filters, "en", now=NOW)
    assert page.previous is None
    while True:
        forwards.append([by_reference[row.reference] for row in page.rows])
        if page.next is None:
            break
        page = cases.inbox(me, filters, "en", after=page.next, now=NOW)
    while True:
        backwards.append([by_reference[row.reference] for row in page.rows])
        if page.previous is None:
            break
        page = cases.inbox(me, filters, "en", before=page.previous, now=NOW)
    return forwards, backwards


def joined(pages: list[list[str]]) -> list[str]:
    return list(chain.from_iterable(pages))


def test_pages_follow_the_deadline_order_forwards_and_back(
    db_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = supervisor()
    names = council_cases(me)
    monkeypatch.setattr(cases, "PAGE_SIZE", 2)

    forwards, backwards = walk(me, cases.Filters(), names)

    pages = [OPEN_ORDER[n : n + 2] for n in range(0, len(OPEN_ORDER), 2)]
    assert forwards == pages  # b_may1 and b_may1b, due together, on either side of a page
    assert backwards == pages[::-1]
    first = cases.inbox(me, cases.Filters(), "en", now=NOW)
    assert (first.total, first.overdue) == (9, 2)


def test_every_page_size_gives_the_same_order(db_app: Flask, monkeypatch: pytest.MonkeyPatch):
    me = supervisor()
    names = council_cases(me)
    for size in (1, 3, 4, 9, 25):
        monkeypatch.setattr(cases, "PAGE_SIZE", size)
        forwards, backwards = walk(me, cases.Filters(), names)
        assert joined(forwards) == OPEN_ORDER, size
        assert joined(backwards[::-1]) == OPEN_ORDER, size


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (cases.Filters(overdue=True), ["b_jan", "s_feb"]),
        (cases.Filters(waiting=True), ["s_mar"]),
        (cases.Filters(procedure=SPORTS), ["s_feb", "s_mar", "s_may"]),
        (cases.Filters(state="in_review"), ["s_feb"]),
        (cases.Filters(state="all"), ["closed", *OPEN_ORDER]),
        (cases.Filters(state="resolved_favourable"), ["closed"]),
        (cases.Filters(state="no-such-state"), []),
        (cases.Filters(assigned="mine"), ["s_feb"]),
        (cases.Filters(assigned="unassigned", procedure=SPORTS), ["s_mar", "s_may"]),
        (cases.Filters(procedure=BULKY, overdue=True, assigned="mine"), []),
        (cases.Filters(procedure="civil-registry-certificate"), OPEN_ORDER),  # not theirs
    ],
)
def test_each_filter_chooses_its_cases_in_order(
    db_app: Flask, monkeypatch: pytest.MonkeyPatch, filters: cases.Filters, expected: list[str]
) -> None:
    me = supervisor()
    names = council_cases(me)
    monkeypatch.setattr(cases, "PAGE_SIZE", 2)

    forwards, backwards = walk(me, filters, names)

    assert joined(forwards) == expected
    assert joined(backwards[::-1]) == expected
    assert cases.inbox(me, filters, "en", now=NOW).total == len(expected)


def test_cases_are_counted_up_to_a_limit(db_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Listing every case of a large agency, closed ones too, costs a page, not a count."""
    me = supervisor()
    council_cases(me)
    monkeypatch.setattr(cases, "COUNT_LIMIT", 4)
    many = cases.inbox(me, cases.Filters(state="all"), "en", now=NOW)
    assert (many.total, many.beyond_count, len(many.rows)) == (5, True, 10)
    few = cases.inbox(me, cases.Filters(procedure=SPORTS), "en", now=NOW)
    assert (few.total, few.beyond_count) == (3, False)


def test_a_page_from_another_agencys_case_does_not_exist(db_app: Flask) -> None:
    me = supervisor()
    names = council_cases(me)
    for cursor in ({"after": names["registry"]}, {"before": "AAAA-BBBB-CCCC"}):
        with pytest.raises(cases.UnknownCaseError):
            cases.inbox(me, cases.Filters(), "en", now=NOW, **cursor)


def test_a_later_page_asks_as_many_queries_as_the_first(
    db_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = supervisor()
    names = council_cases(me)
    monkeypatch.setattr(cases, "PAGE_SIZE", 2)

    def queries(**cursor: str) -> int:
        statements: list[str] = []

        def count(*_args: object) -> None:
            statements.append("query")

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            cases.inbox(me, cases.Filters(), "en", now=NOW, **cursor)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    queries()  # the first call may load what later ones reuse
    first = queries()
    assert queries(after=names["b_may1"]) == queries(before=names["s_may"]) == first + 1


def test_a_supervisor_follows_next_and_previous_with_the_filters_kept(
    site: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = staff_member(site, "marta@villanueva.example", role="supervisor")
    with site.test_request_context("/es/"):
        me = staff.Staff(
            staff.membership(worker.account().id),  # type: ignore[arg-type]
            db.session.get(Account, worker.account().id),  # type: ignore[arg-type]
        )
        names = council_cases(me)
    monkeypatch.setattr(cases, "PAGE_SIZE", 2)
    link = re.compile(r'<a href="([^"]+)" rel="(prev|next)">')

    def links(page: str) -> dict[str, str]:
        return {rel: href.replace("&amp;", "&") for href, rel in link.findall(page)}

    first = worker.client.get(f"/en/staff/?procedure={SPORTS}").text
    assert names["s_feb"] in first and names["s_mar"] in first and names["s_may"] not in first
    assert "3 cases, the nearest legal deadline first." in first
    following = links(first)
    assert set(following) == {"next"}
    assert f"after={names['s_mar']}" in following["next"]
    assert f"procedure={SPORTS}" in following["next"]

    second = worker.client.get(following["next"]).text
    assert names["s_may"] in second and names["s_feb"] not in second
    assert set(links(second)) == {"prev"}
    back = worker.client.get(links(second)["prev"]).text
    assert names["s_feb"] in back and names["s_mar"] in back and 'rel="prev"' not in back

    monkeypatch.setattr(cases, "COUNT_LIMIT", 2)
    assert "More than 2 cases, the nearest legal deadline first." in worker.text("/en/staff/")

    # From a case of another agency, there is no such page; from one with nothing
    # after it any more (the rest closed since), the first page again, filters kept.
    assert worker.client.get(f"/en/staff/?after={names['registry']}").status_code == 404
    gone = worker.client.get(f"/en/staff/?procedure={SPORTS}&after={names['s_may']}")
    assert gone.status_code == 302
    assert gone.headers["Location"].endswith(f"/en/staff/?procedure={SPORTS}")
