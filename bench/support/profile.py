"""Where a request's time goes under load: py-spy samples every gunicorn worker.

``BENCH_PROFILE=1 .venv/bin/python bench/catalogue_throughput.py`` samples the portal's
workers during its run and prints the functions most often on the stack while a request
was being handled (inclusive), and those most often running themselves (self). Only
threads holding the GIL are sampled, so the shares are of the CPU the requests used. Sampling
from outside changes nothing in the workers, so the figures of that run stay honest, but
py-spy takes CPU of its own on a small machine: profile in a separate run.
"""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
from pathlib import Path

from bench.support.stack import BIN

#: Frames named by function and file, without the site-packages path.
_FRAME = re.compile(r" \((?:/[^)]*/)?([^/)]*)\)")
REQUEST_FRAME = "Flask.wsgi_app"


def start(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes]:
    """Sample gunicorn (``pid``, the master) and its workers for ``seconds``."""
    py_spy = BIN / "py-spy" if (BIN / "py-spy").exists() else shutil.which("py-spy")
    if py_spy is None:
        raise RuntimeError("py-spy is not installed: make bench installs it (the bench extra)")
    return subprocess.Popen(  # noqa: S603 - our own tool, by path
        [
            str(py_spy),
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--nonblocking",
            # Only threads holding the GIL: where the CPU goes, not where threads wait
            # (for Redis, PostgreSQL, the socket or the GIL itself).
            "--gil",
            "--format",
            "raw",
            "--rate",
            "250",
            "--duration",
            str(max(int(seconds), 1)),
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def summary(output: Path, top: int = 30) -> str:
    """The functions most often on the stack during requests, from py-spy's raw output."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in output.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [_FRAME.sub(r" (\1)", frame) for frame in stack.split(";")]
        names = [frame.split(" (")[0] for frame in frames]
        if REQUEST_FRAME not in names:
            continue  # waiting for a connection, or gunicorn's own housekeeping
        start = names.index(REQUEST_FRAME)
        samples = int(count)
        total += samples
        for frame in set(frames[start:]):
            inclusive[frame] += samples
        own[frames[-1]] += samples
    if not total:
        return "py-spy saw no request being handled."
    lines = [f"{total} samples inside requests; share of them with the function on the stack:"]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in inclusive.most_common(top)]
    lines.append("Share running the function itself:")
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in own.most_common(top // 2)]
    return "\n".join(lines)
