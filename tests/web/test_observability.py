"""What operators see: a request id on every response and log line, JSON log lines with
nothing personal in them, metrics behind a token, liveness and readiness.

Readiness runs on SQLite here and again on PostgreSQL in CI's database pass.
"""

from __future__ import annotations

import json
import logging
import re
import uuid

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import stamp
from sqlalchemy import select

from identity import accounts, events
from identity.events import EventKind
from portal import mail, outbox
from portal.extensions import db
from portal.observability.logs import JsonFormatter, redact
from procedures import catalogue
from procedures.models import Application
from tests.conftest import empty_tables, make_test_app
from tests.support.applicant import apply_until_check
from tests.support.citizen import Citizen
from tests.support.forms import post_from
from tests.support.metrics import TOKEN, scrape, value

pytestmark = pytest.mark.database

UNREACHABLE_DATABASE = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"


def json_lines(records: list[logging.LogRecord]) -> list[dict]:
    formatter = JsonFormatter()
    return [json.loads(formatter.format(record)) for record in records]


def request_lines(caplog) -> list[dict]:
    return json_lines([r for r in caplog.records if r.name == "portal.request"])


def apply_for(citizen: Citizen, slug: str = "change-of-address") -> dict:
    """Apply online from the procedure's page to the receipt; returns the answers submitted."""
    client = citizen.client
    with citizen.app.app_context():
        procedure = catalogue.get(slug)
    start = post_from(client, f"/es/procedures/{slug}", f"/es/applications/start/{slug}", {})
    check_url = apply_until_check(client, start.headers["Location"], procedure)
    submitted = post_from(client, check_url, check_url.replace("/check", "/submit"), {})
    assert submitted.status_code == 302
    with citizen.app.app_context():
        application = db.session.scalars(
            select(Application).where(Application.procedure_slug == slug)
        ).one()
        assert application.submitted_at is not None
        return dict(application.answers)


# Request ids --------------------------------------------------------------------------


def test_every_response_names_its_request_with_an_id_of_its_own(client) -> None:
    ids = set()
    for url in ("/es/", "/es/", "/healthz", "/es/no-such-page", "/static/css/portal.css"):
        with client.get(url) as response:
            ids.add(response.headers["X-Request-ID"])
    assert len(ids) == 5
    assert all(re.fullmatch(r"[0-9a-f]{32}", one) for one in ids)


def test_a_proxys_request_id_is_kept_only_behind_a_trusted_proxy(_migrated, tmp_path) -> None:
    direct = make_test_app(_migrated, tmp_path / "direct").test_client()
    behind = make_test_app(_migrated, tmp_path / "behind", PROXY_FIX_HOPS=1).test_client()
    offered = str(uuid.uuid4())

    def answered(client, request_id: str) -> str:
        return client.get("/healthz", headers={"X-Request-ID": request_id}).headers["X-Request-ID"]

    assert answered(behind, offered) == offered
    assert answered(direct, offered) != offered, "anyone could choose ids otherwise"
    for forged in ("short", "a" * 200, "two words here", "<script>alert(1)</script>"):
        assert answered(behind, forged) != forged


# Log lines ----------------------------------------------------------------------------


def test_each_request_is_one_json_line_naming_its_route_never_its_path(client, caplog) -> None:
    caplog.set_level(logging.INFO)
    token = "a-secret-token-from-an-email"
    response = client.get(f"/es/account/verify/{token}?next=/es/{token}")
    [line] = request_lines(caplog)
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert line["endpoint"] == "identity.verify_email"
    assert (line["method"], line["status"]) == ("GET", 400)
    assert line["duration_ms"] >= 0 and line["level"] == "INFO"
    assert line["message"] == "GET /<lang:lang>/account/verify/<token> 400"
    assert token not in json.dumps(json_lines(caplog.records))


