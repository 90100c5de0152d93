"""The anonymous catalogue page against the same bytes from a bare Flask view and from nginx.

Three servers answer ``/es/procedures/`` with the same HTML, measured one after the
other with wrk in the same run:

- the portal, as production runs it (gunicorn with gunicorn.conf.py, PostgreSQL, Redis);
- a bare Flask view returning the bytes the portal sent (``bench/support/bare_app.py``),
  under gunicorn with the same configuration: what Flask and gunicorn cost on their own;
- nginx serving those bytes as a static file: the ceiling for those bytes on this machine.

The ratios say how much of that ceiling the portal reaches. The targets (issue 8): at least
1,000 requests a second on two cores with a 99th percentile under 100 ms, and at least half
the bare Flask view's throughput. Bodies are not compressed in these three runs (wrk asks
for no compression), so each server sends the same bytes; one more run asks the portal
for brotli, as browsers do, to show what compressing each page costs.

Every request comes on a new connection (``Connection: close``): that is how requests
reach gunicorn behind the README's nginx, which opens one per request, and how a person
who reads a page for longer than gunicorn's 5 s keep-alive comes back. (Kept-alive
connections opened all at once, as wrk opens them, are not shared evenly by gunicorn's
gthread workers: the first worker to wake accepts most of them, and the figure would
measure one worker instead of the server.)

Run with ``make bench`` or ``.venv/bin/python bench/catalogue_throughput.py``;
``BENCH_SECONDS`` sets each run's length, ``BENCH_CONNECTIONS`` wrk's open connections
(default 32); ``BENCH_PROFILE=1`` also samples the portal's workers with py-spy during
its run and prints where the time went (py-spy's own CPU then lowers that run's figures).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench.support import nginx, profile, stack, wrk  # noqa: E402
from bench.support.machine import cpu_count, print_header  # noqa: E402
from bench.support.tables import ms, per_second, ratio, table  # noqa: E402

PATH = "/es/procedures/"
PORTAL = "portal (PostgreSQL, Redis)"
BROTLI = "portal, brotli as browsers ask"
BARE = "bare Flask view, same bytes"
NGINX = "nginx static file, same bytes"
TARGET_RATE = 1000
TARGET_P99_MS = 100
TARGET_SHARE_OF_BARE = 0.5
WARM_UP_SECONDS = 3


def main() -> int:
    settings = stack.Settings.from_environment()
    connections = int(os.environ.get("BENCH_CONNECTIONS") or 32)
    print_header(
        "Catalogue page throughput: the portal, a bare Flask view and nginx, same bytes",
        f"wrk, 1 thread, {connections} connections at a time, a new one per request;"
        f" {settings.seconds:.0f} s per run after {WARM_UP_SECONDS} s of warm-up;"
        " gunicorn.conf.py's workers and threads for the portal and the bare view.",
        "Rate limits on (Redis), the per-address default raised to"
        f" {stack.RAISED_DEFAULT_RATE_LIMIT} (wrk is one address).",
        database_url=settings.database_url,
        redis_url=settings.redis_url,
        tools=("wrk", "nginx"),
    )
    with stack.portal(settings) as portal:
        servers = {"portal": portal.start_gunicorn()}
        page = requests.get(
            servers["portal"].url + PATH, headers={"Accept-Encoding": "identity"}, timeout=10
        )
        page.raise_for_status()
        html = page.content
        bare_file = portal.workdir / "catalogue.html"
        bare_file.write_bytes(html)
        portal.env["BARE_HTML"] = str(bare_file)
        servers["bare"] = portal.start_gunicorn(
            "bench.support.bare_app:app", bind=f"127.0.0.1:{stack.free_port()}"
        )
        keepalive = int(portal.env.get("KEEPALIVE_SECONDS") or 5)
        servers["nginx"] = nginx.serve(portal.processes, PATH, html, keepalive)
        for server in servers.values():
            served = requests.get(
                server.url + PATH, headers={"Accept-Encoding": "identity"}, timeout=10
            )
            if served.content != html:
                raise RuntimeError(f"{server.url}{PATH} does not serve the catalogue's bytes")
        close = {"Connection": "close"}
        runs = {
            PORTAL: (servers["portal"], close),
            BROTLI: (servers["portal"], {**close, "Accept-Encoding": "br"}),
            BARE: (servers["bare"], close),
            NGINX: (servers["nginx"], close),
        }
        results = {}
        profiled = None
        for name, (server, headers) in runs.items():
            url = server.url + PATH
            wrk.run(url, WARM_UP_SECONDS, connections, headers)
            sampler = None
            if os.environ.get("BENCH_PROFILE") and name == PORTAL:
                profiled = portal.workdir / "py-spy.txt"
                sampler = profile.start(server.pid, settings.seconds, profiled)
            results[name] = wrk.run(url, settings.seconds, connections, headers, [server.pid])
            if sampler is not None:
                _out, err = sampler.communicate(timeout=60)
                if sampler.returncode:
                    raise RuntimeError(f"py-spy failed: {err.decode()}")
        print(f"{len(html):,} bytes of HTML: {PATH} in Spanish, signed out\n")
        cores = cpu_count()
        rows = [
            [
                name,
                per_second(result.rate),
                ms(result.p50_ms),
                ms(result.p95_ms),
                ms(result.p99_ms),
                result.errors,
                f"{result.server_cpu_ms:.2f} ms",
                per_second(cores * 1000 / result.server_cpu_ms) if result.server_cpu_ms else "",
            ]
            for name, result in results.items()
        ]
        headers = ["server", "requests", "p50", "p95", "p99", "errors", "CPU/request", "ceiling"]
        print(table(headers, rows))
        print(
            f"\nCPU/request: the server's CPU time (all its processes) per request; ceiling:"
            f" what {cores} cores would serve at that cost with nothing else running (no load"
            " generator, PostgreSQL, Redis or other work): on a busy machine, the steadier"
            " figure."
        )
        for name, result in results.items():
            if result.usage:
                print(f"  {name}: {result.usage.describe()}")
        print(report(results, cores))
        if profiled is not None:
            print("\nWhere the portal's requests spent their time (py-spy, during its run):")
            print(profile.summary(profiled))
    return 0


def report(results: dict[str, wrk.Result], cores: int) -> str:
    catalogue, bare, static = results[PORTAL], results[BARE], results[NGINX]
    share = catalogue.rate / bare.rate if bare.rate else 0.0
    cpu_share = bare.server_cpu_ms / catalogue.server_cpu_ms if catalogue.server_cpu_ms else 0

    def verdict(met: bool) -> str:
        return "met" if met else "NOT MET"

    return "\n".join(
        [
            "",
            f"catalogue / bare Flask: {ratio(catalogue.rate, bare.rate)} of its requests/s,"
            f" {cpu_share:.0%} by CPU per request",
            f"catalogue / nginx:      {ratio(catalogue.rate, static.rate)} of its requests/s,"
            f" {ratio(static.server_cpu_ms, catalogue.server_cpu_ms)} by CPU per request",
            "",
            f"Targets (on {cores} cores here; the target is for two):",
            f"  at least {TARGET_RATE:,} requests/s: {per_second(catalogue.rate)},"
            f" {verdict(catalogue.rate >= TARGET_RATE)}",
            f"  99th percentile under {TARGET_P99_MS} ms: {ms(catalogue.p99_ms)},"
            f" {verdict(catalogue.p99_ms < TARGET_P99_MS)}",
            f"  at least half the bare Flask view's throughput: {share:.0%},"
            f" {verdict(share >= TARGET_SHARE_OF_BARE)}",
        ]
    )


if __name__ == "__main__":
    raise SystemExit(main())
