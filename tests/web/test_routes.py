"""A route cannot be added without being in the inventory (and so without being checked)."""

from __future__ import annotations

from flask import Flask

from portal import create_app
from tests.support.inventory import INVENTORY, LANGUAGE_CODES


def test_every_get_route_of_the_portal_is_in_the_inventory(tmp_path) -> None:
    portal = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"})
    routed = {
        rule.endpoint for rule in portal.url_map.iter_rules() if "GET" in (rule.methods or ())
    }
    listed = {page.endpoint for page in INVENTORY}
    assert routed - listed == set(), "add these routes to tests/support/inventory.py"
    assert listed - routed == set(), "these inventoried routes no longer exist"


def test_every_inventoried_route_answers_as_listed(app: Flask) -> None:
    client = app.test_client()
    with app.test_request_context():
        from flask import url_for

        for page in INVENTORY:
            languages = LANGUAGE_CODES if page.kind == "html" else [None]
            for lang in languages:
                values = {**page.values, **({"lang": lang} if lang else {})}
                url = url_for(page.endpoint, **values)
                with client.get(url) as response:
                    assert response.status_code == page.status, url
