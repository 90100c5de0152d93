"""The portal as production runs it: gunicorn with gunicorn.conf.py and two workers, in
production mode, on PostgreSQL and Redis, over real HTTP.

It needs PostgreSQL, so it runs in CI's PostgreSQL pass (``DATABASE_URL``), in a schema
of its own; Redis is the machine's, under a key prefix of its own.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import brotli
import pytest
import redis
import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet

from tests.conftest import ROOT
from tests.support.metrics import TOKEN, value

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = "redis://127.0.0.1:6379/0"
#: The default per-IP limit of every page, small enough to run out in a test.
LIMIT = 12

pytestmark = [
    pytest.mark.database,
    pytest.mark.skipif(
        not DATABASE_URL.startswith("postgres"),
        reason="production runs on PostgreSQL; .ci/run runs this in its PostgreSQL pass",
    ),
]


@dataclass
class Server:
    url: str
    log: Path
    metrics_dir: Path

    def get(self, path: str, **headers: str) -> requests.Response:
        # A new connection each time, as many browsers would: any worker may answer.
        return requests.get(f"{self.url}{path}", headers=headers, stream=True, timeout=10)

    def log_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    url = "postgresql+psycopg://" + DATABASE_URL.split("://", 1)[1]
    schema = f"gunicorn_{secrets.token_hex(6)}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def production_environment(database: str, port: int, tmp_path: Path) -> dict[str, str]:
    """What an operator sets (README, Configuration), and nothing of the test run's."""
    inherited = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}}
    return {
        **inherited,
        "PORTAL_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "OIDC_SUBJECT_SECRET": secrets.token_urlsafe(48),
        "DATABASE_URL": database,
        "REDIS_URL": REDIS_URL,
        # Nothing here sends mail; a closed port would refuse it if anything did.
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": "1",
        "RATELIMIT_KEY_PREFIX": f"test-{secrets.token_hex(6)}",
        "DEFAULT_RATE_LIMIT": f"{LIMIT} per minute",
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "2",
        "BIND": f"127.0.0.1:{port}",
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
    }


@pytest.fixture(scope="module")
def server(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    port = _free_port()
    env = production_environment(database, port, tmp_path)
    bin_dir = Path(sys.executable).parent
    # As `make serve` does: migrations first, then gunicorn with the repository's config.
    subprocess.run(  # noqa: S603
        [bin_dir / "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    log = tmp_path / "gunicorn.log"
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603
            [bin_dir / "gunicorn", "--config", "gunicorn.conf.py"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", log, tmp_path / "metrics")
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            try:
                if requests.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or no worker booted yet
                time.sleep(0.1)
        else:
            pytest.fail(f"gunicorn did not answer in 30 s:\n{log.read_text()}")
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        limits = redis.Redis.from_url(REDIS_URL)
        for key in limits.scan_iter(f"*{env['RATELIMIT_KEY_PREFIX']}*"):
            limits.delete(key)


def test_a_page_is_served_compressed(server) -> None:
    response = server.get("/es/", **{"Accept-Encoding": "br"})
    body = response.raw.read(decode_content=False)
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "br"
    html = brotli.decompress(body).decode()
    assert html.startswith("<!DOCTYPE html>") and "</html>" in html
    assert len(body) < len(html.encode()) / 2
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_the_stylesheet_has_a_hashed_name_a_year_of_cache_and_compression(server) -> None:
    html = server.get("/es/").text
    stylesheet = re.search(r'href="(/static/css/portal\.[0-9a-f]{12}\.css)"', html).group(1)
    response = server.get(stylesheet, **{"Accept-Encoding": "gzip"})
    body = gzip.decompress(response.raw.read(decode_content=False))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert body == (ROOT / "static" / "css" / "portal.css").read_bytes()


def test_ready_with_postgresql_redis_and_the_schema_at_head(server) -> None:
    response = server.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok", "migrations": "ok"}


def test_rate_limits_are_shared_by_the_workers_through_redis(server) -> None:
    """Each worker keeping its own count would let through twice the limit.

    Requests come in small bursts with pauses: a worker that has just answered tends to
    win the next connection too, and the test needs both to answer some.
    """

    def status(_: int) -> int:
        return server.get("/es/accessibility").status_code

    def answered_by() -> set[int]:
        lines = server.log_lines()
        return {line["pid"] for line in lines if line.get("endpoint") == "pages.accessibility"}

    statuses: Counter[int] = Counter()
    with ThreadPoolExecutor(max_workers=4) as pool:
        while sum(statuses.values()) < 3 * LIMIT or (
            len(answered_by()) < 2 and sum(statuses.values()) < 20 * LIMIT
        ):
            statuses.update(pool.map(status, range(4)))
            time.sleep(0.05)
    asked = sum(statuses.values())
    assert statuses == {200: LIMIT, 429: asked - LIMIT}
    assert len(answered_by()) == 2, "both workers answered, and counted together"
    # Metrics add both workers' counts up, whichever worker is asked.
    metrics = server.get("/metrics", Authorization=f"Bearer {TOKEN}").text
    page = {"endpoint": "pages.accessibility", "method": "GET"}
    assert value(metrics, "portal_http_requests_total", **page, status="200") == LIMIT
    assert value(metrics, "portal_http_requests_total", **page, status="429") == asked - LIMIT
    assert value(metrics, "portal_http_request_duration_seconds_count", **page) == asked


def test_every_log_line_is_json_and_every_request_line_has_its_id(server) -> None:
    asked = {server.get(path).headers["X-Request-ID"] for path in ("/es/", "/es/contact", "/nope")}
    time.sleep(0.2)  # the line is written as the response leaves
    lines = server.log_lines()  # each parses as JSON, or this fails
    assert {"Starting gunicorn", "Booting worker"} <= {
        " ".join(line["message"].split()[:2])
        for line in lines
        if line["logger"] == "gunicorn.error"
    }
    requests_logged = [line for line in lines if line["logger"] == "portal.request"]
    assert all(re.fullmatch(r"[0-9a-f]{32}", line["request_id"]) for line in requests_logged)
    assert asked <= {line["request_id"] for line in requests_logged}
    assert not any("?" in line["message"] for line in requests_logged)
