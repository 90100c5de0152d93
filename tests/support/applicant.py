"""Fill any procedure's form through the test client, page by page, as a citizen would.

Answers are made from the definition itself (a valid value for each field type, a value
that matches each pattern), so every shipped procedure can be applied for end to end.
"""

from __future__ import annotations

import io
import re
from typing import Any

from flask.testing import FlaskClient

from procedures import applications
from procedures.definitions import Field, Procedure
from procedures.samples import PATTERN_SAMPLES, PDF, sample
from tests.support.forms import post_from

__all__ = ["PATTERN_SAMPLES", "PDF", "sample"]

PAGE = re.compile(r"/pages/([a-z0-9_]+)")


def form_data(one: Field, value: Any) -> dict[str, Any]:
    """``value`` as the fields a browser would post for ``one``."""
    if one.type == "date":
        year, month, day = value.split("-")
        return {f"{one.id}-day": day, f"{one.id}-month": month, f"{one.id}-year": year}
    if one.type == "address":
        return {f"{one.id}-{key}": part for key, part in value.items()}
    if one.type == "file":
        data: dict[str, Any] = {one.id: (io.BytesIO(PDF), f"{one.id}.pdf")}
        if one.may_be_already_provided:
            data[f"{one.id}__how"] = "upload"
        return data
    return {one.id: value}


def fill_page(
    client: FlaskClient, url: str, procedure: Procedure, choices: dict[str, int] | None = None
) -> Any:
    """Answer every question on the page at ``url`` and post it; returns the response."""
    page = applications.find_page(procedure, PAGE.search(url).group(1))
    assert page is not None, url
    data: dict[str, Any] = {}
    for one in page.fields:
        if one.id == "oppose_consultations":
            continue  # not objecting: the administration checks for the citizen
        data.update(form_data(one, sample(one, (choices or {}).get(one.id, 0))))
    return post_from(client, url, url, data, content_type="multipart/form-data")


def apply_until_check(
    client: FlaskClient, start_url: str, procedure: Procedure, choices: dict[str, int] | None = None
) -> str:
    """From a draft's first page (or task list) to "check your answers"; returns its URL."""
    url = start_url
    for _ in range(60):
        if "/pages/" in url:
            response = fill_page(client, url, procedure, choices)
            assert response.status_code == 302, (url, response.get_data(as_text=True)[:3000])
            url = response.headers["Location"]
        elif url.endswith("/tasks"):
            html = client.get(url).get_data(as_text=True)
            links = re.findall(r'<a href="([^"]+)" aria-describedby="(section-\d+)-status', html)
            status = dict(
                (section, variant)
                for variant, section in re.findall(
                    r'task-list__status--([a-z-]+)" id="(section-\d+)-status"', html
                )
            )
            pending = [
                href.replace("&amp;", "&")
                for href, section in links
                if status.get(section) != "done"
            ]
            if not pending:
                return url.replace("/tasks", "/check")
            url = pending[0]
        elif url.endswith("/check"):
            return url
        else:
            raise AssertionError(f"unexpected page in the journey: {url}")
    raise AssertionError("the form never reached check your answers")
