"""Request parameters as the portal reads them: text, without control characters.

Nobody types a control character into a form. They come with pasted text (Word's
vertical tab for a line break, a form feed between pages, a terminal's colour escapes)
and from scripts, and kept they break what the text goes into later: PostgreSQL refuses
NUL in any text value (a server error, on reading as on writing), PDFs and XML refuse
the others, and an email, a CSV cell or a log line is cut or coloured by them. So every
form and query value (names too) loses them as it is read, before any view or form sees
it: a vertical tab or a form feed becomes a line break; the other C0 and C1 controls and
DEL go. Tab, line feed and carriage return are text and stay. Uploaded files are bytes
and are not touched; a value is never refused for this, so what the citizen typed around
the invisible characters is kept.
"""

from __future__ import annotations

import re

from flask import Flask, Request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.utils import cached_property

#: C0 controls but tab, line feed, (vertical tab, form feed,) carriage return; DEL; C1.
CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
LINE_BREAKS = str.maketrans({"\x0b": "\n", "\x0c": "\n"})


def text(value: str) -> str:
    """``value`` without control characters, its page and line breaks kept as line breaks."""
    return CONTROL.sub("", value.translate(LINE_BREAKS))


def _cleaned(values: MultiDict[str, str]) -> ImmutableMultiDict[str, str]:
    return ImmutableMultiDict([(text(key), text(value)) for key, value in values.items(multi=True)])


class PortalRequest(Request):
    """Flask's request, whose ``args`` and ``form`` (and so ``values``) hold text only."""

    @cached_property
    def args(self) -> ImmutableMultiDict[str, str]:  # type: ignore[override]
        return _cleaned(super().args)

    def _load_form_data(self) -> None:
        super()._load_form_data()
        self.__dict__["form"] = _cleaned(self.__dict__["form"])


def init_app(app: Flask) -> None:
    app.request_class = PortalRequest
