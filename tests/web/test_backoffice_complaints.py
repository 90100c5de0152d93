"""Complaints and suggestions, and opinions between units, as a town hall works them: the
citizen-service desk routes a complaint to Parks, whose caseworker replies; the census
office asks Social Services what it knows before deciding a case."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from identity.models import utcnow
from portal.backoffice import figures
from portal.backoffice.models import CaseRoute, Opinion
from portal.backoffice.period import Period
from portal.extensions import db
from portal.notifications import Notification
from procedures import applications, catalogue, samples
from procedures.models import Application, TimelineEvent
from tests.support import mailbox
from tests.support.citizen import Citizen
from tests.support.forms import csrf_token
from tests.support.staff import staff_member

pytestmark = pytest.mark.database

REPLY = "Gracias por avisarnos. Hemos reparado el banco del parque de la Alameda."


def _sent(site: Flask, citizen: Citizen, slug: str, **answers: object) -> str:
    with site.test_request_context("/es/"):
        account = db.session.merge(citizen.account())
        procedure = catalogue.get(slug)
        application = applications.start(account, procedure, "es")
        samples.fill(application, procedure)
        if answers:
            application.answers = {**application.answers, **answers}
        applications.submit(application, procedure)
        db.session.commit()
        return application.reference


def _post(worker: Citizen, url: str, data: dict[str, object]):
    return worker.client.post(
        url,
        data={"csrf_token": csrf_token(worker.client, url), **data},
        headers={"Referer": f"https://localhost{url}"},
    )


def _open(worker: Citizen, reference: str) -> None:
    opened = _post(worker, f"/en/staff/cases/{reference}/open", {"purpose": "case_handling"})
    assert opened.status_code == 302


def test_a_complaint_is_routed_to_the_unit_it_concerns_which_replies(site) -> None:
    citizen = Citizen(site, site.test_client(), "vecina@example.es", lang="es")
    citizen.register()
    reference = _sent(
        site, citizen, "complaint-or-suggestion", message_type="complaint", wants_answer="yes"
    )
    desk = staff_member(
        site, "marta@villanueva.example", unit="Atención Ciudadana", role="supervisor"
    )
    parks = staff_member(site, "luis@villanueva.example", unit="Parques y Jardines")

    # The queue shows it as not routed yet, with its reply date; the inbox has it too.
    queue = desk.text("/en/staff/complaints?unit=unrouted")
    assert reference in queue and "Reply by" in queue
    assert reference not in parks.text("/en/staff/complaints?unit=mine")

    # The desk routes it: the person reads that the service concerned is looking at it.
    _open(desk, reference)
    case = desk.client.get(f"/en/staff/cases/{reference}").text
    assert 'value="Parques y Jardines"' in case and "No unit yet" in case
    refused = _post(desk, f"/en/staff/cases/{reference}/route", {"unit": "Nowhere"})
    assert refused.status_code == 302
    assert "Select the unit the case concerns" in desk.text(f"/en/staff/cases/{reference}")
    routed = _post(desk, f"/en/staff/cases/{reference}/route", {"unit": "Parques y Jardines"})
    assert routed.status_code == 302
    assert "The case is routed to Parques y Jardines." in desk.text(f"/en/staff/cases/{reference}")
    with site.app_context():
        application_id = db.session.scalar(
            select(Application.id).where(Application.reference == reference)
        )
        assert db.session.get(CaseRoute, application_id).unit == "Parques y Jardines"
        assert db.session.get(Application, application_id).status == "in_review"
    folder = citizen.text(f"/es/folder/cases/{reference}")
    assert "La está estudiando el servicio afectado" in folder
    assert "Parques y Jardines" not in folder  # the routing itself is the back office's

    # Parks finds it among its unit's messages, claims it and replies.
    assert reference in parks.text("/en/staff/complaints?unit=mine")
    assert _post(parks, f"/en/staff/cases/{reference}/claim", {}).status_code == 302
    _open(parks, reference)
    assert "Reply to the person" in parks.text(f"/en/staff/cases/{reference}")
    empty = _post(parks, f"/en/staff/cases/{reference}/reply", {"text": "  "})
    assert empty.status_code == 200 and "Write your reply" in empty.text
    assert "Spanish" in empty.text  # they are told which language to write in
    before = len(mailbox.messages(site, citizen.email))
    sent = _post(parks, f"/en/staff/cases/{reference}/reply", {"text": REPLY})
    assert sent.status_code == 302
    # A second send (another tab) finds it answered and changes nothing.
    again = _post(parks, f"/en/staff/cases/{reference}/reply", {"text": "Otra respuesta"})
    assert again.status_code == 404

    # The person reads the reply in their folder and by email: a notice, not a formal one.
    with site.app_context():
        notice = db.session.scalar(
            select(Notification).where(
                Notification.application_id == application_id, Notification.kind == "reply"
            )
        )
        assert notice is not None and not notice.formal and notice.body == REPLY
    assert REPLY in citizen.text(f"/es/folder/notifications/{notice.public_id}")
    assert REPLY in citizen.text(f"/es/folder/cases/{reference}")
    emails = mailbox.messages(site, citizen.email)[before:]
    assert len(emails) == 1 and REPLY in mailbox.text_of(emails[0])
    assert "Respondida" in citizen.text(f"/es/folder/cases/{reference}")
    # A reply resolves a complaint in the figures, as a decision resolves an application.
    with site.test_request_context("/en/"):
        today = utcnow().date()
        seen = figures.compute(
            "city-council", Period(today, today), "en", ZoneInfo("Europe/Madrid")
        )
        line = next(one for one in seen.procedures if one.key == "complaint-or-suggestion")
        assert (line.measures.received, line.measures.resolved) == (1, 1)
    # Answered, it leaves the queue of those waiting for a reply.
    assert reference not in desk.text("/en/staff/complaints")
    assert reference in desk.text("/en/staff/complaints?state=all")


def test_only_complaints_are_routed_or_replied_to_and_only_by_whom_may(site) -> None:
    citizen = Citizen(site, site.test_client(), "vecina@example.es", lang="es")
    citizen.register()
    complaint = _sent(site, citizen, "complaint-or-suggestion", message_type="complaint")
    census = _sent(site, citizen, "change-of-address")
    desk = staff_member(site, "marta@villanueva.example", unit="Atención Ciudadana")
    other = staff_member(site, "pedro@villanueva.example", unit="Parques y Jardines")
    _open(desk, census)
    assert desk.client.get(f"/en/staff/cases/{census}/reply").status_code == 404
    assert (
        _post(desk, f"/en/staff/cases/{census}/route", {"unit": "Atención Ciudadana"}).status_code
        == 404
    )
    assert census not in desk.text("/en/staff/complaints?state=all")
    # A caseworker who does not hold the complaint may neither route it nor reply.
    _post(other, f"/en/staff/cases/{complaint}/claim", {})
    _open(desk, complaint)
    assert desk.client.get(f"/en/staff/cases/{complaint}/reply").status_code == 403
    assert (
        _post(
            desk, f"/en/staff/cases/{complaint}/route", {"unit": "Atención Ciudadana"}
        ).status_code
        == 403
    )
    # Another agency does not see it at all.
    tax = staff_member(site, "pau@hacienda.example", agency="tax-office", unit="Recaudación")
    assert complaint not in tax.text("/en/staff/complaints?state=all")
    assert tax.client.get(f"/en/staff/cases/{complaint}/reply").status_code == 404


def test_a_unit_gives_its_opinion_on_a_case_the_applicant_never_reads(site) -> None:
    citizen = Citizen(site, site.test_client(), "vecina@example.es", lang="es")
    citizen.register()
    reference = _sent(site, citizen, "change-of-address")
    census = staff_member(site, "marta@villanueva.example", unit="Padrón")
    social = staff_member(site, "rosa@villanueva.example", unit="Servicios Sociales")
    parks = staff_member(site, "luis@villanueva.example", unit="Parques y Jardines")
    _post(census, f"/en/staff/cases/{reference}/claim", {})
    _open(census, reference)
    ask = f"/en/staff/cases/{reference}/opinion"
    page = census.client.get(ask).text
    assert 'value="Servicios Sociales"' in page and 'value="Padrón"' not in page

    empty = _post(census, ask, {"unit": "Padrón", "question": ""})
    assert "Select the unit" in empty.text and "Write your question" in empty.text
    question = "¿Consta esta familia como usuaria de servicios sociales en el domicilio?"
    assert (
        _post(census, ask, {"unit": "Servicios Sociales", "question": question}).status_code == 302
    )
    with site.app_context():
        opinion_id = db.session.scalar(select(Opinion.id))

    # Social Services find it in their list; reading it asks why first.
    listing = social.text("/en/staff/opinions")
    assert reference in listing and "Waiting for your unit" in listing and question not in listing
    give = f"/en/staff/cases/{reference}/opinions/{opinion_id}"
    assert social.client.get(give).status_code == 302  # to the purpose page
    _open(social, reference)
    assert question in social.text(give)
    assert parks.client.get(give).status_code == 302  # no purpose yet
    _open(parks, reference)
    assert parks.client.get(give).status_code == 403  # not the unit asked
    answer = "Sí: constan desde 2024 en ese domicilio."
    assert _post(social, give, {"answer": ""}).status_code == 200
    assert _post(social, give, {"answer": answer}).status_code == 302
    twice = social.client.post(  # once only: a second tab's answer changes nothing
        give,
        data={"csrf_token": csrf_token(social.client, "/en/staff/citizens"), "answer": "Otra"},
        headers={"Referer": f"https://localhost{give}"},
    )
    assert twice.status_code == 302
    with site.app_context():
        assert db.session.get(Opinion, opinion_id).answer == answer

    case = census.text(f"/en/staff/cases/{reference}")
    assert answer in case and "Opinion of Servicios Sociales" in case
    assert "Answered on" in social.text("/en/staff/opinions")
    # The applicant reads neither the question nor the answer, on any page of theirs.
    folder = citizen.text(f"/es/folder/cases/{reference}")
    assert question not in folder and answer not in folder
    with site.app_context():
        events = db.session.scalars(
            select(TimelineEvent).where(
                TimelineEvent.kind.in_(("opinion_requested", "opinion_given"))
            )
        ).all()
        assert len(events) == 2 and not any(e.visible_to_citizen for e in events)
