"""gunicorn serving ``bench.scaling.server:app`` with the repository's ``gunicorn.conf.py``.

One worker with one thread: the benchmark times one request at a time, so a page's time
is its own and not a queue's. The worker timeout is raised from 30 s so that a page that
does not scale is measured rather than killed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests

from bench.scaling import database

ROOT = Path(__file__).resolve().parents[2]
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Server:
    base: str
    master: int
    database: str

    def cpu_seconds(self) -> float:
        """CPU time used so far by gunicorn's worker and by the PostgreSQL backends serving
        the database: what a request costs whatever else the machine is doing (its wall
        time also holds the time spent waiting for a CPU on a busy machine)."""
        return sum(_cpu_seconds(pid) for pid in self._workers() + _backends(self.database))

    def _workers(self) -> list[int]:
        children = Path(f"/proc/{self.master}/task/{self.master}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def _cpu_seconds(pid: int) -> float:
    """User and system time of a process, from /proc (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def _backends(name: str) -> list[int]:
    with psycopg.connect(database.url("postgres"), autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,)
        ).fetchall()
    return [row[0] for row in rows]


@contextmanager
def gunicorn(environment: dict[str, str], name: str, log: Path) -> Iterator[Server]:
    """A server on ``environment`` (secrets) and database ``name``, until the block ends."""
    port = free_port()
    binary = Path(sys.executable).with_name("gunicorn")
    env = {
        **os.environ,
        **environment,
        "DATABASE_URL": database.url(name),
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "1",
        "GUNICORN_CMD_ARGS": "--timeout 600",
    }
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 - our own virtualenv's gunicorn
            [
                str(binary),
                "--config",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "bench.scaling.server:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=output,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(base, process)
        yield Server(base, process.pid, name)
    except Exception:
        print("gunicorn's last lines:\n" + "\n".join(log.read_text().splitlines()[-40:]))
        raise
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped (exit {process.returncode}); see its log")
        try:
            if requests.get(f"{base}/healthz", timeout=30).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or the worker still starting
            pass
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer /healthz within two minutes")
