"""A request whose database connection dies under it (PostgreSQL restarting: "terminating
connection due to administrator command") keeps the page it made: ending the request's
session must not turn it into gunicorn's bare "Internal Server Error", and the next
request, on a new connection, is served as usual.

PostgreSQL only: the database "restarts" for this test's connections alone, through a
forwarder the test cuts (tests/support/tcp_proxy.py), not for the server other tests use.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, current_app
from sqlalchemy import text

from portal.extensions import db
from tests.conftest import make_test_app
from tests.support.tcp_proxy import TcpProxy, needs_a_database_server

pytestmark = [pytest.mark.database, needs_a_database_server]


@pytest.fixture
def database(_migrated: str) -> Iterator[TcpProxy]:
    proxy = TcpProxy.to_database(_migrated).start()
    yield proxy
    proxy.cut()


@pytest.fixture
def portal(_migrated: str, database: TcpProxy, tmp_path: Path) -> Flask:
    """The portal on the database through the forwarder, with a page that reads the
    database and then loses it, as a page does when PostgreSQL restarts just then."""
    app = make_test_app(database.url_through(_migrated), tmp_path / "instance", CUT_AFTER_READ=True)

    @app.route("/_outage/read")
    def read() -> str:
        count = db.session.execute(text("SELECT count(*) FROM accounts")).scalar_one()
        if current_app.config["CUT_AFTER_READ"]:
            database.cut()  # the transaction this read opened is still open
        return f"{count} accounts"

    return app


def test_a_page_made_before_the_database_went_away_is_still_served_and_the_next_one_too(
    portal: Flask, database: TcpProxy
) -> None:
    client = portal.test_client()

    made = client.get("/_outage/read")

    assert made.status_code == 200
    assert made.text.endswith(" accounts")

    database.start()  # PostgreSQL is back
    portal.config["CUT_AFTER_READ"] = False
    again = client.get("/_outage/read")
    assert again.status_code == 200
