"""Runs locust headless against the portal and reads back its figures.

locust runs in a process of its own (it patches the standard library for gevent, which
the benchmark's own process must not be), with the people of ``locustfile.py`` and a
fixture file naming the citizens and their sessions. It holds a fixed number of
simulated people, each sending a request as soon as the last one was answered (no
pause), so that number is the concurrency; figures are counted after all have started.
"""

from __future__ import annotations

import csv
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.support.cpu import Meter, Usage
from bench.support.stack import BIN, Portal

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
_RUNS = itertools.count(1)


@dataclass
class Row:
    """One request name's figures (or ``Aggregated``, every request)."""

    name: str
    requests: int
    failures: int
    rate: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def successes_per_second(self) -> float:
        return self.rate * (self.requests - self.failures) / self.requests if self.requests else 0


@dataclass
class Run:
    users: int
    rows: dict[str, Row]
    failures: list[tuple[str, str, int]]
    usage: Usage
    #: References of the applications whose confirmation page was shown.
    receipts: list[str]

    @property
    def total(self) -> Row:
        return self.rows["Aggregated"]

    @property
    def server_cpu_ms(self) -> float:
        """The server's CPU time per request: steadier than the rate on a busy machine."""
        rate = self.total.rate
        return self.usage.server / rate * 1000 if rate else 0.0


def write_fixture(portal: Portal, fixture: dict[str, Any]) -> Path:
    path = portal.workdir / "fixture.json"
    path.write_text(json.dumps({"host": "127.0.0.1", **fixture}))
    return path


def run(
    portal: Portal,
    fixture: Path,
    user_class: str,
    users: int,
    seconds: float,
    env: dict[str, str] | None = None,
) -> Run:
    """``users`` simulated people of ``user_class`` for ``seconds`` after they all started."""
    prefix = portal.workdir / f"locust-{next(_RUNS)}-{user_class}-{users}"
    log = prefix.with_suffix(".log")
    receipts = prefix.with_suffix(".receipts")
    meter = Meter([portal.gunicorn.pid] if portal.gunicorn else [])
    meter.start()
    process = portal.processes.start(
        [
            BIN / "locust",
            "--locustfile",
            LOCUSTFILE,
            "--headless",
            "--host",
            portal.url,
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{max(int(seconds), 1) + 1}s",
            "--reset-stats",
            "--only-summary",
            "--csv",
            str(prefix),
            "--exit-code-on-error",
            "0",
            "--stop-timeout",
            "10",
            "--loglevel",
            "WARNING",
            user_class,
        ],
        {
            **portal.env,
            "BENCH_FIXTURE": str(fixture),
            "BENCH_RECEIPTS": str(receipts),
            **(env or {}),
        },
        log,
    )
    try:
        code = process.wait(timeout=seconds + 120)
    finally:
        usage = meter.stop()
    if code != 0:
        raise RuntimeError(f"locust failed ({code}):\n{log.read_text()[-4000:]}")
    return Run(
        users,
        _rows(Path(f"{prefix}_stats.csv")),
        _failures(prefix),
        usage,
        receipts.read_text().split() if receipts.exists() else [],
    )


def _number(value: str) -> float:
    return float(value) if value not in {"", "N/A"} else 0.0


def _rows(path: Path) -> dict[str, Row]:
    rows = {}
    with path.open() as stats:
        for line in csv.DictReader(stats):
            rows[line["Name"]] = Row(
                name=line["Name"],
                requests=int(line["Request Count"]),
                failures=int(line["Failure Count"]),
                rate=_number(line["Requests/s"]),
                p50_ms=_number(line["50%"]),
                p95_ms=_number(line["95%"]),
                p99_ms=_number(line["99%"]),
            )
    return rows


def _failures(prefix: Path) -> list[tuple[str, str, int]]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with path.open() as failures:
        return [
            (line["Name"], line["Error"], int(line["Occurrences"]))
            for line in csv.DictReader(failures)
        ]
