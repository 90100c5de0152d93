"""The machine a benchmark ran on, printed above its figures.

A figure means nothing without the machine behind it: the CPU model and how many cores
this process may use, the memory, the system, and the versions of what served the
requests. The load average is printed too, because on a shared machine other work
competes for the same cores and lowers every figure.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_count() -> int:
    """The cores this process may run on (a container's share, not the host's)."""
    return len(os.sched_getaffinity(0))


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                kib = int(line.split()[1])
                return f"{kib / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _os_name() -> str:
    try:
        release = platform.freedesktop_os_release()["PRETTY_NAME"]
    except OSError:
        release = platform.system()
    return f"{release}, kernel {platform.release()}"


def _postgresql(database_url: str) -> str:
    """The server's version, asked of its maintenance database (the benchmark's own may not
    exist yet)."""
    import psycopg

    server = database_url.replace("postgresql+psycopg://", "postgresql://").rpartition("/")[0]
    with psycopg.connect(f"{server}/postgres") as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {row[0] if row else 'unknown'}"


def _redis(redis_url: str) -> str:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return "Redis " + str(client.info("server")["redis_version"])
    finally:
        client.close()


def _tool(command: list[str]) -> str | None:
    """The first line a tool prints about its version, or None if it is not installed."""
    if shutil.which(command[0]) is None:
        return None
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    text = (result.stdout or result.stderr).strip().splitlines()
    return text[0] if text else None


def describe(
    database_url: str | None = None, redis_url: str | None = None, tools: tuple[str, ...] = ()
) -> list[str]:
    """Lines describing this machine and the servers a benchmark used."""
    from importlib.metadata import version

    lines = [
        f"CPU: {_cpu_model()}, {cpu_count()} cores available (of {os.cpu_count()})",
        f"Memory: {_memory()}",
        f"OS: {_os_name()}",
        f"Python {platform.python_version()}, gunicorn {version('gunicorn')},"
        f" Flask {version('flask')}, SQLAlchemy {version('sqlalchemy')}",
    ]
    servers = []
    if database_url:
        servers.append(_postgresql(database_url))
    if redis_url:
        servers.append(_redis(redis_url))
    for tool in tools:
        found = {
            "wrk": lambda: _tool(["wrk", "--version"]),
            "nginx": lambda: _tool(["nginx", "-v"]),
            "locust": lambda: f"locust {version('locust')}",
            "argon2": lambda: f"argon2-cffi {version('argon2-cffi')}",
        }[tool]()
        if found:
            servers.append(found.split(" Copyright")[0])
    if servers:
        lines.append(", ".join(servers))
    one, five, _fifteen = os.getloadavg()
    busy = " (other work is running: figures are lower than on an idle machine)"
    lines.append(
        f"Load average before the run: {one:.2f} (1 min), {five:.2f} (5 min)"
        + (busy if one > 0.5 * cpu_count() else "")
    )
    return lines


def print_header(title: str, *notes: str, **servers: object) -> None:
    """The benchmark's title, the machine, and any notes on how it was run."""
    print(f"# {title}")
    for line in describe(**servers):  # type: ignore[arg-type]
        print(f"#   {line}")
    for note in notes:
        print(f"# {note}")
    print(flush=True)
