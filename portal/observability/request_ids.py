"""One id per request, on every log line it writes and in its ``X-Request-ID`` header.

A citizen who reports "it failed at 10:02" can read the id from the error page's
response (or support can ask the proxy's log for it), and one search finds every
line that request wrote, on whichever server answered it. A trusted proxy's id
(``PROXY_FIX_HOPS`` > 0 says one is in front) is kept, so the proxy's, the load
balancer's and our lines share it; without one, a client could choose ids to
muddle the logs, so one is made here instead.
"""

from __future__ import annotations

import re
import uuid

from flask import Response, current_app, g, has_request_context, request

HEADER = "X-Request-ID"

#: What a proxy's id may look like (nginx's $request_id, a UUID, AWS's Root=1-...):
#: short, and nothing that could break a log line or a header.
ACCEPTED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=+/-]{7,127}")


def current() -> str | None:
    """This request's id (decided on first use), or ``None`` outside a request."""
    if not has_request_context():
        return None
    request_id = g.get("request_id")
    if request_id is None:
        request_id = g.request_id = _choose()
    return request_id


def _choose() -> str:
    offered = request.headers.get(HEADER, "")
    if current_app.config.get("PROXY_FIX_HOPS") and ACCEPTED.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def add_header(response: Response) -> Response:
    request_id = current()
    if request_id is not None:
        response.headers[HEADER] = request_id
    return response
