"""A TCP forwarder a test can cut and restore: the database "restarting" for one test's
connections only, without stopping the PostgreSQL server other tests share.

Cut, it closes its port and every connection through it, as a server going down does:
connecting is refused and open connections end. Restored, it listens on the same port
again and forwards new connections to the real server.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading

import pytest
from sqlalchemy.engine import make_url

from tests.support.smtp import free_port

#: Marks a test that cuts a database server off: SQLite has none to cut.
needs_a_database_server = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs a database server to cut off; .ci/run runs it in its PostgreSQL pass",
)


class TcpProxy:
    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()

    @classmethod
    def to_database(cls, database_url: str) -> TcpProxy:
        """A forwarder (not started yet) to the server ``database_url`` names."""
        real = make_url(database_url)
        return cls(real.host or "127.0.0.1", real.port or 5432)

    def url_through(self, database_url: str) -> str:
        """``database_url`` reaching its server through this forwarder."""
        through = make_url(database_url).set(host="127.0.0.1", port=self.port)
        return through.render_as_string(hide_password=False)

    def start(self) -> TcpProxy:
        listener = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR: again
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def cut(self) -> None:
        """Refuse new connections and end every open one."""
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._open = self._open, set()
        if listener is not None:
            with contextlib.suppress(OSError):  # wakes the accepting thread (Linux)
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for one in sockets:
            with contextlib.suppress(OSError):
                one.shutdown(socket.SHUT_RDWR)
            one.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # cut
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    client.close()
                    server.close()
                    return
                self._open |= {client, server}
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        """One direction of a connection; when either side ends, both do."""
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        with self._lock:
            self._open -= {source, sink}
        for one in (source, sink):
            with contextlib.suppress(OSError):
                one.shutdown(socket.SHUT_RDWR)
        source.close()  # the other direction's pump, woken by the shutdown, closes the sink
