"""How did we do? A citizen whose case was closed is asked once, answers on one page, and
the answer lands in the figures with nothing that leads back to them."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.extensions import db
from portal.folder.satisfaction import Answer, Invitation
from procedures.models import Application
from tests.support.citizen import Citizen
from tests.support.everything import busy
from tests.support.forms import csrf_token

pytestmark = pytest.mark.database


def _post(citizen: Citizen, url: str, data: dict[str, object]):
    return citizen.client.post(
        url,
        data={"csrf_token": csrf_token(citizen.client, url), **data},
        headers={"Referer": f"https://localhost{url}"},
    )


def _answers(site: Flask) -> list[Answer]:
    with site.app_context():
        rows = list(db.session.scalars(select(Answer).order_by(Answer.id)))
        db.session.expunge_all()
        return rows


def test_a_closed_case_asks_once_and_keeps_the_answer_apart_from_the_citizen(site, citizen) -> None:
    history = busy(citizen)
    case_url = f"/en/folder/cases/{history.closed}"
    survey_url = f"{case_url}/satisfaction"
    assert survey_url in citizen.client.get(case_url).text
    notices = citizen.text("/en/folder/notifications")
    assert "How did we do with your application" in notices

    # Nothing chosen, or a value no one offered: a clear message, and the comment is kept.
    empty = _post(citizen, survey_url, {"comment": "La recogida llegó tarde."})
    assert empty.status_code == 200
    assert "Select how satisfied you were" in empty.text
    assert "La recogida llegó tarde." in empty.text
    assert "Select how satisfied you were" in _post(citizen, survey_url, {"rating": "9"}).text
    too_long = _post(citizen, survey_url, {"rating": "2", "comment": "x" * 1201})
    assert "Write no more than 1200 characters" in too_long.text
    assert _answers(site) == []

    # The page sent twice (a double click, a second tab): the second writes nothing.
    token = csrf_token(citizen.client, survey_url)
    first, second = (
        citizen.client.post(
            survey_url,
            data={"csrf_token": token, **data},
            headers={"Referer": f"https://localhost{survey_url}"},
        )
        for data in (
            {"rating": "2", "comment": "  La recogida llegó tarde. "},
            {"rating": "5"},
        )
    )
    assert first.status_code == 302 and first.headers["Location"].endswith(case_url)
    assert second.status_code == 302
    page = citizen.text(case_url)
    assert "Thank you. Your answer helps us improve this service." in page
    assert "You have already told us how we did" in page
    assert "Thank you for telling us how we did." in citizen.text(case_url)
    assert citizen.client.get(survey_url).status_code == 302
    (answer,) = _answers(site)
    assert (answer.procedure_slug, answer.agency, answer.rating) == (
        "bulky-waste-collection",
        "city-council",
        2,
    )
    assert answer.comment == "La recogida llegó tarde."
    assert answer.language == "en" and answer.month.day == 1
    assert answer.month == date.today().replace(day=1)
    # Anonymous by construction: no column leads back to a case, an account, or a day.
    assert not Answer.__table__.foreign_keys
    assert set(Answer.__table__.columns.keys()) == {
        "id",
        "procedure_slug",
        "agency",
        "language",
        "month",
        "rating",
        "comment",
    }
    with site.app_context():
        closed = db.session.scalar(
            select(Application.id).where(Application.reference == history.closed)
        )
        assert db.session.get(Invitation, closed).answered is True


def test_only_the_citizens_own_closed_cases_ask(site, citizen) -> None:
    history = busy(citizen)
    # A case still open asks nothing yet.
    assert citizen.client.get(f"/en/folder/cases/{history.waiting}/satisfaction").status_code == 404
    assert "/satisfaction" not in citizen.client.get(f"/en/folder/cases/{history.waiting}").text
    other = Citizen(site, site.test_client(), "otro@example.es")
    other.register()
    survey_url = f"/en/folder/cases/{history.closed}/satisfaction"
    assert other.client.get(survey_url).status_code == 404
    assert _post(other, f"/en/folder/cases/{history.waiting}/satisfaction", {}).status_code == 404
    with site.app_context():
        assert db.session.scalar(select(func.count()).select_from(Answer)) == 0


def test_a_case_closed_twice_is_asked_about_once(site, citizen) -> None:
    from portal.folder import satisfaction
    from portal.notifications import Notification
    from procedures import applications

    history = busy(citizen)
    with site.test_request_context("/en/"):
        application = db.session.scalar(
            select(Application).where(Application.reference == history.closed)
        )
        closing = application.events[-1]
        assert closing.to_state == "closed"
        satisfaction.invite(application, applications.definition_of(application), closing)
        db.session.commit()
        surveys = select(func.count()).where(
            Notification.application_id == application.id, Notification.kind == "survey"
        )
        assert db.session.scalar(surveys) == 1
