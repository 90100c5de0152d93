"""Shared by the fuzz tests: one portal, its settings for hypothesis, and what every answer
to a hostile request must be.

Hypothesis runs derandomized and without its example database, so CI sends the same
requests every run and a failure reproduces on a developer's machine. ``FUZZ_EXAMPLES``
raises the number of examples per endpoint for a deeper run by hand
(``FUZZ_EXAMPLES=500 .venv/bin/pytest tests/web/test_fuzz_forms.py``).
"""

from __future__ import annotations

import itertools
import os

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, settings
from werkzeug.test import TestResponse

#: Examples per form in ``make test``: enough to send each family of hostile values a few
#: times, few enough that the whole fuzz suite stays within two minutes on two cores.
EXAMPLES = 10
#: ``FUZZ_EXAMPLES=300`` raises every fuzz test to at least that many examples.
DEEPER = int(os.environ.get("FUZZ_EXAMPLES") or 0)


def fuzz_settings(examples: int = EXAMPLES) -> settings:
    """``examples`` per test (more with ``FUZZ_EXAMPLES``). Reproducible and bounded: the
    same examples every run, no deadline (a request that is slow is not what these tests
    look for), no example database left in the tree."""
    return settings(
        max_examples=max(examples, DEEPER),
        derandomize=True,
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )


_ADDRESSES = itertools.count(1)


def visitor(app: Flask) -> FlaskClient:
    """A new browser from an address of its own (rate limits count per address)."""
    client = app.test_client()
    move(client)
    return client


def move(client: FlaskClient) -> None:
    """The same browser (its cookies, its session) from a new address: a deeper run asks
    more than the portal's per-address limits allow."""
    number = next(_ADDRESSES)
    address = f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"
    client.environ_base["REMOTE_ADDR"] = address


def finished(response: TestResponse) -> TestResponse:
    """The response read in full and closed: that ends its request (and the request's
    transaction, which on SQLite would otherwise lock the next request out)."""
    response.get_data()
    response.close()
    return response


def assert_portal_answer(response: TestResponse, lang: str | None, what: object) -> None:
    """Never a server error; an HTML answer is the portal's own page in the request's
    language (layout, skip link), never Werkzeug's or a traceback."""
    assert response.status_code < 500, f"{what}: {response.status_code}"
    if response.mimetype != "text/html" or 300 <= response.status_code < 400:
        return
    html = response.get_data(as_text=True)
    assert "Traceback (most recent call last)" not in html, what
    assert 'class="skip-link"' in html, f"{what}: {response.status_code} is not the portal's page"
    if lang is not None:
        assert f'<html lang="{lang}"' in html, f"{what}: not in {lang}"


def shows_errors(response: TestResponse) -> bool:
    """The error state of a form: the summary, which links to each field in error."""
    return 'class="error-summary"' in response.get_data(as_text=True)
