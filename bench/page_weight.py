"""Page weight per page type: HTML, CSS and JavaScript, raw and compressed as served.

Each page is asked for from the portal under gunicorn in production mode, three times:
without compression, with brotli and with gzip (as browsers ask), and so is every
stylesheet and script it links to. The sizes are the bytes on the wire (the body; headers
left out), for a first visit: afterwards the stylesheet and scripts come from the browser's
cache for a year (their names change with their content). The target (issue 8, after
GOV.UK's page weights) is under 30 KB compressed for HTML + CSS, with no JavaScript needed
except for passkeys.

The pages are the demo's (``make run``): the busy folder of its citizen and the inbox of
its supervisor, signed in with a second factor.

Run with ``make bench`` or ``.venv/bin/python bench/page_weight.py``.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench.support import seed, stack  # noqa: E402
from bench.support.machine import print_header  # noqa: E402
from bench.support.tables import kib, table  # noqa: E402

TARGET_BYTES = 30 * 1024
ENCODINGS = ("identity", "br", "gzip")
STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)"')
SCRIPT = re.compile(r'<script src="([^"]+)"')
#: What each script does, and whether the page needs it (the scripts' own headers say so).
SCRIPTS = {
    "webauthn": "passkeys and security keys: needs JavaScript (WebAuthn is a script API)",
    "password": "'Show password' button: added by the script, the form works without it",
    "session-timeout": "warns two minutes before a signed-in session times out (WCAG 2.2.1):"
    " the page works without it, without the warning",
    "recovery-codes": "'Copy' and 'Print' buttons: hidden without it, the download remains",
}


@dataclass
class Weight:
    """Bytes by encoding: identity (raw), br, gzip."""

    sizes: dict[str, int]

    def __add__(self, other: Weight) -> Weight:
        return Weight({e: self.sizes[e] + other.sizes[e] for e in ENCODINGS})


NOTHING = Weight(dict.fromkeys(ENCODINGS, 0))


def fetch(url: str, cookies: dict[str, str]) -> tuple[Weight, str]:
    """The body's size in each encoding as served, and its text."""
    sizes = {}
    text = ""
    for encoding in ENCODINGS:
        response = requests.get(
            url,
            cookies=cookies,
            headers={"Accept-Encoding": encoding},
            stream=True,
            allow_redirects=False,
            timeout=10,
        )
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code}")
        served = response.headers.get("Content-Encoding", "identity")
        if encoding != "identity" and served != encoding:
            raise RuntimeError(f"{url}: asked for {encoding}, got {served}")
        body = response.raw.read(decode_content=False)
        sizes[encoding] = len(body)
        if encoding == "identity":
            text = body.decode()
    return Weight(sizes), text


def script_name(url: str) -> str:
    """``/static/js/webauthn.1a2b3c4d5e6f.js`` → ``webauthn``."""
    return url.rsplit("/", 1)[-1].split(".", 1)[0]


def main() -> int:
    settings = stack.Settings.from_environment()
    print_header(
        "Page weight: HTML + CSS + JavaScript, raw and compressed as served, first visit",
        "Bodies as sent by gunicorn in production mode (brotli and gzip made by the portal);"
        f" target: HTML + CSS under {kib(TARGET_BYTES)} compressed.",
        database_url=settings.database_url,
        redis_url=settings.redis_url,
    )
    with stack.portal(settings) as portal:
        app = stack.create_app()
        demo = seed.demo(app)
        cookie = app.config["SESSION_COOKIE_NAME"]
        url = portal.start_gunicorn().url
        citizen = {cookie: demo.citizen_session}
        staff = {cookie: demo.staff_session}
        resume = f"{url}/es/applications/{demo.draft}/"
        resumed = requests.get(resume, cookies=citizen, allow_redirects=False, timeout=10)
        form_page = resumed.headers["Location"]
        pages = {
            "home": ("/es/", {}),
            "catalogue": ("/es/procedures/", {}),
            "procedure page": ("/es/procedures/change-of-address", {}),
            "sign-in form": ("/es/account/sign-in", {}),
            "form page (question)": (form_page, citizen),
            "folder overview": ("/es/folder/", citizen),
            "staff inbox": ("/es/staff/", staff),
        }
        rows = []
        javascript = []
        assets: dict[str, Weight] = {}
        for name, (path, cookies) in pages.items():
            html, text = fetch(url + path, cookies)
            css = NOTHING
            for href in STYLESHEET.findall(text):
                if href not in assets:
                    assets[href] = fetch(url + href, {})[0]
                css = css + assets[href]
            js = NOTHING
            scripts = SCRIPT.findall(text)
            for src in scripts:
                if src not in assets:
                    assets[src] = fetch(url + src, {})[0]
                js = js + assets[src]
            styled = html + css
            total = styled + js
            rows.append(
                [
                    name,
                    *(kib(html.sizes[e]) for e in ENCODINGS),
                    *(kib(css.sizes[e]) for e in ENCODINGS),
                    kib(js.sizes["identity"]),
                    kib(js.sizes["br"]),
                    kib(styled.sizes["br"]),
                    kib(total.sizes["br"]),
                    kib(total.sizes["gzip"]),
                    "yes" if styled.sizes["br"] < TARGET_BYTES else "NO",
                ]
            )
            for src in scripts:
                purpose = SCRIPTS.get(script_name(src), "not described here: check the page")
                javascript.append([name, script_name(src) + ".js", purpose])
            if not scripts:
                javascript.append([name, "none", ""])
    print(
        table(
            [
                "page",
                "HTML",
                "br",
                "gzip",
                "CSS",
                "br",
                "gzip",
                "JS",
                "br",
                "HTML+CSS br",
                "all br",
                "all gzip",
                "< 30 KB",
            ],
            rows,
        )
    )
    print("\nJavaScript each page loads (all deferred):\n")
    print(table(["page", "script", "what it is for"], javascript, text_columns=3))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
