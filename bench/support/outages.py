"""The faults a fault benchmark injects, each timed: a gunicorn worker killed outright, the
PostgreSQL server stopped and started again.

Killing a worker with SIGKILL is a crash (out of memory, a segfault in a C extension): the
requests it held are cut, the master starts another, and the other workers go on. Stopping
PostgreSQL ("fast" shutdown: every session's transaction rolled back) and starting it is a
restart for an upgrade or a failover: every connection in every pool is dead afterwards.

The PostgreSQL server here is the machine's own Debian cluster, which other work shares:
it is stopped for a few seconds only, and started again however the benchmark ends, by a
``finally`` and, should this process be killed outright, by a watchdog process that starts
the cluster after :data:`WATCHDOG_SECONDS` if it is still down.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import psutil

#: How long after a stop the watchdog starts the cluster, if nothing else has.
WATCHDOG_SECONDS = 30


@dataclass
class Window:
    """When a fault began and ended (``time.monotonic()``), and what it was."""

    name: str
    start: float
    end: float
    detail: str = ""


# gunicorn ------------------------------------------------------------------------------


def workers(master_pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(master_pid).children()
    except psutil.NoSuchProcess:
        return []


def _serving(process: psutil.Process, port: int) -> bool:
    """Whether the worker holds a client's connection at this moment."""
    try:
        return any(
            c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == port
            for c in process.net_connections(kind="tcp")
        )
    except psutil.Error:
        return False


def kill_worker(master_pid: int, port: int, settle_seconds: float = 60) -> Window:
    """SIGKILL one worker, preferably one answering a request right now, and wait until the
    master has replaced it. The window ends when the replacement is running."""
    before = workers(master_pid)
    if len(before) < 2:
        raise RuntimeError(f"gunicorn has {len(before)} worker(s): killing one would stop it")
    victim, caught = before[0], "no request caught in flight"
    look_until = time.monotonic() + 2
    while time.monotonic() < look_until:
        busy = [worker for worker in before if _serving(worker, port)]
        if busy:
            victim, caught = busy[0], "while answering a request"
            break
        time.sleep(0.01)
    start = time.monotonic()
    os.kill(victim.pid, signal.SIGKILL)
    deadline = start + settle_seconds
    while time.monotonic() < deadline:
        now = [worker.pid for worker in workers(master_pid)]
        if victim.pid not in now and len(now) >= len(before):
            replacement = sorted(set(now) - {worker.pid for worker in before})
            detail = (
                f"worker {victim.pid} of {len(before)} killed (SIGKILL) {caught};"
                f" the master started {', '.join(map(str, replacement))}"
            )
            return Window("gunicorn worker killed", start, time.monotonic(), detail)
        time.sleep(0.05)
    raise RuntimeError(f"gunicorn did not replace worker {victim.pid} in {settle_seconds:.0f} s")


# PostgreSQL ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cluster:
    """A Debian PostgreSQL cluster (``pg_lsclusters``), driven with ``pg_ctlcluster``."""

    version: str
    name: str
    port: int
    owner: str

    def _ctl(self, action: str, *options: str) -> list[str]:
        # Straight to pg_ctl: under systemd, pg_ctlcluster would hand over to systemctl.
        return [
            "pg_ctlcluster", "--skip-systemctl-redirect", *options,
            self.version, self.name, action,
        ]  # fmt: skip

    def _run(self, action: str, *options: str) -> None:
        done = subprocess.run(  # noqa: S603 - Debian's own tool, fixed arguments
            self._ctl(action, *options), capture_output=True, text=True, check=False
        )
        if done.returncode:
            raise RuntimeError(f"pg_ctlcluster {action}: {done.stderr.strip() or done.stdout}")

    def running(self) -> bool:
        status = subprocess.run(  # noqa: S603
            self._ctl("status"), capture_output=True, check=False
        )
        return status.returncode == 0

    def _watchdog(self) -> subprocess.Popen[bytes]:
        """A process of its own session that starts the cluster in WATCHDOG_SECONDS unless
        it is running by then: the safety net if this process dies while it is down."""
        status = " ".join(self._ctl("status"))
        start = " ".join(self._ctl("start"))
        return subprocess.Popen(  # noqa: S603
            ["/bin/sh", "-c", f"sleep {WATCHDOG_SECONDS}; {status} >/dev/null || {start}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        """The cluster stopped ("fast": sessions rolled back) for the block, started again
        however the block ends."""
        watchdog = self._watchdog()
        try:
            self._run("stop", "--mode", "fast")
            yield
        finally:
            try:
                if not self.running():
                    self._run("start")
            finally:
                if self.running():  # else the watchdog tries again
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(watchdog.pid, signal.SIGKILL)
                    watchdog.wait()

    def restart(self, down_seconds: float) -> Window:
        """Stop, wait ``down_seconds``, start. The window runs from the stop's beginning to
        the moment the server takes connections again."""
        start = time.monotonic()
        with self.stopped():
            stopped_at = time.monotonic()
            time.sleep(down_seconds)
            starting_at = time.monotonic()
        end = time.monotonic()
        detail = (
            f"PostgreSQL {self.version}/{self.name} stopped in {stopped_at - start:.1f} s,"
            f" down {starting_at - stopped_at:.1f} s, started in {end - starting_at:.1f} s"
        )
        return Window("PostgreSQL restarted", start, end, detail)


def local_cluster(database_url: str) -> tuple[Cluster | None, str]:
    """The cluster serving ``database_url``, if it is this machine's and this user may stop
    it; otherwise None and why not."""
    parts = urlsplit(database_url.replace("postgresql+psycopg://", "postgresql://"))
    if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
        return None, f"the database is on {parts.hostname}, not this machine"
    if not shutil.which("pg_lsclusters") or not shutil.which("pg_ctlcluster"):
        return None, "no pg_lsclusters/pg_ctlcluster (Debian's postgresql-common) here"
    port = parts.port or 5432
    listing = subprocess.run(
        ["pg_lsclusters", "--no-header"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    for line in listing.stdout.splitlines():
        version, name, cluster_port, status, owner, *_rest = line.split()
        if int(cluster_port) == port and status == "online":
            cluster = Cluster(version, name, port, owner)
            me = pwd.getpwuid(os.geteuid()).pw_name
            if os.geteuid() != 0 and me != owner:
                return None, f"stopping PostgreSQL needs root or {owner} (this is {me})"
            return cluster, ""
    return None, f"no online cluster on port {port} in pg_lsclusters"
