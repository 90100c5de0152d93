"""Every HTML page fetched in the web tests goes through ``get_page``: the page check."""

from __future__ import annotations

from collections.abc import Callable
from xml.etree.ElementTree import Element

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import gettext

from tests.support.page_check import check_page

GetPage = Callable[..., Element]


def error_prefix(app: Flask, lang: str) -> str:
    with app.test_request_context(f"/{lang}/"):
        from flask import g

        g.lang = lang
        return gettext("Error:")


@pytest.fixture
def get_page(app: Flask, client: FlaskClient) -> GetPage:
    def get(url: str, lang: str, status: int = 200, **kwargs: object) -> Element:
        response = client.get(url, **kwargs)
        assert response.status_code == status, f"{url}: {response.status_code}"
        assert response.mimetype == "text/html"
        return check_page(response.get_data(as_text=True), lang, error_prefix(app, lang))

    return get