def test_what_a_request_logs_carries_its_request_id(_migrated, tmp_path, caplog) -> None:
    caplog.set_level(logging.INFO)
    app = make_test_app(_migrated, tmp_path, REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/readyz")
    lines = json_lines(caplog.records)
    warning = next(line for line in lines if "Redis is unreachable" in line["message"])
    assert warning["level"] == "WARNING"
    assert {line["request_id"] for line in lines} == {response.headers["X-Request-ID"]}


def test_emails_and_query_strings_are_blanked_even_if_code_logs_them(caplog) -> None:
    """The last guard: a careless line or an exception's text loses them on the way out."""
    caplog.set_level(logging.INFO)
    log = logging.getLogger("portal.careless")
    log.info("Sent to ana@example.es, link /es/account/reset?token=abc123")
    try:
        raise ValueError("no account ana@example.es")
    except ValueError:
        log.exception("Failed", extra={"step": "reset"})
    first, second = json_lines(caplog.records)
    assert first["message"] == "Sent to [email], link /es/account/reset?[redacted]"
    assert first["request_id"] is None, "outside a request"
    assert "ana@example.es" not in second["exception"] and "[email]" in second["exception"]
    assert second["step"] == "reset", "fields passed as extra stay fields"
    assert redact("https://portal.example/verify?token=x&next=/") == (
        "https://portal.example/verify?[redacted]"
    )


def test_signing_in_and_applying_log_nothing_personal(site, citizen, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    citizen.lang = "es"
    citizen.register()
    citizen.sign_out()
    assert citizen.sign_in_password("not the password").status_code == 200
    citizen.sign_in()
    answers = _strings(apply_for(citizen))
    logged = "\n".join(JsonFormatter().format(record) for record in caplog.records)

    answers = [answer for answer in answers if len(answer) >= 5]
    assert "12345678Z" in answers and "Calle Nueva" in answers, "the journey posted them"
    assert len(request_lines(caplog)) >= 20, "the journey was logged, one line a request"
    for personal in (citizen.email, citizen.password, "not the password", *answers):
        assert personal not in logged, personal
    assert "[email]" not in logged and "[redacted]" not in logged, "nothing even tried"


def _strings(answers: object) -> list[str]:
    if isinstance(answers, dict):
        return [s for v in answers.values() for s in _strings(v)]
    if isinstance(answers, list):
        return [s for v in answers for s in _strings(v)]
    return [answers] if isinstance(answers, str) else []


# Metrics ------------------------------------------------------------------------------


def test_metrics_are_not_there_without_a_token_and_refuse_a_wrong_one(_migrated, tmp_path) -> None:
    assert make_test_app(_migrated, tmp_path / "a").test_client().get("/metrics").status_code == 404
    client = make_test_app(_migrated, tmp_path / "b", METRICS_TOKEN=TOKEN).test_client()
    for authorization in (None, "Bearer wrong", f"Basic {TOKEN}", "Bearer", f"Bearer {TOKEN}x"):
        headers = {"Authorization": authorization} if authorization else {}
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401, authorization
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "portal_" not in response.get_data(as_text=True)
    allowed = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert allowed.status_code == 200 and allowed.mimetype == "text/plain"
    assert allowed.headers["Cache-Control"] == "no-store"


@pytest.fixture
def watched(_migrated, tmp_path):
    """The portal with metrics switched on; emptied afterwards."""
    app = make_test_app(_migrated, tmp_path / "instance", METRICS_TOKEN=TOKEN)
    yield app
    with app.app_context():
        empty_tables()


def test_metrics_count_requests_sign_ins_submissions_and_the_outbox(watched) -> None:
    operator = watched.test_client()
    citizen = Citizen(watched, watched.test_client(), "marta.ruiz@example.es", lang="es")
    citizen.register()
    citizen.sign_out()
    before = scrape(operator)

    citizen.sign_in_password("not the password")
    citizen.sign_in()
    citizen.client.get("/es/")
    citizen.client.get("/es/")
    apply_for(citizen)
    with watched.app_context():
        outbox_before = value(scrape(operator), "portal_outbox_depth")
        for n in range(2):  # written outside a request: they wait for the worker
            letter = mail.Email(to=f"vecino{n}@example.es", subject="Aviso", text="-", html="-")
            outbox.enqueue(letter, "test.notice")
        db.session.commit()
    after = scrape(operator)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    home = {"endpoint": "pages.home", "method": "GET"}
    assert grew("portal_http_requests_total", **home, status="200") == 2
    assert grew("portal_http_request_duration_seconds_count", **home) == 2
    assert grew("portal_sign_ins_total", methods="mfa+otp+pwd") == 1
    assert grew("portal_sign_in_failures_total", step="password") == 1
    assert grew("portal_submissions_total", procedure="change-of-address") == 1
    assert value(after, "portal_outbox_depth") - outbox_before == 2
    # The receipt went out with the submission's request (the embedded mode's files).
    assert grew("portal_outbox_sent_total", kind="application.submitted") == 1
    assert value(after, "portal_outbox_dead_depth") == 0
    assert "marta" not in after and "@" not in after, "no label names a person"


def test_a_rolled_back_sign_in_is_not_counted(db_app) -> None:
    from prometheus_client import REGISTRY

    def sign_ins() -> float:
        return REGISTRY.get_sample_value("portal_sign_ins_total", {"methods": "pwd"}) or 0.0

    account = accounts.create_account("luis@example.es", "una contraseña muy larga", "es")
    db.session.commit()
    before = sign_ins()
    events.record(account, EventKind.SIGNED_IN, amr=["pwd"])
    db.session.flush()
    db.session.rollback()
    assert sign_ins() == before
    events.record(db.session.merge(account), EventKind.SIGNED_IN, amr=["pwd"])
    db.session.commit()
    assert sign_ins() == before + 1


# Liveness and readiness -----------------------------------------------------------------


def test_liveness_asks_nothing_of_the_database(tmp_path) -> None:
    """An orchestrator restarts a process that fails liveness: a database outage must not
    restart every server."""
    response = make_test_app(UNREACHABLE_DATABASE, tmp_path).test_client().get("/healthz")
    assert (response.status_code, response.json) == (200, {"status": "ok"})
    assert response.headers["Cache-Control"] == "no-store"


def test_ready_on_the_migrated_database(client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "not configured", "migrations": "ok"},
        "failed": [],
    }


def test_not_ready_without_the_database(tmp_path) -> None:
    response = make_test_app(UNREACHABLE_DATABASE, tmp_path).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["failed"] == ["database"]
    assert response.json["checks"]["migrations"] == "unknown"


def test_not_ready_until_the_schema_is_at_the_head_revision(tmp_path) -> None:
    """A new release deployed before ``flask db upgrade`` would fail on every query."""
    app = make_test_app(f"sqlite:///{tmp_path / 'behind.sqlite3'}", tmp_path / "instance")
    client = app.test_client()
    never_migrated = client.get("/readyz")
    assert never_migrated.status_code == 503 and never_migrated.json["failed"] == ["migrations"]
    assert never_migrated.json["checks"]["migrations"] == "not at head"
    with app.app_context():
        scripts = ScriptDirectory(app.extensions["migrate"].directory)
        [head] = scripts.get_heads()
        stamp(revision=scripts.get_revision(head).down_revision)
    assert client.get("/readyz").json["failed"] == ["migrations"]
    with app.app_context():
        stamp(revision=head)
    assert client.get("/readyz").status_code == 200


def test_redis_is_checked_when_one_is_configured(_migrated, tmp_path) -> None:
    up = make_test_app(_migrated, tmp_path / "up", REDIS_URL="redis://127.0.0.1:6379/0")
    assert up.test_client().get("/readyz").json["checks"]["redis"] == "ok"
    down = make_test_app(_migrated, tmp_path / "down", REDIS_URL="redis://127.0.0.1:1/0")
    response = down.test_client().get("/readyz")
    assert response.status_code == 503 and response.json["failed"] == ["redis"]
