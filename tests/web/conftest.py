"""Every HTML page fetched in the web tests goes through ``get_page``: the page check."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from xml.etree.ElementTree import Element

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import gettext

from tests.conftest import empty_tables, make_test_app
from tests.support.citizen import Citizen
from tests.support.page_check import check_page

GetPage = Callable[..., Element]


def error_prefix(app: Flask, lang: str) -> str:
    with app.test_request_context(f"/{lang}/"):
        from flask import g

        g.lang = lang
        return gettext("Error:")


@pytest.fixture
def site(_migrated: str, tmp_path) -> Iterator[Flask]:
    """The portal on the migrated database, with no context left open between requests
    (a shared app context would let one request's ``g`` leak into the next)."""

    app = make_test_app(_migrated, tmp_path / "instance")
    yield app
    with app.app_context():
        empty_tables()


@pytest.fixture
def citizen(site: Flask) -> Citizen:
    return Citizen(site, site.test_client(), "ana.lopez@example.es")


@pytest.fixture
def get_page(app: Flask, client: FlaskClient) -> GetPage:
    def get(url: str, lang: str, status: int = 200, **kwargs: object) -> Element:
        response = client.get(url, **kwargs)
        assert response.status_code == status, f"{url}: {response.status_code}"
        assert response.mimetype == "text/html"
        return check_page(response.get_data(as_text=True), lang, error_prefix(app, lang))

    return get
