"""Catalogue pages are rendered once per process for visitors who are not signed in, and
never served from that store to anyone whose page could differ."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask, render_template_string, template_rendered

from procedures import catalogue
from procedures.definitions import load_catalogue
from procedures.views import page_cache

CATALOGUE = "/es/procedures/"
PROCEDURE = "/es/procedures/change-of-address"


@contextmanager
def rendering(app: Flask) -> Iterator[list[str]]:
    """The names of the templates rendered inside the block."""
    rendered: list[str] = []

    def record(_sender: Flask, template, context, **_extra) -> None:
        rendered.append(template.name)

    template_rendered.connect(record, app)
    try:
        yield rendered
    finally:
        template_rendered.disconnect(record, app)


def test_visitors_get_the_same_catalogue_page_rendered_only_once(app, client) -> None:
    first = client.get(CATALOGUE)
    with rendering(app) as rendered:
        second = app.test_client().get(CATALOGUE)  # another visitor
    assert first.status_code == second.status_code == 200
    assert second.get_data() == first.get_data()
    assert rendered == []
    # The rest of the request still happens: headers, the language cookie, compression.
    assert second.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    assert "Content-Security-Policy" in second.headers
    assert "lang=es" in second.headers["Set-Cookie"]
    compressed = client.get(CATALOGUE, headers={"Accept-Encoding": "br"})
    assert compressed.headers["Content-Encoding"] == "br"


def test_each_language_and_procedure_is_its_own_page(app, client) -> None:
    spanish = client.get(PROCEDURE).get_data(as_text=True)
    english = client.get("/en/procedures/change-of-address").get_data(as_text=True)
    other = client.get("/es/procedures/bulky-waste-collection").get_data(as_text=True)
    assert '<html lang="es"' in spanish and '<html lang="en"' in english
    assert len({spanish, english, other}) == 3
    with app.app_context():
        assert set(page_cache.pages().html) == {
            PROCEDURE,
            "/en/procedures/change-of-address",
            "/es/procedures/bulky-waste-collection",
        }


@pytest.mark.database
def test_a_signed_in_citizen_gets_their_own_page_after_a_visitor_got_the_kept_one(
    app, client
) -> None:
    visitor = client.get(PROCEDURE).get_data(as_text=True)
    citizen = app.test_client()
    page = citizen.get(
        "/es/_test/state/signed_in?endpoint=procedures.procedure&slug=change-of-address",
        follow_redirects=True,
    ).get_data(as_text=True)
    start = 'action="/es/applications/start/change-of-address"'
    assert start in page and 'name="csrf_token"' in page
    assert "Signed in for a test." in page
    assert start not in visitor and "Signed in for a test." not in visitor
    # And the visitors' page was not replaced by the citizen's.
    assert client.get(PROCEDURE).get_data(as_text=True) == visitor


def test_a_search_is_rendered_every_time(app, client) -> None:
    client.get(f"{CATALOGUE}?q=empadronamiento")
    with rendering(app) as rendered:
        client.get(f"{CATALOGUE}?q=empadronamiento")
    assert rendered == ["procedures/index.html"]


def test_a_page_that_put_a_token_in_the_session_is_never_kept(tmp_path, _migrated) -> None:
    from tests.conftest import make_test_app

    app = make_test_app(_migrated, tmp_path / "instance")
    app.add_url_rule(
        "/<lang:lang>/probe",
        "probe",
        page_cache.for_visitors(lambda: render_template_string("{{ csrf_token() }}")),
    )
    client = app.test_client()
    first = client.get("/es/probe").get_data(as_text=True)
    second = app.test_client().get("/es/probe").get_data(as_text=True)
    assert first != second  # each visitor's own token
    with app.app_context():
        assert page_cache.pages().html == {}


def test_no_more_pages_are_kept_than_the_limit(app, client, monkeypatch) -> None:
    monkeypatch.setattr(page_cache, "MAX_PAGES", 2)
    for path in (CATALOGUE, PROCEDURE, "/es/procedures/topics/housing"):
        assert client.get(path).status_code == 200
    with app.app_context():
        assert list(page_cache.pages().html) == [CATALOGUE, PROCEDURE]


def test_a_page_that_does_not_exist_is_not_kept(app, client) -> None:
    assert client.get("/es/procedures/no-such-procedure").status_code == 404
    with app.app_context():
        assert page_cache.pages().html == {}


def test_pages_of_another_catalogue_are_forgotten(app, client) -> None:
    client.get(CATALOGUE)
    with app.app_context():
        app.extensions["procedures"] = load_catalogue()
        assert page_cache.pages().catalogue is catalogue.current()
        assert page_cache.pages().html == {}


def test_a_developers_machine_renders_every_time(tmp_path, _migrated) -> None:
    from tests.conftest import make_test_app

    app = make_test_app(_migrated, tmp_path / "instance", PORTAL_ENV="development")
    client = app.test_client()
    client.get(CATALOGUE)
    with rendering(app) as rendered:
        client.get(CATALOGUE)
    assert rendered == ["procedures/index.html"]
