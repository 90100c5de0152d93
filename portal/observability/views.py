"""The operators' endpoints: liveness, readiness and metrics (not pages: JSON and text).

None is rate limited (a load balancer probes every few seconds from one address) and
none is cached. ``/metrics`` answers only to ``Authorization: Bearer <METRICS_TOKEN>``,
and is not there at all (404) when no token is configured: what the portal counts is
nobody else's business.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, request

from portal.extensions import limiter
from portal.observability import metrics, readiness

blueprint = Blueprint("observability", __name__)


@blueprint.after_request
def never_cached(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/healthz")
@limiter.exempt
def healthz() -> Response:
    """Liveness: the process answers requests. Nothing else is asked."""
    return jsonify(status="ok")


@blueprint.get("/readyz")
@limiter.exempt
def readyz() -> tuple[Response, int]:
    """Readiness: 200 when the database, Redis (if configured) and the schema are ready;
    503 naming what is not."""
    migrations = current_app.extensions["migrate"].directory
    checks = readiness.readiness(current_app, migrations)
    ready = readiness.ready(checks)
    body = {
        "status": "ready" if ready else "unavailable",
        "checks": checks,
        "failed": readiness.failed(checks),
    }
    return jsonify(body), 200 if ready else 503


@blueprint.get("/metrics")
@limiter.exempt
def prometheus_metrics() -> Response:
    configured = current_app.config.get("METRICS_TOKEN")
    if not configured:
        abort(404)
    if not metrics.authorised(configured, request.headers.get("Authorization")):
        return Response(
            "A bearer token is needed.\n",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    body, content_type = metrics.exposition(request.headers.get("Accept"))
    return Response(body, content_type=content_type)
