"""One page, as fast as it can be served: wrk, with a Lua script that reports percentiles.

wrk is written in C and keeps its connections open, so one thread of it can load a
server many times faster than the portal can answer; it takes little of the CPU the
server needs on a small machine.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.support.cpu import Meter, Usage

REPORT = Path(__file__).with_name("wrk_report.lua")


@dataclass
class Result:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    usage: Usage | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def server_cpu_ms(self) -> float:
        """The server's CPU time per request: steadier than the rate on a busy machine."""
        if not self.usage or not self.requests:
            return 0.0
        return self.usage.server * self.seconds / self.requests * 1000


def run(
    url: str,
    seconds: float,
    connections: int,
    headers: dict[str, str] | None = None,
    server_pids: list[int] | None = None,
) -> Result:
    """``connections`` keep-alive connections asking for ``url`` for ``seconds``.

    Errors are connections refused or reset, timeouts (2 s) and answers other than 2xx
    or 3xx.
    """
    argv = [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{max(int(seconds), 1)}s",
        "--timeout",
        "2s",
        "--script",
        str(REPORT),
    ]
    for name, value in (headers or {}).items():
        argv += ["--header", f"{name}: {value}"]
    meter = Meter(server_pids or [])
    meter.start()
    process = subprocess.Popen(  # noqa: S603 - wrk, by name, with our arguments
        [*argv, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        out, err = process.communicate(timeout=seconds + 60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    usage = meter.stop() if server_pids else None
    line = next((line for line in out.splitlines() if line.startswith("BENCH-JSON ")), None)
    if process.returncode or line is None:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{out}\n{err}")
    figures = json.loads(line.removeprefix("BENCH-JSON "))
    latency = figures["latency_us"]
    return Result(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        errors=sum(figures["errors"].values()),
        p50_ms=latency["p50"] / 1000,
        p95_ms=latency["p95"] / 1000,
        p99_ms=latency["p99"] / 1000,
        usage=usage,
    )
