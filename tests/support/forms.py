"""Helpers for posting real forms the way a browser does (with their CSRF token)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

_TOKEN = re.compile(r'<input[^>]*\bname="csrf_token"[^>]*\bvalue="([^"]+)"')


def csrf_token(client: FlaskClient, url: str) -> str:
    """GET the form page and return the token it embeds."""
    html = client.get(url).get_data(as_text=True)
    match = _TOKEN.search(html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def post_form(client: FlaskClient, url: str, data: dict[str, object]) -> object:
    """Fetch the form, then post it with its token and the Referer a browser sends.

    The Referer matters: over HTTPS, Flask-WTF checks it is this site (strict
    mode), which blocks a form posted from another origin even with a token.
    """
    token = csrf_token(client, url)
    return client.post(
        url, data={"csrf_token": token, **data}, headers={"Referer": f"https://localhost{url}"}
    )


def post_from(
    client: FlaskClient, form_url: str, url: str, data: dict[str, object], **kwargs: object
) -> object:
    """Post ``data`` to ``url`` with the token of the form shown at ``form_url``, as a browser
    does when a page's form posts elsewhere (a start button, "Accept and send")."""
    token = csrf_token(client, form_url)
    return client.post(
        url,
        data={"csrf_token": token, **data},
        headers={"Referer": f"https://localhost{form_url}"},
        **kwargs,
    )
