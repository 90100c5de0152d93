"""Notifications, as a citizen with a busy history reads them: unread first, formal ones
sealed until opened (and the opening recorded), emails in the language they chose for the
kinds they want; and, as another citizen, reach none of it."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from portal import notifications, outbox
from portal.extensions import db
from portal.notifications import Notification
from procedures import applications, workflow
from procedures.models import Application
from tests.support import mailbox
from tests.support.citizen import Citizen
from tests.support.everything import busy
from tests.support.forms import csrf_token
from tests.support.translations import translate

pytestmark = pytest.mark.database

MESSAGE = "Please send us your signed tenancy agreement"


def _post(citizen: Citizen, url: str, form_url: str, data: dict[str, object] | None = None):
    return citizen.client.post(
        url,
        data={"csrf_token": csrf_token(citizen.client, form_url), **(data or {})},
        headers={"Referer": f"https://localhost{form_url}"},
    )


def _row(site: Flask, public_id: str) -> Notification:
    with site.app_context():
        found = db.session.scalar(select(Notification).where(Notification.public_id == public_id))
        assert found is not None
        db.session.expunge(found)
        return found


def test_the_inbox_lists_unread_first_and_names_formal_notifications(site, citizen) -> None:
    busy(citizen)
    text = citizen.text("/en/folder/notifications")
    assert "You have 5 unread notifications." in text
    assert "We need information about your application" in text
    assert "We have decided on your application" in text
    assert "A new document is ready: Certificate of being up to date with local taxes" in text
    assert "is now: Being reviewed" in text
    assert text.count("Formal notification") == 3  # two unread, one opened long ago
    assert "How did we do with your application" in text
    assert "If you do not open it by" in text
    # Sealed: the inbox never shows what a formal notification says.
    assert MESSAGE not in text
    overview = citizen.text("/en/folder/")
    assert "Read your 5 unread notifications" in overview


def test_a_formal_notification_opens_only_on_purpose_and_the_moment_is_recorded(
    site, citizen
) -> None:
    history = busy(citizen)
    url = f"/en/folder/notifications/{history.formal_notification}"
    sealed = citizen.text(url)
    assert "Its content shows when you open it" in sealed
    assert MESSAGE not in sealed
    assert _row(site, history.formal_notification).opened_at is None  # a GET opens nothing

    response = _post(citizen, f"{url}/open", url)
    assert response.status_code == 302
    opened = citizen.text(url)
    assert MESSAGE in opened
    assert "You opened it on" in opened
    first = _row(site, history.formal_notification).opened_at
    assert first is not None

    _post(citizen, f"{url}/open", url)  # a second click changes nothing
    assert _row(site, history.formal_notification).opened_at == first
    case = citizen.text(f"/en/folder/cases/{history.waiting}")
    assert case.count("You opened our formal notification") == 1


def test_reading_marking_unread_and_marking_all_read(site, citizen) -> None:
    history = busy(citizen)
    url = f"/en/folder/notifications/{history.notification}"
    assert "Download the document (PDF)" in citizen.text(url)
    assert _row(site, history.notification).read_at is not None
    _post(citizen, f"{url}/unread", url)
    assert _row(site, history.notification).read_at is None

    _post(citizen, "/en/folder/notifications/read", "/en/folder/notifications")
    text = citizen.text("/en/folder/notifications?show=unread")
    # Formal notifications stay unread until opened: marking them read would hide the clock.
    assert "You have 2 unread notifications." in text
    assert _row(site, history.formal_notification).read_at is None


def test_the_inbox_filters_by_kind_and_unread(site, citizen) -> None:
    busy(citizen)
    documents_only = citizen.text("/en/folder/notifications?kind=document")
    assert "A new document is ready" in documents_only
    assert "We need information" not in documents_only
    unread = citizen.text("/en/folder/notifications?show=unread&kind=request")
    assert "We need information" in unread and "We have decided" not in unread
    # An unknown kind is no filter at all, not an error.
    assert "We have decided" in citizen.text("/en/folder/notifications?kind=nonsense")
    assert citizen.client.get("/en/folder/notifications?page=9").status_code == 404


def test_a_new_citizen_is_told_what_will_appear(site, citizen) -> None:
    citizen.lang = "en"
    citizen.register()
    text = citizen.text("/en/folder/notifications")
    assert "You have no notifications." in text
    assert "Choose which notifications we also send you by email" in text


def test_another_citizen_reaches_none_of_them(site, citizen) -> None:
    history = busy(citizen)
    other = Citizen(site, site.test_client(), "luis.gomez@example.es")
    other.lang = "en"
    other.register()
    for public_id in (history.formal_notification, history.notification):
        url = f"/en/folder/notifications/{public_id}"
        assert other.client.get(url).status_code == 404
        for action in ("open", "unread"):
            response = _post(other, f"{url}/{action}", "/en/folder/notifications")
            assert response.status_code == 404
    assert _row(site, history.formal_notification).opened_at is None
    assert "You have no notifications." in other.text("/en/folder/notifications")


def test_emails_go_in_the_citizens_language_for_the_kinds_they_want(site, citizen) -> None:
    history = busy(citizen)
    with site.app_context():
        waiting = select(outbox.OutboxEmail.kind).where(outbox.OutboxEmail.status == "pending")
        kinds = db.session.scalars(waiting).all()
    assert len([kind for kind in kinds if kind.startswith("notification.")]) == 5
    assert mailbox.deliver(site) == len(kinds)  # the busy history's, as the worker sends them
    assert mailbox.deliver(site) == 0  # and never twice
    emails = mailbox.messages(site, citizen.email)
    subjects = [str(message["Subject"]) for message in emails]
    assert subjects.count("You have a formal notification") == 2
    formal = next(m for m in emails if m["Subject"] == "You have a formal notification")
    # Art. 41.6: the email only says a notice waits; its content stays in the folder.
    assert MESSAGE not in mailbox.text_of(formal)
    assert "/en/folder/notifications/" in mailbox.link_in(formal, "/folder/notifications/")

    # The citizen wants no emails about changes of status, and reads us in Catalan.
    settings = "/en/folder/my-data/notifications"
    # A tampered value is ignored, not stored and not an error.
    _post(
        citizen,
        settings,
        settings,
        {"email": ["request", "decision", "document", "survey", "spam"]},
    )
    with site.app_context():
        account = db.session.merge(citizen.account())  # account() hands back a detached copy
        account.language = "ca"
        db.session.commit()
        assert notifications.email_preferences(account.id)["status"] is False
    before = len(mailbox.messages(site, citizen.email))
    with site.test_request_context("/en/"):
        decided = db.session.scalar(
            select(Application).where(Application.reference == history.decided)
        )
        workflow.change_state(decided, applications.definition_of(decided), "closed", "staff", None)
        db.session.commit()
    # The closing is in the inbox, but not emailed; the survey, a kind still wanted, is.
    assert mailbox.deliver(site) == 1
    emails = mailbox.messages(site, citizen.email)
    assert len(emails) == before + 1
    survey = translate(site, "ca", "How did we do with your application “%(title)s”?", title="")
    assert str(emails[-1]["Subject"]).startswith(survey.split("“")[0])
    assert "is now: Closed" in citizen.text("/en/folder/notifications")


def test_a_change_that_is_rolled_back_notifies_nobody(site, citizen) -> None:
    history = busy(citizen)
    with site.test_request_context("/en/"):
        before = db.session.scalar(select(db.func.count()).select_from(Notification))
        decided = db.session.scalar(
            select(Application).where(Application.reference == history.decided)
        )
        workflow.change_state(decided, applications.definition_of(decided), "closed", "staff", None)
        db.session.rollback()
        after = db.session.scalar(select(db.func.count()).select_from(Notification))
    assert after == before


def test_a_change_made_in_a_request_is_emailed_once_it_is_committed(site, citizen) -> None:
    """Staff act through requests (issue 7): the emails are written with the change, and in
    the embedded mode the request sends its own once the view has committed."""

    def close(reference: str) -> str:
        application = db.session.scalar(
            select(Application).where(Application.reference == reference)
        )
        workflow.change_state(
            application, applications.definition_of(application), "closed", "staff", None
        )
        db.session.commit()
        return "closed"

    site.add_url_rule("/_test/close/<reference>", view_func=close)
    history = busy(citizen)
    mailbox.deliver(site)  # the busy history's
    before = len(mailbox.messages(site, citizen.email))
    assert site.test_client().get(f"/_test/close/{history.decided}").status_code == 200
    emails = mailbox.messages(site, citizen.email)
    # The closing, and the question how we did (a kind of its own, which one can turn off).
    assert len(emails) == before + 2
    subjects = sorted(str(message["Subject"]) for message in emails[-2:])
    assert subjects[0].startswith("How did we do") and subjects[1].endswith("is now: Closed")
    assert mailbox.deliver(site) == 0  # the request sent its own


def test_the_citizens_own_steps_notify_nobody(site, citizen) -> None:
    history = busy(citizen)
    with site.test_request_context("/en/"):
        count = select(db.func.count()).select_from(Notification)
        before = db.session.scalar(count)
        waiting = db.session.scalar(
            select(Application).where(Application.reference == history.waiting)
        )
        workflow.answer_request(waiting, applications.definition_of(waiting), "Sent", [])
        db.session.commit()
        assert db.session.scalar(count) == before
