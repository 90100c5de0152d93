"""Uploaded files: checked by their content, stored outside the web root under random names.

The file name and the browser's content type are the citizen's claims; the first bytes
are what the file is. Only PDF, JPEG and PNG are kept, up to ``MAX_BYTES``; each file is
stored in ``UPLOAD_FOLDER`` (``instance/uploads`` by default) under a random name with
its SHA-256, which goes into the registry entry's fingerprint.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from portal.extensions import db
from procedures.models import Application, ApplicationFile

MAX_BYTES = 10 * 1024 * 1024
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


class UploadError(ValueError):
    """A file we will not keep; the message says why, in the citizen's language."""


def folder() -> Path:
    path = Path(
        current_app.config.get("UPLOAD_FOLDER") or Path(current_app.instance_path) / "uploads"
    )
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def sniff(head: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES if head.startswith(magic)), None)


def store(application: Application, field_id: str, upload: FileStorage) -> ApplicationFile:
    """Check and keep one file; the caller commits. Raises :class:`UploadError`."""
    content = upload.stream.read(MAX_BYTES + 1)
    if not content:
        raise UploadError(_("The selected file is empty"))
    if len(content) > MAX_BYTES:
        raise UploadError(_("The selected file must be smaller than 10 MB"))
    kind = sniff(content[:16])
    if kind is None:
        raise UploadError(_("The selected file must be a PDF, JPG or PNG"))
    name = secrets.token_hex(16)
    (folder() / name).write_bytes(content)
    original = Path((upload.filename or "file").replace("\\", "/")).name[:255] or "file"
    stored = ApplicationFile(
        application_id=application.id,
        field_id=field_id,
        stored_name=name,
        original_name=original,
        content_type=kind,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    db.session.add(stored)
    db.session.flush()
    return stored


def path_of(stored: ApplicationFile) -> Path:
    return folder() / stored.stored_name


def delete_all(application: Application) -> None:
    for stored in application.files:
        path_of(stored).unlink(missing_ok=True)
        db.session.delete(stored)
