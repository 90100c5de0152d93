"""Suggestions: a citizen who has just moved house is offered what movers need, with the
reason in their language, until they dismiss it or apply; rule files are checked like
procedure definitions, and a broken one is left out, never taking the site down."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from identity.models import utcnow
from portal import suggestions
from portal.extensions import db
from procedures import applications, catalogue, samples
from procedures.models import Application
from tests.support.citizen import Citizen
from tests.support.forms import csrf_token

pytestmark = pytest.mark.database


def _applied(site: Flask, citizen: Citizen, slug: str, days_ago: int, **answers: str) -> str:
    with site.test_request_context("/en/"):
        procedure = catalogue.get(slug)
        application = applications.start(citizen.account(), procedure, "en")
        samples.fill(application, procedure)
        if answers:
            application.answers = {**application.answers, **answers}
        applications.submit(application, procedure, now=utcnow() - timedelta(days=days_ago))
        db.session.commit()
        return application.reference


def _dismiss(citizen: Citizen, rule: str, trigger: str):
    return citizen.client.post(
        f"/en/folder/suggestions/{rule}/{trigger}/dismiss",
        data={"csrf_token": csrf_token(citizen.client, "/en/folder/")},
        headers={"Referer": "https://localhost/en/folder/"},
    )


@pytest.fixture
def mover(site, citizen) -> Citizen:
    citizen.lang = "en"
    citizen.register()
    return citizen


def test_moving_house_brings_suggestions_with_their_reason(site, mover) -> None:
    _applied(site, mover, "change-of-address", 5)
    text = mover.text("/en/folder/")
    assert "Suggestions for you" in text
    assert "If you park in the street, you can apply for a residents' parking permit" in text
    assert "we collect them from your door at no cost" in text
    assert "Nothing is sent anywhere" in text
    spanish = mover.client.get("/es/folder/").get_data(as_text=True)
    assert "Si aparca en la calle" in spanish


def test_a_suggestion_goes_once_dismissed_or_applied_for(site, mover) -> None:
    reference = _applied(site, mover, "change-of-address", 5)
    assert _dismiss(mover, "bulky-waste-collection", reference).status_code == 302
    text = mover.text("/en/folder/")
    assert "at no cost" not in text and "residents' parking permit" in text
    _applied(site, mover, "residents-parking-permit", 1)
    assert "Suggestions for you" not in mover.text("/en/folder/")
    # Moving again is a new reason: the dismissed suggestion comes back for it.
    _applied(site, mover, "change-of-address", 0)
    assert "at no cost" in mover.text("/en/folder/")


def test_old_events_and_other_answers_suggest_nothing(site, mover) -> None:
    _applied(site, mover, "change-of-address", 120)
    _applied(site, mover, "civil-registry-certificate", 3, certificate_type="death")
    assert "Suggestions for you" not in mover.text("/en/folder/")
    _applied(site, mover, "civil-registry-certificate", 2, certificate_type="birth")
    assert "you may be entitled to the child-birth benefit" in mover.text("/en/folder/")


def test_no_one_dismisses_a_suggestion_for_someone_else(site, mover) -> None:
    reference = _applied(site, mover, "change-of-address", 5)
    other = Citizen(site, site.test_client(), "luis.gomez@example.es")
    other.lang = "en"
    other.register()
    assert _dismiss(other, "bulky-waste-collection", reference).status_code == 404
    assert _dismiss(mover, "no-such-rule", reference).status_code == 404
    assert "at no cost" in mover.text("/en/folder/")
    with site.app_context():
        assert db.session.scalar(select(suggestions.DismissedSuggestion)) is None
        assert db.session.scalar(select(Application.id).limit(1)) is not None


def test_every_shipped_rule_is_valid(site) -> None:
    with site.app_context():
        rules, errors = suggestions.load_rules()
    assert errors == []
    assert {rule.id for rule in rules} == {
        path.stem for path in suggestions.RULES_DIR.glob("*.yaml")
    }


def test_a_broken_rule_is_reported_with_file_path_and_reason_and_left_out(
    site, tmp_path: Path
) -> None:
    good = (suggestions.RULES_DIR / "bulky-waste-collection.yaml").read_text(encoding="utf-8")
    (tmp_path / "bulky-waste-collection.yaml").write_text(good, encoding="utf-8")
    (tmp_path / "broken.yaml").write_text(
        "id: wrong-name\nsuggest: no-such-procedure\nwhen: {applied_for: [], within_days: 0}\n"
        "reason: {es: 'Hola %(name)s'}\n",
        encoding="utf-8",
    )
    (tmp_path / "not-yaml.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    with site.app_context():
        rules, errors = suggestions.load_rules(tmp_path)
    assert [rule.id for rule in rules] == ["bulky-waste-collection"]
    found = {(error.file, error.path) for error in errors}
    assert ("broken.yaml", "id") in found
    assert ("broken.yaml", "suggest") in found
    assert ("broken.yaml", "when.applied_for") in found
    assert ("broken.yaml", "when.within_days") in found
    assert ("broken.yaml", "reason") in found
    assert ("not-yaml.yaml", "") in found
