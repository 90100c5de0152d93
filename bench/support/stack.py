"""The production stack a benchmark runs against, started and always stopped by it.

What ``make serve`` and ``make worker`` run, on this machine: gunicorn with the
repository's ``gunicorn.conf.py`` in production mode, the outbox's worker, a PostgreSQL
database of the benchmark's own (dropped and made again each run, then migrated as a
release would), Redis for rate limits (a database number and a key prefix of its own, its
keys deleted afterwards), and an SMTP server that accepts and counts every email
(aiosmtpd), so that mail goes over SMTP as in production. Secrets are new for every run.

Every process started here runs in a process group of its own and is stopped (TERM,
then KILL) when the ``with`` block ends, however it ends: an exception, Ctrl+C, or a
TERM sent to the benchmark.

Settings, from the environment:

- ``BENCH_SECONDS``: how long each measurement runs (default 10; longer runs give
  steadier figures: ``make bench BENCH_SECONDS=60``);
- ``BENCH_DATABASE_URL``: the PostgreSQL database to drop and create
  (``postgresql://postgres@127.0.0.1:5432/bench_throughput``);
- ``BENCH_REDIS_URL``: Redis, with a database number (``redis://127.0.0.1:6379/11``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: Rate limits stay on (each request still counts in Redis, as in production), but the
#: per-address default is raised so that one load generator's address is not refused;
#: the tighter limits of sign-in and submission apply, per simulated citizen's address.
RAISED_DEFAULT_RATE_LIMIT = "1000000 per minute"


@dataclass(frozen=True)
class Settings:
    seconds: float
    database_url: str
    redis_url: str

    @classmethod
    def from_environment(cls) -> Settings:
        return cls(
            seconds=float(os.environ.get("BENCH_SECONDS") or 10),
            database_url=os.environ.get("BENCH_DATABASE_URL")
            or "postgresql://postgres@127.0.0.1:5432/bench_throughput",
            redis_url=os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/11",
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_on_terminate() -> None:
    """A TERM (or HUP) ends the benchmark like Ctrl+C does: through every ``finally``."""

    def leave(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGHUP, leave)


class Processes(contextlib.ExitStack):
    """Child processes, each in its own process group, all stopped when the block ends."""

    def start(
        self, argv: list[str | Path], env: Mapping[str, str], log: Path, cwd: Path = ROOT
    ) -> subprocess.Popen[bytes]:
        with log.open("ab") as output:
            process = subprocess.Popen(  # noqa: S603 - our own tools, by path
                [str(part) for part in argv],
                cwd=cwd,
                env=dict(env),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.callback(stop, process)
        return process


def stop(process: subprocess.Popen[bytes], grace: float = 20) -> None:
    """TERM to the process's group (gunicorn's workers, nginx's), then KILL if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_until_answering(
    url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 60
) -> None:
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server stopped:\n{log.read_text()[-4000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {seconds:.0f} s:\n{log.read_text()[-4000:]}")


def fresh_database(database_url: str) -> None:
    """Drop the benchmark's database and create it empty."""
    import psycopg

    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    server, _, name = url.rpartition("/")
    name = name.split("?")[0]
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unexpected database name {name!r}")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


class SmtpSink:
    """An SMTP server that accepts every email and counts it: mail leaves over SMTP as in
    production, and goes nowhere."""

    def __init__(self) -> None:
        import logging

        from aiosmtpd.controller import Controller

        # aiosmtpd logs every SMTP command at INFO; the benchmark's output is its tables.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.port = free_port()
        self.received = 0
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, _server: Any, _session: Any, _envelope: Any) -> str:
        with self._lock:
            self.received += 1
        return "250 OK"

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._controller.stop()


def production_environment(
    settings: Settings, port: int, smtp_port: int, workdir: Path
) -> dict[str, str]:
    """What an operator sets (README, Configuration), with new secrets, and nothing else."""
    from cryptography.fernet import Fernet

    inherited = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}}
    return {
        **inherited,
        "PORTAL_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "OIDC_SUBJECT_SECRET": secrets.token_urlsafe(48),
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "RATELIMIT_KEY_PREFIX": f"bench-{secrets.token_hex(6)}",
        "DEFAULT_RATE_LIMIT": RAISED_DEFAULT_RATE_LIMIT,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_STARTTLS": "false",  # the sink is on this machine
        # One trusted proxy: each simulated citizen's X-Forwarded-For is their address.
        "PROXY_FIX_HOPS": "1",
        "UPLOAD_FOLDER": str(workdir / "uploads"),
        "PROMETHEUS_MULTIPROC_DIR": str(workdir / "metrics"),
        "BIND": f"127.0.0.1:{port}",
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
    }


