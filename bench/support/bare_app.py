"""A bare Flask view returning the catalogue page's bytes: what Flask and gunicorn cost
on their own, with nothing of the portal (no database, sessions, templates, translations,
rate limits, logs or metrics).

``bench/catalogue_throughput.py`` serves it with the portal's gunicorn.conf.py (the same
workers, threads and keep-alive) and the bytes the portal sent, named by ``BARE_HTML``.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

app = Flask(__name__)
PAGE = Path(os.environ["BARE_HTML"]).read_bytes()


@app.get("/es/procedures/")
def catalogue() -> Response:
    return Response(PAGE, mimetype="text/html")


@app.get("/healthz")
def healthz() -> str:
    return "ok"
