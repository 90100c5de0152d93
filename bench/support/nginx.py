"""nginx serving one page as a static file: the ceiling for serving those bytes here.

nginx is started as its own master (no system service, no config of the machine's) with
a configuration written into a folder of its own, and stopped with the benchmark.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from bench.support.stack import Processes, Server, free_port, wait_until_answering

CONFIG = """\
worker_processes auto;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout {keepalive}s;
    default_type text/html;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {prefix}/www;
        location = /healthz {{ return 200 "ok"; }}
    }}
}}
"""


def serve(processes: Processes, path: str, body: bytes, keepalive_seconds: int) -> Server:
    """nginx serving ``body`` at ``path`` (a URL path ending in ``/``).

    Workers: one per core (``auto``), nginx's own advice. Keep-alive as gunicorn's.
    """
    if shutil.which("nginx") is None:
        raise RuntimeError("nginx is not installed: make bench installs it (Debian's nginx)")
    prefix = Path(tempfile.mkdtemp(prefix="portal-bench-nginx-"))
    processes.callback(shutil.rmtree, prefix, True)
    # nginx's workers drop root for an unprivileged user, who must read the page.
    prefix.chmod(0o755)
    page = prefix / "www" / path.strip("/") / "index.html"
    page.parent.mkdir(parents=True)
    page.write_bytes(body)
    for folder in (prefix / "www", *page.parents):
        if folder.is_relative_to(prefix):
            folder.chmod(0o755)
    (prefix / "tmp").mkdir()
    port = free_port()
    config = prefix / "nginx.conf"
    config.write_text(CONFIG.format(prefix=prefix, port=port, keepalive=keepalive_seconds))
    log = prefix / "stdout.log"
    argv = ["nginx", "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(config)]
    process = processes.start(argv, dict(os.environ), log, cwd=prefix)
    url = f"http://127.0.0.1:{port}"
    wait_until_answering(f"{url}/healthz", process, log, seconds=20)
    return Server(url, process.pid)
