"""The portal as gunicorn serves it for the scale benchmark (``bench.scaling.server:app``).

The production application, configured by the environment as ``make serve`` is, with one
change: no request counts against a rate limit. The benchmark asks for the same page many
times a minute from one address, which is what the limits exist to refuse; what is
measured here is how long a page takes as the data grows, not the limiter (the load
benchmarks keep it on). The limiter stays enabled, since sign-in throttling counts
failures through it.
"""

from __future__ import annotations

import os

from portal import create_app
from portal.extensions import limiter

app = create_app({"INSTANCE_PATH": os.environ["BENCH_INSTANCE_PATH"]})


@limiter.request_filter
def _not_limited() -> bool:
    return True
