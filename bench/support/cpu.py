"""Where the machine's CPU went during a measurement.

On a machine of two cores, the load generator, PostgreSQL, Redis and anything else
running compete with the server being measured. Reporting how much CPU the server and
the load generator used, out of what the whole machine used, tells a reader whether a
figure was limited by the server or by its neighbours.
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass

import psutil


def _tree_seconds(pid: int) -> float:
    """CPU seconds of a process and its descendants (those that ended and were waited for
    included: gunicorn replaces workers as they reach their request limit)."""
    try:
        root = psutil.Process(pid)
        times = root.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in root.children(recursive=True):
            try:
                child_times = child.cpu_times()
                total += child_times.user + child_times.system
            except psutil.NoSuchProcess:
                continue
        return total
    except psutil.NoSuchProcess:
        return 0.0


def _machine_seconds() -> float:
    times = psutil.cpu_times()
    return times.user + times.nice + times.system + times.irq + times.softirq + times.steal


@dataclass
class Usage:
    """Cores busy on average during the measurement (2.0 = two cores all the time)."""

    server: float
    client: float
    machine: float
    cores: int

    def describe(self) -> str:
        others = max(self.machine - self.server - self.client, 0.0)
        return (
            f"CPU: server {self.server:.2f}, load generator {self.client:.2f}, everything"
            f" else (PostgreSQL, Redis, other work) {others:.2f} of {self.cores} cores"
        )


def _ended_children_seconds() -> float:
    """CPU seconds of this process's children that have ended and been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Meter:
    """Call ``start()`` before and ``stop()`` after a measurement.

    The load generator is a child of this process that runs for the measurement: its CPU
    time is counted when it has ended and been waited for (call ``stop()`` after that).
    The server runs on: its processes are read as they are.
    """

    def __init__(self, server_pids: list[int]) -> None:
        self.server_pids = server_pids

    def _sample(self) -> tuple[float, float, float, float]:
        return (
            time.monotonic(),
            sum(_tree_seconds(pid) for pid in self.server_pids),
            _ended_children_seconds(),
            _machine_seconds(),
        )

    def start(self) -> None:
        self._start = self._sample()

    def stop(self) -> Usage:
        end = self._sample()
        elapsed = max(end[0] - self._start[0], 1e-9)
        return Usage(
            server=(end[1] - self._start[1]) / elapsed,
            client=(end[2] - self._start[2]) / elapsed,
            machine=(end[3] - self._start[3]) / elapsed,
            cores=psutil.cpu_count() or 1,
        )
