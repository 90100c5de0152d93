"""A page's forms as a browser sees them, and request bodies built byte by byte.

The fuzz tests read each form from the page the portal serves (so a new field is fuzzed
without anyone listing it) and send bodies no browser would: repeated names, unknown
names, bytes that are not UTF-8, file parts with any name and type. Werkzeug's test
client encodes only well-formed text, so the bodies are encoded here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote_from_bytes, urljoin

#: Controls whose value the page chose: the form is sent back with them as they are.
CHOICES = ("radio", "checkbox", "select")


@dataclass(frozen=True)
class Control:
    """One named control: ``kind`` is the input's type, ``select``, ``textarea`` or ``button``."""

    name: str
    kind: str
    value: str = ""
    checked: bool = False
    options: tuple[str, ...] = ()
    #: ``inputmode="numeric"`` (day, month and year boxes, codes): text where numbers go.
    numeric: bool = False


@dataclass
class HtmlForm:
    """A ``<form method="post">``: where it goes and what it holds."""

    action: str
    multipart: bool
    controls: list[Control] = field(default_factory=list)

    def names(self) -> list[str]:
        """Each control's name once, in page order."""
        return list(dict.fromkeys(control.name for control in self.controls))

    def of(self, name: str) -> list[Control]:
        return [control for control in self.controls if control.name == name]

    def options(self, name: str) -> list[str]:
        """The values the page offers for ``name`` (radios, checkboxes, a select's options)."""
        values: list[str] = []
        for control in self.of(name):
            values.extend(control.options if control.kind == "select" else [control.value])
        return values

    def as_shown(self) -> list[tuple[str, str]]:
        """What a browser sends when the citizen presses the button without touching anything."""
        pairs: list[tuple[str, str]] = []
        for control in self.controls:
            if control.kind in ("radio", "checkbox") and not control.checked:
                continue
            if control.kind in ("file", "button", "submit"):
                continue
            pairs.append((control.name, control.value))
        return pairs


class _FormParser(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[HtmlForm] = []
        self._form: HtmlForm | None = None
        self._select: dict[str, object] | None = None
        self._textarea: dict[str, object] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                action = urljoin(self.page_url, a.get("action") or self.page_url)
                multipart = a.get("enctype", "") == "multipart/form-data"
                self._form = HtmlForm(action, multipart)
                self.forms.append(self._form)
            return
        if self._form is None or (not a.get("name") and tag != "option"):
            return
        if tag in ("input", "button"):
            kind = a.get("type", "text" if tag == "input" else "submit").lower()
            self._form.controls.append(
                Control(
                    a["name"],
                    kind,
                    a.get("value", "on" if kind in ("radio", "checkbox") else ""),
                    checked="checked" in a,
                    numeric=a.get("inputmode") == "numeric",
                )
            )
        elif tag == "select":
            self._select = {"name": a["name"], "options": [], "value": None}
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select["options"].append(value)  # type: ignore[union-attr]
            if "selected" in a or self._select["value"] is None:
                self._select["value"] = value
        elif tag == "textarea":
            self._textarea = {"name": a["name"], "text": ""}

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea["text"] = str(self._textarea["text"]) + data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            options = tuple(self._select["options"])  # type: ignore[arg-type]
            value = str(self._select["value"] or "")
            self._form.controls.append(
                Control(str(self._select["name"]), "select", value, options=options)
            )
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            text = str(self._textarea["text"]).removeprefix("\n")
            self._form.controls.append(Control(str(self._textarea["name"]), "textarea", text))
            self._textarea = None


def post_forms(html: str, page_url: str) -> list[HtmlForm]:
    """Every form on the page that posts, with its action as an absolute path."""
    parser = _FormParser(page_url)
    parser.feed(html)
    return parser.forms


# Bodies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A file part: what the client claims (name, type) and what it sends."""

    name: str
    filename: bytes
    content_type: str
    content: bytes

    def __repr__(self) -> str:
        content = f"{self.content[:16]!r}... {len(self.content)} bytes"
        return f"Upload({self.name!r}, {self.filename!r:.80}, {self.content_type!r}, {content})"


def urlencoded(pairs: list[tuple[bytes, bytes]]) -> bytes:
    return b"&".join(
        quote_from_bytes(name, safe="").encode() + b"=" + quote_from_bytes(value, safe="").encode()
        for name, value in pairs
    )


def _quoted(value: bytes) -> bytes:
    """A name in a part's header, escaped as browsers do (HTML's multipart/form-data rules)."""
    return value.replace(b'"', b"%22").replace(b"\r", b"%0D").replace(b"\n", b"%0A")


def multipart(pairs: list[tuple[bytes, bytes]], uploads: list[Upload]) -> tuple[bytes, str]:
    """A multipart/form-data body and its content type."""
    boundary = f"----portal-fuzz-{secrets.token_hex(12)}".encode()
    parts: list[bytes] = []
    for name, value in pairs:
        parts.append(
            b"--" + boundary + b"\r\n"
            b'Content-Disposition: form-data; name="'
            + _quoted(name)
            + b'"\r\n\r\n'
            + value
            + b"\r\n"
        )
    for upload in uploads:
        kind = f"Content-Type: {upload.content_type}\r\n".encode() if upload.content_type else b""
        parts.append(
            b"--" + boundary + b"\r\n"
            b'Content-Disposition: form-data; name="'
            + _quoted(upload.name.encode())
            + b'"; filename="'
            + _quoted(upload.filename)
            + b'"\r\n'
            + kind
            + b"\r\n"
            + upload.content
            + b"\r\n"
        )
    body = b"".join(parts) + b"--" + boundary + b"--\r\n"
    return body, f"multipart/form-data; boundary={boundary.decode()}"
