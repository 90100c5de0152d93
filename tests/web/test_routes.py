"""A route cannot be added without being in the inventory (and so without being checked)."""

from __future__ import annotations

from flask import Flask

from portal import create_app
from tests.support.inventory import INVENTORY, path
from tests.support.testing_routes import SIGNED_IN_STATES


def test_every_get_route_of_the_portal_is_in_the_inventory(tmp_path) -> None:
    portal = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"})
    routed = {
        rule.endpoint for rule in portal.url_map.iter_rules() if "GET" in (rule.methods or ())
    }
    listed = {page.endpoint for page in INVENTORY}
    assert routed - listed == set(), "add these routes to tests/support/inventory.py"
    assert listed - routed == set(), "these inventoried routes no longer exist"


def test_every_inventoried_route_answers_as_listed(app: Flask) -> None:
    """The routes that are not HTML pages (files, JSON, redirects); ``test_pages`` asks for
    every HTML page in every language, with the same checks and the page check."""
    # URLs are built first: a request made inside this request context would share its
    # ``g`` (and Flask-Login's cached user), and every signed-in page would answer as the
    # sign-in page.
    with app.test_request_context():
        urls = [(page, path(page, None)) for page in INVENTORY if page.kind != "html"]
    client = app.test_client()
    for page, url in urls:
        with client.get(url, follow_redirects=page.state is not None) as response:
            assert response.status_code == page.status, url
            if page.state in SIGNED_IN_STATES and page.status == 200:
                assert "/account/sign-in" not in response.request.path, url
