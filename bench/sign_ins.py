"""Sign-ins per second through the real sign-in form, against raw argon2id verifications.

Checking a password is meant to be slow (argon2id, ``identity/passwords.py``), so the
hashing is the ceiling of sign-ins: Keycloak's sizing guide plans about 15 password
sign-ins a second per vCPU for the same reason. The question is how close the portal's
whole sign-in (pages, CSRF, throttling counters in Redis, session rows in PostgreSQL)
comes to that ceiling on the same machine.

- Raw: one process per core, each verifying a password against a hash made with the
  app's own argon2id parameters (``identity.passwords.HASHER``), for the run's length;
  measured before and after the sign-ins, on the same machine.
- Through the form, against gunicorn in production mode (locust, ``SigningIn`` in
  ``bench/support/locustfile.py``), each sign-in a different citizen from an address of
  their own: the password step alone (sign-in page, then email and password posted: the
  portal answers with the second factor's page), and the whole sign-in with the second
  factor too (code page, then the authenticator app's code posted: the session starts).

The target (issue 8): sign-ins at least 90% of raw verifications per second.

Run with ``make bench`` or ``.venv/bin/python bench/sign_ins.py``; ``BENCH_SECONDS`` sets
each run's length.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.support import load, seed, stack  # noqa: E402
from bench.support.machine import cpu_count, print_header  # noqa: E402
from bench.support.tables import ms, per_second, table  # noqa: E402

TARGET_SHARE = 0.9
USERS = 16
#: More sign-ins a second than this machine's cores can hash (~25 ms each per core).
MOST_PER_SECOND = 200
WARM_UP_SECONDS = 3


def _verify_for(seconds: float) -> tuple[float, float]:
    """Verifications per second in this process for ``seconds``, and the CPU milliseconds
    each took."""
    sys.path.insert(0, str(ROOT))
    from identity.passwords import HASHER

    stored = HASHER.hash(seed.PASSWORD)
    done = 0
    started, cpu = time.perf_counter(), time.process_time()
    while (elapsed := time.perf_counter() - started) < seconds:
        HASHER.verify(stored, seed.PASSWORD)
        done += 1
    return done / elapsed, (time.process_time() - cpu) / done * 1000


def raw_verifications(seconds: float) -> tuple[float, float]:
    """argon2id verifications per second with every core busy (one process per core), and
    the CPU milliseconds each took."""
    cores = cpu_count()
    with multiprocessing.get_context("spawn").Pool(cores) as pool:
        results = pool.map(_verify_for, [seconds] * cores)
    return sum(rate for rate, _cpu in results), sum(cpu for _rate, cpu in results) / cores


def main() -> int:
    from identity.passwords import HASHER

    settings = stack.Settings.from_environment()
    profile = (
        f"argon2id m={HASHER.memory_cost // 1024} MiB, t={HASHER.time_cost}, p={HASHER.parallelism}"
    )
    print_header(
        "Sign-ins per second through the sign-in form, against raw argon2id verifications",
        f"Hashing profile: {profile} (identity/passwords.py). Raw: {cpu_count()} processes,"
        f" {settings.seconds:.0f} s, before and after the sign-ins.",
        f"Sign-ins: locust, {USERS} at a time, no pause, a new connection per request,"
        f" {settings.seconds:.0f} s per run after {WARM_UP_SECONDS} s of warm-up; each a"
        " different citizen, from an address of their own (the sign-in limits of 30 a"
        " minute per address apply as in production).",
        database_url=settings.database_url,
        redis_url=settings.redis_url,
        tools=("locust", "argon2"),
    )
    with stack.portal(settings) as portal:
        app = stack.create_app()
        # Each run its own accounts, more than two cores can sign in during it.
        per_run = int((settings.seconds + 2) * MOST_PER_SECOND)
        accounts = seed.sign_in_accounts(app, 4 * per_run)
        fixture = load.write_fixture(
            portal, {"sign_ins": accounts, "password": seed.PASSWORD, "cookie": "", "citizens": []}
        )
        portal.start_gunicorn()
        portal.start_worker()
        before, before_cpu = raw_verifications(settings.seconds)
        runs = {}
        first = 0
        for name, steps in (("password step", "password"), ("whole sign-in", "full")):
            for seconds in (WARM_UP_SECONDS, settings.seconds):
                env = {
                    "BENCH_SIGN_IN": steps,
                    "BENCH_FIRST_ACCOUNT": str(first),
                    "BENCH_END_ACCOUNT": str(first + per_run),
                }
                run = load.run(portal, fixture, "SigningIn", USERS, seconds, env)
                first += per_run
            runs[name] = run
        after, after_cpu = raw_verifications(settings.seconds)
    raw, raw_cpu = (before + after) / 2, (before_cpu + after_cpu) / 2
    rows = []
    for name, run in runs.items():
        last_step = "sign-in: password" if name == "password step" else "sign-in: code"
        finished = run.rows[last_step]
        rate = finished.successes_per_second
        cpu_ms = run.usage.server / rate * 1000 if rate else 0.0
        rows.append(
            [
                name,
                per_second(finished.successes_per_second),
                f"{finished.successes_per_second / raw:.0%}",
                per_second(run.total.rate),
                ms(finished.p50_ms),
                ms(finished.p95_ms),
                ms(finished.p99_ms),
                run.total.failures,
                f"{cpu_ms:.1f} ms" if cpu_ms else "",
                f"{raw_cpu / cpu_ms:.0%}" if cpu_ms else "",
            ]
        )
    print(
        f"Raw argon2id verifications: {per_second(before)} before, {per_second(after)} after;"
        f" {per_second(raw)} on average, {raw_cpu:.1f} ms of CPU each (so"
        f" {per_second(cpu_count() * 1000 / raw_cpu)} on {cpu_count()} idle cores)\n"
    )
    print(
        table(
            [
                "through the form",
                "sign-ins",
                "of raw",
                "requests",
                "p50 of last step",
                "p95",
                "p99",
                "errors",
                "CPU/sign-in",
                "raw by CPU",
            ],
            rows,
        )
    )
    print(
        "\nCPU/sign-in: gunicorn's CPU time per sign-in; raw by CPU: one verification's CPU"
        " time over it, the ratio an idle machine would show. Where the cores went:"
    )
    for name, run in runs.items():
        print(f"  {name}: {run.usage.describe()}")
        for step, error, count in run.failures:
            print(f"    {count} x {step}: {error}")
    password = runs["password step"].rows["sign-in: password"].successes_per_second
    print(
        f"\nTarget: sign-ins at least {TARGET_SHARE:.0%} of raw verifications per second"
        f" (password step, the part the hashing bounds): {password / raw:.0%},"
        f" {'met' if password >= TARGET_SHARE * raw else 'NOT MET'}. The whole sign-in adds"
        " the second factor's page and code, and starts the session."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
