"""gunicorn's settings for the portal in production: ``make serve``, or
``gunicorn --config gunicorn.conf.py wsgi:app`` (gunicorn reads this file by default
when started in this folder).

Processes and threads come from the CPU count: Python runs one thread at a time per
process, so rendering pages needs processes (two per CPU, so a CPU is never idle
while a process waits on PostgreSQL), and threads let each process wait on the
database or a slow client without holding up the rest. ``WEB_CONCURRENCY`` and
``WEB_THREADS`` override them; any other setting can be changed with
``GUNICORN_CMD_ARGS`` (``--timeout 60``). Each thread holds at most one database
connection, so a server opens at most workers x threads of them.

Restarts are graceful: ``kill -HUP <master pid>`` starts new workers on the new code
and lets the old ones finish their requests (up to ``graceful_timeout``); each
worker is also replaced after about 10,000 requests, so a slow leak never grows.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

# Before anything imports prometheus_client: it picks per-process files at import.
METRICS_DIR_MADE_HERE = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if METRICS_DIR_MADE_HERE:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="portal-metrics-")

from portal.config import default_log_format  # noqa: E402 - after the metrics directory
from portal.observability.logs import gunicorn_logconfig  # noqa: E402

CPUS = len(os.sched_getaffinity(0))

wsgi_app = "wsgi:app"
bind = [os.environ.get("BIND", "127.0.0.1:8000")]
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * CPUS)
threads = int(os.environ.get("WEB_THREADS") or 4)
worker_class = "gthread"

# A worker silent for 30 s is stuck: it is killed and replaced. Pages answer in
# milliseconds; the slowest request (a PDF receipt) in well under a second.
timeout = 30
graceful_timeout = 30
# A few seconds suits clients that connect directly. Behind a load balancer, set it
# above the balancer's idle timeout, so that the balancer closes idle connections and
# never sends a request down one that gunicorn has just closed.
keepalive = int(os.environ.get("KEEPALIVE_SECONDS") or 5)
max_requests = 10_000
max_requests_jitter = 1_000  # so workers are not all replaced at the same moment

# Heartbeat files on a memory file system: a slow disk cannot make a worker look stuck.
# gunicorn makes its files there with mkstemp (private, unpredictable names).
SHARED_MEMORY = "/dev/shm"  # noqa: S108
if Path(SHARED_MEMORY).is_dir():
    worker_tmp_dir = SHARED_MEMORY
# gunicornc's socket: one per user by default, so a second server on the same machine
# would take the first one's; signals do the same job.
control_socket_disable = True

# The app writes one structured line per request (no query strings, no addresses);
# gunicorn's access log would write both.
accesslog = None
errorlog = "-"
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
loglevel = LOG_LEVEL.lower()
PORTAL_ENV = os.environ.get("PORTAL_ENV", "production")
LOG_FORMAT = default_log_format(PORTAL_ENV, os.environ.get("LOG_FORMAT"))
if LOG_FORMAT == "json":
    logconfig_dict = gunicorn_logconfig(LOG_LEVEL)


def on_starting(server: Any) -> None:
    """Check the configuration once, in the master, before any worker starts.

    Production mode refuses embedded defaults; said here, the message is said once
    rather than as a traceback from every worker. The workers learn how many they are
    (``WEB_CONCURRENCY``), which decides whether rate limits in memory would do.
    """
    os.environ["WEB_CONCURRENCY"] = str(server.cfg.workers)
    _clear_metrics(Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]))
    from portal.app import ROOT
    from portal.config import ConfigurationError, from_environment, refuse_embedded_defaults

    instance = ROOT / "instance"
    try:
        refuse_embedded_defaults(from_environment(instance), instance)
    except ConfigurationError as refused:
        server.log.error(refused.format_message())
        sys.exit(1)


def _clear_metrics(directory: Path) -> None:
    """Counts from an earlier run would be added to this one's."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """A worker that ended leaves its counters (they still count); its gauges go."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    if METRICS_DIR_MADE_HERE:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