def _delete_redis_keys(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)
    finally:
        client.close()


@dataclass(frozen=True)
class Server:
    url: str
    #: The server's main process (gunicorn's master, nginx's): its CPU is counted with
    #: its workers'.
    pid: int


@dataclass
class Portal:
    """The portal under gunicorn, and what came with it."""

    url: str
    env: dict[str, str]
    workdir: Path
    smtp: SmtpSink
    processes: Processes
    gunicorn: Server | None = None
    log: Path = field(default_factory=Path)

    def start_gunicorn(self, app: str | None = None, bind: str | None = None) -> Server:
        """gunicorn with the repository's ``gunicorn.conf.py`` (its workers, threads and
        keep-alive) serving ``app`` (the portal by default)."""
        env = dict(self.env)
        url = self.url
        if bind:
            env["BIND"] = bind
            url = f"http://{bind}"
        name = (app or "portal").rsplit(":", 1)[0].rsplit(".", 1)[-1]
        log = self.workdir / f"gunicorn-{name}.log"
        argv: list[str | Path] = [BIN / "gunicorn", "--config", "gunicorn.conf.py"]
        if app:
            argv.append(app)
        process = self.processes.start(argv, env, log)
        wait_until_answering(f"{url}/healthz", process, log)
        server = Server(url, process.pid)
        if app is None:
            self.gunicorn, self.log = server, log
        return server

    def start_worker(self) -> None:
        """The outbox's worker, as ``make worker`` runs it: it sends the emails requests
        wrote (in production no request talks to the mail server)."""
        env = {k: v for k, v in self.env.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        argv: list[str | Path] = [BIN / "flask", "--app", "wsgi", "worker"]
        self.processes.start(argv, env, self.workdir / "worker.log")

    def wait_for_outbox(self, app: Any, seconds: float = 60) -> dict[str, int]:
        """Wait until the worker has sent every email; the outbox's rows by status."""
        from portal import outbox
        from portal.extensions import db

        deadline = time.monotonic() + seconds
        with app.app_context():
            while True:
                counts = outbox.counts()
                db.session.remove()
                if not counts[outbox.PENDING] or time.monotonic() > deadline:
                    return counts
                time.sleep(0.5)


@contextlib.contextmanager
def portal(settings: Settings) -> Iterator[Portal]:
    """A migrated, empty database, the SMTP sink, and the environment to run the portal
    in; the caller seeds data (``bench.support.seed``) and then calls ``start_gunicorn``.

    The environment is also set in this process (all but the metrics folder, which is
    gunicorn's), so ``portal.create_app()`` here builds the same app the servers run.
    """
    stop_on_terminate()
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="portal-bench-")))
        smtp = stack.enter_context(SmtpSink())
        port = free_port()
        env = production_environment(settings, port, smtp.port, workdir)
        stack.callback(_delete_redis_keys, settings.redis_url, env["RATELIMIT_KEY_PREFIX"])
        fresh_database(settings.database_url)
        migrated = subprocess.run(  # noqa: S603
            [BIN / "flask", "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if migrated.returncode:
            raise RuntimeError(f"migrations failed:\n{migrated.stdout}\n{migrated.stderr}")
        os.environ.update({k: v for k, v in env.items() if k != "PROMETHEUS_MULTIPROC_DIR"})
        processes = stack.enter_context(Processes())
        yield Portal(f"http://127.0.0.1:{port}", env, workdir, smtp, processes)


def create_app() -> Any:
    """The portal, built in this process from the environment ``portal()`` set."""
    sys.path.insert(0, str(ROOT))
    from portal import create_app as factory

    return factory()
