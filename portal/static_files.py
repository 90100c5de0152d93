"""Static files under names that change with their content, cached for a year.

``url_for('static', filename='css/portal.css')`` gives ``/static/css/portal.<hash>.css``,
where ``<hash>`` is the start of the file's SHA-256. A browser (and any CDN or proxy
in between) keeps that URL for a year without asking again (``immutable``); a new
stylesheet has a new name, so nobody ever sees a stale one. The manifest of names
is made when the app starts (hashing a few dozen KB takes a millisecond); on a
developer's machine each name is checked against its file's modification time, so
an edited stylesheet shows on the next page load.

Each file is also kept compressed (brotli and gzip, at their strongest settings, made
once per process on first request) and sent that way to browsers that accept it.

During a rolling deploy a page from a new server can ask an old one for a name it
does not have yet: the current file is sent for any hash, but cached for a year only
when the hash is its own.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, current_app, request, request_finished, send_file

from portal import compression

DIGEST_LENGTH = 12
HASHED = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{12})(?P<suffix>\.[A-Za-z0-9]+)$")
IMMUTABLE = "public, max-age=31536000, immutable"
#: An unhashed name (or another version's): keep it, but ask whether it changed.
REVALIDATE = "no-cache"


@dataclass(frozen=True)
class StaticFile:
    name: str
    path: Path
    digest: str
    modified: int

    @property
    def hashed_name(self) -> str:
        stem, dot, suffix = self.name.rpartition(".")
        return f"{stem}.{self.digest}.{suffix}" if dot else f"{self.name}.{self.digest}"

    @property
    def mimetype(self) -> str:
        return mimetypes.guess_type(self.name)[0] or "application/octet-stream"


def _describe(folder: Path, path: Path) -> StaticFile:
    data = path.read_bytes()
    return StaticFile(
        name=path.relative_to(folder).as_posix(),
        path=path,
        digest=hashlib.sha256(data).hexdigest()[:DIGEST_LENGTH],
        modified=path.stat().st_mtime_ns,
    )


class Manifest:
    """Every file under the static folder, by name, with its content's digest."""

    def __init__(self, folder: Path, watch: bool = False) -> None:
        self.folder = folder
        self.watch = watch
        self.files = self._scan()

    def _scan(self) -> dict[str, StaticFile]:
        if not self.folder.is_dir():
            return {}
        return {
            one.name: one
            for one in (
                _describe(self.folder, path)
                for path in sorted(self.folder.rglob("*"))
                if path.is_file() and not path.name.startswith(".")
            )
        }

    def get(self, name: str) -> StaticFile | None:
        one = self.files.get(name)
        if self.watch and (one is None or one.path.stat().st_mtime_ns != one.modified):
            self.files = self._scan()
            one = self.files.get(name)
        return one

    def url_name(self, name: str) -> str:
        one = self.get(name)
        return one.hashed_name if one is not None else name

    def resolve(self, requested: str) -> tuple[StaticFile, bool] | None:
        """The file a URL names, and whether the URL's hash is that file's own."""
        match = HASHED.match(requested)
        if match is not None:
            one = self.get(match["stem"] + match["suffix"])
            if one is not None:
                return one, match["digest"] == one.digest
        one = self.get(requested)
        return (one, False) if one is not None else None


_compressed: dict[tuple[str, str], bytes] = {}
_compressing = threading.Lock()


def compressed(one: StaticFile, encoding: str) -> bytes:
    """``one`` compressed with ``encoding``, made once per process and content."""
    key = (one.digest, encoding)
    if key not in _compressed:
        with _compressing:
            if key not in _compressed:
                _compressed[key] = compression.compress(one.path.read_bytes(), encoding, once=True)
    return _compressed[key]


def serve(filename: str) -> Response:
    """The ``static`` endpoint: a file of the manifest, never a path built from the URL."""
    manifest: Manifest = current_app.extensions["static_manifest"]
    found = manifest.resolve(filename)
    if found is None:
        abort(404)
    one, own_hash = found
    cache_control = IMMUTABLE if own_hash else REVALIDATE
    encoding = compression.negotiate() if one.mimetype in compression.COMPRESSIBLE else None
    if encoding is None:
        # Ranges, If-None-Match and the server's sendfile, by Werkzeug.
        response = send_file(one.path, mimetype=one.mimetype, etag=one.digest, max_age=None)
    else:
        response = Response(compressed(one, encoding), mimetype=one.mimetype)
        response.headers["Content-Encoding"] = encoding
        response.set_etag(f"{one.digest}-{encoding}")
        response.make_conditional(request)
    if one.mimetype in compression.COMPRESSIBLE:
        response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = cache_control
    return response


def _hashed_url(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint == "static" and "filename" in values:
        values["filename"] = current_app.extensions["static_manifest"].url_name(values["filename"])


def _same_for_everyone(sender: Flask, response: Response, **_: Any) -> None:
    """A static file is the same whoever asks: no ``Vary: Cookie`` (which Flask adds once
    anything, here Flask-Login's cookie refresh, has looked at the session), so shared
    caches keep one copy and a browser keeps its copy across a sign-in."""
    if request.endpoint == "static":
        response.vary.discard("cookie")  # lower case: HeaderSet.remove compares it so


def init_app(app: Flask) -> None:
    if app.static_folder is None:
        return
    app.extensions["static_manifest"] = Manifest(
        Path(app.static_folder), watch=app.config["PORTAL_ENV"] == "development"
    )
    app.view_functions["static"] = serve
    app.url_defaults(_hashed_url)
    # Sent after the session is saved, which is where Flask adds ``Vary: Cookie``.
    request_finished.connect(_same_for_everyone, app)
