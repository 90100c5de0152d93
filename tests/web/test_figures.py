"""The agency's figures, as a supervisor reads them: every number checked against one
worked out by hand from cases with known times, on SQLite and on PostgreSQL; small groups
of people hidden, and the cells that would give them away too; the CSV; and no figures
at all for a caseworker, a citizen or another agency.

Times are UTC; the period is March 2025 in Madrid (UTC+1, then UTC+2 from 30 March), so
the first second of the period is 28 February 23:00 UTC and the last 31 March 21:59 UTC.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import event, select

from identity import accounts, record
from identity.models import Account
from portal.backoffice import figures, figures_csv
from portal.backoffice.decisions import FAVOURABLE, UNFAVOURABLE
from portal.backoffice.figures import Measures
from portal.backoffice.period import Period
from portal.extensions import db
from portal.folder.satisfaction import Answer
from procedures import applications, catalogue, samples, workflow
from procedures.abandonment import CHECK, AbandonedDraft
from procedures.definitions import Procedure
from procedures.models import Application
from tests.support.citizen import Citizen
from tests.support.staff import staff_member
from tests.support.translations import translate

pytestmark = pytest.mark.database

ZONE = ZoneInfo("Europe/Madrid")
MARCH = Period(date(2025, 3, 1), date(2025, 3, 31))
#: When "overdue now" is counted in the hand-worked example.
NOW = datetime(2025, 4, 1, 10, tzinfo=UTC)
BULKY = "bulky-waste-collection"  # City Council, legal deadline one month
SPORTS = "sports-centre-membership"  # City Council, three months
REGISTRY = "civil-registry-certificate"  # another agency's
PASSWORD = "una contraseña larga para las pruebas"
MARCH_QUERY = "first-day=1&first-month=3&first-year=2025&last-day=31&last-month=3&last-year=2025"


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


def person(
    email: str, born: str | None = None, postcode: str | None = None, lang: str = "es"
) -> Account:
    account = accounts.create_account(email, PASSWORD, lang)
    assert account is not None
    if born:
        record.record(account, "birth_date", born, "police")
    if postcode:
        address = {"street": "Calle Mayor", "number": "1", "postcode": postcode}
        record.record(account, "address", {**address, "municipality": "Villanueva"}, "citizen")
    return account


def apply(
    account: Account,
    slug: str,
    when: datetime,
    lang: str = "es",
    assisted_by: int | None = None,
) -> tuple[Application, Procedure]:
    procedure = catalogue.get(slug)
    application = applications.start(account, procedure, lang, now=when, assisted_by=assisted_by)
    samples.fill(application, procedure)
    applications.submit(application, procedure, now=when, by_account_id=assisted_by)
    return application, procedure


def review(case: tuple[Application, Procedure], when: datetime) -> None:
    workflow.change_state(*case, "in_review", "staff", None, now=when)


def resolve(case: tuple[Application, Procedure], when: datetime, outcome: str = FAVOURABLE):
    workflow.change_state(*case, outcome, "staff", None, kind="decided", now=when)
    db.session.commit()


def ask(case: tuple[Application, Procedure], when: datetime) -> None:
    workflow.request_information(*case, "Envíe el documento firmado.", None, now=when)


def answer(case: tuple[Application, Procedure], when: datetime) -> None:
    workflow.answer_request(*case, "Adjunto.", [], now=when)


def line(lines: list[figures.Line], key: str) -> Measures:
    return next(one.measures for one in lines if one.key == key)


def march_cases() -> None:
    """The hand-worked example: eight cases received in March, five resolved."""
    ana, ben, carla = person("ana@example.es"), person("ben@example.es"), person("carla@example.es")
    dani, eva = person("dani@example.es"), person("eva@example.es")
    clerk = person("clerk@villanueva.example")

    a1 = apply(ana, BULKY, at("2025-03-01 10:00"))
    review(a1, at("2025-03-01 11:00"))
    resolve(a1, at("2025-03-03 10:00"))  # 2 days
    a2 = apply(ben, BULKY, at("2025-03-02 10:00"))
    ask(a2, at("2025-03-03 10:00"))  # the clock stops for two days: due 4 April
    answer(a2, at("2025-03-05 10:00"))
    resolve(a2, at("2025-03-12 10:00"), UNFAVOURABLE)  # 10 days
    apply(carla, BULKY, at("2025-03-05 10:00"))  # still new
    a4 = apply(dani, BULKY, at("2025-03-10 10:00"), assisted_by=clerk.id)  # at a counter
    review(a4, at("2025-03-11 09:00"))
    resolve(a4, at("2025-03-14 16:00"))  # 4.25 days
    c2 = apply(eva, BULKY, at("2025-03-30 10:00"))
    review(c2, at("2025-03-30 11:00"))
    resolve(c2, at("2025-03-31 22:00"))  # midnight in Madrid: 1 April, out of the period
    c3 = apply(ben, BULKY, at("2025-03-25 10:00"))
    review(c3, at("2025-03-25 11:00"))
    resolve(c3, at("2025-03-31 21:00"))  # 23:00 in Madrid, in: 6 days 11 hours
    c1 = apply(dani, BULKY, at("2025-02-20 10:00"))
    review(c1, at("2025-02-21 10:00"))
    resolve(c1, at("2025-02-25 10:00"))  # received and resolved before the period
    apply(eva, BULKY, at("2025-01-10 10:00"), assisted_by=clerk.id)  # due 10 Feb: overdue

    b1 = apply(eva, SPORTS, at("2024-10-01 10:00"))  # due 1 January 2025
    review(b1, at("2024-10-02 10:00"))
    resolve(b1, at("2025-03-20 10:00"))  # 170 days, late
    b2 = apply(ana, SPORTS, at("2025-03-15 10:00"))
    ask(b2, at("2025-03-16 10:00"))
    answer(b2, at("2025-03-18 10:00"))
    ask(b2, at("2025-03-20 10:00"))  # waiting for the applicant: never overdue
    db.session.commit()
    b3 = apply(ben, SPORTS, at("2024-12-01 10:00"))  # due 1 March 2025: overdue on 1 April
    review(b3, at("2024-12-02 10:00"))
    db.session.commit()
    apply(carla, SPORTS, at("2025-02-28 23:30"), assisted_by=clerk.id)  # 00:30 on 1 March

    other = apply(ana, REGISTRY, at("2025-03-10 10:00"))  # the Civil Registry's
    review(other, at("2025-03-10 11:00"))
    resolve(other, at("2025-03-11 10:00"))


def test_every_figure_matches_the_hand_worked_example(db_app: Flask) -> None:
    march_cases()
    found = figures.compute("city-council", MARCH, "en", ZONE, NOW)

    days = {"a1": 2.0, "a2": 10.0, "a4": 4.25, "c3": 6 + 11 / 24, "b1": 170.0}
    assert line(found.procedures, BULKY) == Measures(
        received=6,  # a1 a2 a3 a4 c2 c3
        resolved=4,  # a1 a2 a4 c3
        median_days=pytest.approx((days["a4"] + days["c3"]) / 2),
        p90_days=pytest.approx(days["c3"] + 0.7 * (days["a2"] - days["c3"])),
        within_deadline=1.0,
        overdue=1,  # the January counter case
        requests_per_case=pytest.approx(1 / 6),
    )
    assert line(found.procedures, SPORTS) == Measures(
        received=2,  # b2, and the counter case sent at 00:30 on 1 March in Madrid
        resolved=1,
        median_days=170.0,
        p90_days=170.0,
        within_deadline=0.0,
        overdue=1,  # b3
        requests_per_case=1.0,  # b2 was asked twice
    )
    assert found.total == Measures(
        received=8,
        resolved=5,
        median_days=pytest.approx(days["c3"]),
        p90_days=pytest.approx(10.0 + 0.6 * 160.0),
        within_deadline=0.8,
        overdue=2,
        requests_per_case=3 / 8,
    )
    assert line(found.channels, "online") == Measures(
        received=6,
        resolved=4,  # a1 a2 c3 b1
        median_days=pytest.approx((days["c3"] + 10.0) / 2),
        p90_days=pytest.approx(10.0 + 0.7 * 160.0),
        within_deadline=0.75,
        overdue=1,
        requests_per_case=0.5,
    )
    assert line(found.channels, "counter") == Measures(
        received=2,
        resolved=1,
        median_days=4.25,
        p90_days=4.25,
        within_deadline=1.0,
        overdue=1,
        requests_per_case=0.0,
    )
    assert REGISTRY not in {one.key for one in found.procedures}
    idle = line(found.procedures, "general-application")  # listed, with nothing in it
    assert (idle.received, idle.resolved, idle.median_days, idle.requests_per_case) == (
        0,
        0,
        None,
        None,
    )


def test_the_figures_take_six_queries_however_many_cases_there_are(db_app: Flask) -> None:
    def queries_for_figures() -> int:
        statements: list[str] = []

        def count(*_args: object) -> None:
            statements.append("query")

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            figures.compute("city-council", MARCH, "en", ZONE, NOW)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    few = queries_for_figures()
    march_cases()
    for n in range(6):
        case = apply(person(f"more{n}@example.es"), SPORTS, at(f"2025-03-0{n + 2} 10:00"))
        review(case, at(f"2025-03-0{n + 2} 12:00"))
        resolve(case, at(f"2025-03-1{n} 10:00"))
    db.session.expire_all()
    assert few == queries_for_figures() == 6


def segment(found: figures.Figures, key: str) -> dict[str, tuple[object, ...]]:
    """label → (received, resolved, median days), a hidden cell as "hidden"."""
    table = next(one for one in found.segments if one.key == key)

    def shown(cell: figures.Cell) -> object:
        return "hidden" if cell.hidden else cell.value

    rows = {
        row.label: (shown(row.received), shown(row.resolved), shown(row.median_days))
        for row in table.rows
    }
    rows["Total"] = (
        table.total.received.value,
        table.total.resolved.value,
        table.total.median_days.value,
    )
    return rows


def applicants_of_march() -> None:
    """Sixteen people and twenty cases, received on 10 March."""
    day = at("2025-03-10 10:00")
    resolved = []
    for n in range(7):  # 30 to 44 on 10 March 2025, central district, Spanish
        someone = person(f"thirty{n}@example.es", "1990-05-05", "28013")
        resolved.append(apply(someone, BULKY, day))
        if n == 0:
            resolved.append(apply(someone, SPORTS, day))  # a second case, the same person
    for n in range(6):  # 45 to 64, north district, Spanish
        someone = person(f"fifty{n}@example.es", "1970-01-01", "28001")
        case = apply(someone, BULKY, day)
        if n < 2:
            review(case, day)
            resolve(case, at(f"2025-03-{20 + 2 * n} 10:00"))  # 10 and 12 days
    for n, count in enumerate((3, 2)):  # 65 and over, central, in Catalan: 5 cases, 2 people
        someone = person(f"older{n}@example.es", "1950-01-01", "28013", lang="ca")
        for k in range(count):
            apply(someone, (BULKY, SPORTS, "general-application")[k], day, lang="ca")
    apply(person("unknown@example.es"), BULKY, day, lang="ar")  # nothing in the record
    for n, case in enumerate(resolved):  # 1 to 8 days
        review(case, day)
        resolve(case, day + timedelta(days=n + 1))


def test_who_applied_hides_groups_of_fewer_than_five_people(db_app: Flask) -> None:
    applicants_of_march()
    found = figures.compute("city-council", MARCH, "en", ZONE, NOW)

    # 65+ (two people, five cases) and "not known" (one) are small; together they are
    # still only three people, whose six cases 20 - 8 - 6 would give away: so the next
    # smallest band (45 to 64, six people) is hidden too.
    assert segment(found, "age_band") == {
        "30 to 44": (8, "hidden", 4.5),  # resolved: 8 cases of 7 people, hidden with 45-64's
        "45 to 64": ("hidden", "hidden", "hidden"),  # two resolved: their median too
        "65 and over": ("hidden", 0, None),
        "Not known": ("hidden", 0, None),
        "Total": (20, 10, 5.5),
    }
    assert segment(found, "district") == {
        "28001": ("hidden", "hidden", "hidden"),  # six people, hidden to protect "not known"
        "28013": (13, "hidden", 4.5),
        "Not known": ("hidden", 0, None),
        "Total": (20, 10, 5.5),
    }
    # Catalan (two people) and Arabic (one) are three together: Spanish goes as well.
    assert segment(found, "language") == {
        "Spanish": ("hidden", 10, 5.5),  # nobody else had a case resolved: nothing to hide
        "Catalan": ("hidden", 0, None),
        "Arabic": ("hidden", 0, None),
        "Total": (20, 10, 5.5),
    }
    with db_app.test_request_context("/en/"):
        rows = list(csv.reader(io.StringIO(figures_csv.render(found).removeprefix("\ufeff"))))
    hidden = [row for row in rows if row[0] == "By age band when they applied" and row[4]]
    assert {(row[1], row[2]) for row in hidden} >= {
        ("65 and over", "Cases received"),
        ("45 to 64", "Cases received"),
        ("Not known", "Cases received"),
    }
    assert all(row[3] == "" for row in hidden)


def test_submission_keeps_a_band_and_district_never_the_birth_date(db_app: Flask) -> None:
    someone = person("lola@example.es", "1985-03-27", "28013")
    application, _procedure = apply(someone, BULKY, at("2025-03-26 10:00"))
    assert (application.age_band, application.district) == ("30-44", "28013")
    young = apply(
        person("nico@example.es", "2015-01-01", "Calle sin código"), BULKY, at("2025-03-26 10:00")
    )
    assert (young[0].age_band, young[0].district) == ("0-17", None)


def test_where_online_forms_stop_survives_the_drafts_deletion(db_app: Flask) -> None:
    bulky = catalogue.get(BULKY)
    first, *rest = applications.visible_pages(bulky, {})
    apply(person("sent@example.es"), BULKY, at("2025-03-02 10:00"))
    untouched = applications.start(
        person("left@example.es"), bulky, "es", now=at("2025-03-03 10:00")
    )
    one_page = applications.start(person("one@example.es"), bulky, "es", now=at("2025-03-04 10:00"))
    values = {field.id: samples.sample(field) for field in first.fields}
    applications.save_page(one_page, bulky, first, values, now=at("2025-03-04 10:05"))
    almost = applications.start(
        person("almost@example.es"), bulky, "es", now=at("2025-03-05 10:00")
    )
    samples.fill(almost, bulky)
    applications.save_page(almost, bulky, first, {}, now=at("2025-03-05 10:30"))
    earlier = applications.start(person("feb@example.es"), bulky, "es", now=at("2025-02-27 10:00"))
    db.session.commit()
    assert (untouched.reached_page, one_page.reached_page, almost.reached_page) == (
        first.id,
        rest[0].id,
        CHECK,
    )
    assert earlier.reached_page == first.id
    assert (
        db.session.scalar(select(Application.reached_page).where(Application.status != "draft"))
        is None
    )  # sent: no longer a place in the form

    position = applications.all_pages(bulky).index(rest[0]) + 1
    before = figures.compute("city-council", MARCH, "en", ZONE, NOW).abandonment
    assert [(form.label, form.started, form.sent, form.unsent) for form in before] == [
        ("Ask us to collect furniture and bulky items from your door", 4, 1, 3)
    ]
    assert [(page.key, page.position, page.drafts, page.deleted) for page in before[0].pages] == [
        (first.id, 1, 1, 0),
        (rest[0].id, position, 1, 0),  # its place in the form, conditional pages included
        (CHECK, len(applications.all_pages(bulky)) + 1, 1, 0),
    ]

    assert applications.delete_expired_drafts(now=at("2025-05-01 10:00")) == 4
    kept = db.session.scalars(select(AbandonedDraft).order_by(AbandonedDraft.started_on)).all()
    assert [(row.started_on, row.reached_page) for row in kept] == [
        (date(2025, 2, 27), first.id),
        (date(2025, 3, 3), first.id),
        (date(2025, 3, 4), rest[0].id),
        (date(2025, 3, 5), CHECK),
    ]
    after = figures.compute("city-council", MARCH, "en", ZONE, NOW).abandonment
    assert [(page.key, page.drafts, page.deleted) for page in after[0].pages] == [
        (first.id, 0, 1),
        (rest[0].id, 0, 1),
        (CHECK, 0, 1),
    ]
    assert (after[0].started, after[0].sent, after[0].unsent_share) == (4, 1, 0.75)


def test_a_closing_account_leaves_where_its_drafts_stopped_and_nothing_of_whose(
    db_app: Flask,
) -> None:
    leaving = person("leaving@example.es")
    bulky = catalogue.get(BULKY)
    applications.start(leaving, bulky, "es", now=at("2025-03-07 10:00"))
    db.session.commit()
    applications.forget_drafts(leaving)
    db.session.commit()
    kept = db.session.scalars(select(AbandonedDraft)).one()
    assert (kept.procedure_slug, kept.channel, kept.started_on, kept.reached_page) == (
        BULKY,
        "online",
        date(2025, 3, 7),
        applications.visible_pages(bulky, {})[0].id,
    )
    assert {column.name for column in AbandonedDraft.__table__.columns} == {
        "id",
        "procedure_slug",
        "channel",
        "started_on",
        "reached_page",
    }


def answers(procedure: str, month: date, ratings: list[int], agency: str = "city-council") -> None:
    for rating in ratings:
        db.session.add(
            Answer(
                procedure_slug=procedure, agency=agency, language="es", month=month, rating=rating
            )
        )
    db.session.commit()


def test_satisfaction_by_procedure_and_month_hides_small_groups(db_app: Flask) -> None:
    answers(BULKY, date(2025, 3, 1), [5, 5, 4, 3, 1])
    answers(BULKY, date(2025, 4, 1), [5, 4])  # the period ends on 3 April: April counts
    answers(SPORTS, date(2025, 3, 1), [2, 2])  # two people: hidden
    answers("general-application", date(2025, 4, 1), [4, 4, 5, 5, 5, 3])
    answers(BULKY, date(2025, 2, 1), [1])  # before the period's first month
    answers(REGISTRY, date(2025, 3, 1), [1, 1, 1, 1, 1], agency="civil-registry")
    period = Period(date(2025, 3, 10), date(2025, 4, 3))
    found = figures.compute("city-council", period, "en", ZONE, NOW)

    rows = {one.label: one for one in found.satisfaction}
    bulky = rows["Ask us to collect furniture and bulky items from your door"]
    assert (bulky.answers, bulky.mean, bulky.counts, bulky.hidden) == (
        7,
        pytest.approx(27 / 7),
        {5: 3, 4: 2, 3: 1, 2: 0, 1: 1},
        False,
    )
    # Sports (2) is small; general application (6) is hidden with it, so that the total
    # (15) less bulky waste (7) does not give the sports answers away.
    assert rows["Get a municipal sports centre membership"].hidden
    assert rows["Send a general application to the City Council"].hidden
    everyone = found.satisfaction_total
    assert (everyone.answers, everyone.mean, everyone.hidden) == (15, pytest.approx(57 / 15), False)
    months = {one.key: (one.answers, one.hidden) for one in found.satisfaction_months}
    assert months == {"2025-03": (7, False), "2025-04": (8, False)}


def test_a_handful_of_answers_in_all_is_not_shown_at_all(db_app: Flask) -> None:
    answers(BULKY, date(2025, 3, 1), [1, 5])
    found = figures.compute("city-council", MARCH, "en", ZONE, NOW)
    assert found.satisfaction_total.hidden
    assert all(one.hidden for one in found.satisfaction + found.satisfaction_months)


def test_csv_text_cannot_run_as_a_formula(db_app: Flask) -> None:
    march_cases()
    found = figures.compute("city-council", MARCH, "en", ZONE, NOW)
    tampered = replace(
        found,
        procedures=[replace(found.procedures[0], label='=HYPERLINK("http://evil.example","x")')],
    )
    with db_app.test_request_context("/en/"):
        text = figures_csv.render(tampered)
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    labels = {row[1] for row in rows if row[0] == "By procedure"}
    assert '\'=HYPERLINK("http://evil.example","x")' in labels
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


# --- As staff use it ---------------------------------------------------------------


def _march_for_the_site(site: Flask) -> None:
    with site.test_request_context("/es/"):
        march_cases()
        db.session.commit()


def test_a_supervisor_reads_the_figures_and_downloads_them(site: Flask) -> None:
    _march_for_the_site(site)
    supervisor = staff_member(site, "jefa@villanueva.example", role="supervisor", lang="es")

    page = supervisor.page(f"/es/staff/figures?{MARCH_QUERY}")
    table = page.find(".//table[@id='by-procedure']")
    cells = {
        " ".join("".join(row.find("th").itertext()).split()): [
            " ".join("".join(cell.itertext()).split()) for cell in row.findall("td")
        ]
        for row in table.iter("tr")
        if row.find("th") is not None and row.findall("td")
    }
    # Spanish numbers: a decimal comma, a space before %.
    assert cells["Pedir la recogida de muebles y trastos en su puerta"] == [
        "6",
        "4",
        "5,4",
        "8,9",
        "100 %",
        "2",  # counted today: the case still new since 5 March, and January's
        "0,17",
    ]
    total = translate(site, "es", "Total")
    assert cells[total] == ["8", "5", "6,5", "106", "80 %", "4", "0,38"]
    charts = [svg for svg in page.iter() if svg.tag.endswith("svg") and svg.get("role") == "img"]
    assert len(charts) >= 2 and all(svg.get("aria-labelledby") for svg in charts)

    response = supervisor.client.get(f"/es/staff/figures.csv?{MARCH_QUERY}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert (
        "figures-city-council-2025-03-01-2025-03-31.csv" in response.headers["Content-Disposition"]
    )
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == [
        translate(site, "es", word) for word in ("Table", "Row", "Measure", "Value", "Note")
    ]
    by_procedure = translate(site, "es", "By procedure")
    totals = {row[2]: row[3] for row in rows if row[0] == by_procedure and row[1] == total}
    assert totals == {
        translate(site, "es", "Cases received"): "8",
        translate(site, "es", "Cases resolved"): "5",
        translate(site, "es", "Median days to resolve"): "6.5",
        translate(site, "es", "90th percentile of days to resolve"): "106.0",
        translate(site, "es", "Resolved within the legal deadline (%)"): "80.0",
        translate(site, "es", "Overdue now"): "4",
        translate(site, "es", "Requests for information per case"): "0.38",
    }


def test_the_page_asks_as_many_queries_for_a_busy_agency_as_for_an_idle_one(site: Flask) -> None:
    supervisor = staff_member(site, "jefa@villanueva.example", role="supervisor")
    url = f"/en/staff/figures?{MARCH_QUERY}"

    def queries() -> int:
        statements: list[str] = []

        def count(*_args: object) -> None:
            statements.append("query")

        with site.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert supervisor.client.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    supervisor.client.get(url)  # the first visit may set up what later ones reuse
    idle = queries()
    _march_for_the_site(site)
    busy = queries()
    assert busy == idle


def test_caseworkers_citizens_and_other_agencies_get_no_figures(site: Flask) -> None:
    _march_for_the_site(site)
    caseworker = staff_member(site, "pepe@villanueva.example", role="caseworker")
    for url in ("/en/staff/figures", f"/en/staff/figures.csv?{MARCH_QUERY}"):
        assert caseworker.client.get(url).status_code == 403
    citizen = Citizen(site, site.test_client(), "vecina@example.es").register()
    assert citizen.client.get("/en/staff/figures").status_code == 404

    registry = staff_member(
        site, "juez@registro.example", agency="civil-registry", role="supervisor"
    )
    text = registry.text(f"/en/staff/figures?{MARCH_QUERY}")
    assert "Ask us to collect furniture and bulky items from your door" not in text
    assert "Get a birth, marriage or death certificate" in text
    response = registry.client.get(f"/en/staff/figures.csv?{MARCH_QUERY}")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))
    totals = {row[2]: row[3] for row in rows if row[0] == "By procedure" and row[1] == "Total"}
    assert totals["Cases received"] == "1" and totals["Cases resolved"] == "1"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "first-day=31&first-month=2&first-year=2025&last-day=1&last-month=3&last-year=2025",
            "“First day” must be a real date",
        ),
        (
            "first-day=1&first-month=3&first-year=2025&last-day=&last-month=&last-year=",
            "Enter a date for “Last day”",
        ),
        (
            "first-day=1&first-month=3&first-year=2025&last-day=1&last-month=2&last-year=2025",
            "The last day must be the same as the first day or later",
        ),
    ],
)
def test_wrong_dates_are_explained_and_show_no_figures(
    site: Flask, query: str, message: str
) -> None:
    supervisor = staff_member(site, "jefa@villanueva.example", role="supervisor")
    page = supervisor.page(f"/en/staff/figures?{query}")
    summary = page.find(".//div[@class='error-summary']")
    assert summary is not None and message in "".join(summary.itertext())
    assert page.find(".//table") is None
    assert supervisor.client.get(f"/en/staff/figures.csv?{query}").status_code == 400


def test_the_way_to_the_figures_is_offered_to_supervisors_only(site: Flask) -> None:
    supervisor = staff_member(site, "jefa@villanueva.example", role="supervisor")
    caseworker = staff_member(site, "pepe@villanueva.example", role="caseworker")
    inbox = supervisor.page("/en/staff/")
    assert "/en/staff/figures" in {a.get("href") for a in inbox.iter("a")}
    inbox = caseworker.page("/en/staff/")
    assert "/en/staff/figures" not in {a.get("href") for a in inbox.iter("a")}


def test_the_demo_supervisor_has_figures_worth_reading(site: Flask) -> None:
    from identity import demo
    from portal.backoffice import demo as staff_demo

    site.config["PORTAL_ENV"] = "development"
    loaded = site.test_cli_runner().invoke(args=["demo", "load"])
    assert loaded.exit_code == 0, loaded.output
    marta = Citizen(site, site.test_client(), staff_demo.EMAIL, password=demo.PASSWORD)
    marta.totp_secret = demo.TOTP_SECRET
    marta.sign_in()

    page = marta.page("/en/staff/figures")
    totals = [
        " ".join("".join(cell.itertext()).split())
        for cell in page.find(".//table[@id='by-procedure']/tfoot/tr").findall("td")
    ]
    received, resolved = int(totals[0]), int(totals[1])
    assert received >= 15 and resolved >= 12 and totals[5] == "1"  # the inbox's overdue case
    ages = page.find(".//table[@id='segment-age_band']/tbody")
    shown = ["".join(row.find("td").itertext()).strip() for row in ages.findall("tr")]
    assert "not shown" in shown and any(value.isdigit() for value in shown)
    assert page.find(".//table[@id='stopped-1']") is not None  # where forms stop
    assert page.find(".//table[@id='satisfaction-procedures']") is not None
    assert marta.text("/en/staff/").count("past its legal deadline") == 1
