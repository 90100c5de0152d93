"""Static files by content hash, cached for a year; pages and files compressed for the
browsers that accept it, except where compression could leak a secret (BREACH)."""

from __future__ import annotations

import gzip
import hashlib
import os
import re

import brotli

from portal.app import ROOT
from portal.static_files import Manifest

STYLESHEET = ROOT / "static" / "css" / "portal.css"
DIGEST = hashlib.sha256(STYLESHEET.read_bytes()).hexdigest()[:12]
HASHED_URL = f"/static/css/portal.{DIGEST}.css"


def get_file(client, url: str, **headers: str):
    with client.get(url, headers=headers) as response:
        response.body = response.get_data()
        return response


def test_pages_link_static_files_by_their_contents_hash(client) -> None:
    html = client.get("/es/").get_data(as_text=True)
    assert f'href="{HASHED_URL}"' in html
    assert re.search(r'href="/static/favicon\.[0-9a-f]{12}\.svg"', html)
    assert "/static/css/portal.css" not in html


def test_a_hashed_file_is_cached_for_a_year_and_never_asked_for_again(client) -> None:
    response = get_file(client, HASHED_URL)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.body == STYLESHEET.read_bytes()
    assert response.mimetype == "text/css"
    assert "Cookie" not in response.headers.get("Vary", ""), "one copy for everyone"
    assert response.headers["Content-Security-Policy"], "security headers as on any response"


def test_an_unhashed_or_other_versions_name_is_served_but_checked_each_time(client) -> None:
    """During a rolling deploy a new page may ask an old server for a name it lacks."""
    for url in ("/static/css/portal.css", "/static/css/portal.0123456789ab.css"):
        response = get_file(client, url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-cache", url
        assert response.body == STYLESHEET.read_bytes()


def test_only_files_of_the_static_folder_are_served(client) -> None:
    for url in (
        "/static/../pyproject.toml",
        "/static/%2e%2e/wsgi.py",
        "/static/css/missing.css",
        "/static/css/portal.css.0123456789ab",
    ):
        assert get_file(client, url).status_code == 404, url


def test_static_files_go_compressed_to_browsers_that_accept_it(client) -> None:
    plain = STYLESHEET.read_bytes()
    br = get_file(client, HASHED_URL, **{"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert br.headers["Content-Encoding"] == "br"
    assert brotli.decompress(br.body) == plain
    assert len(br.body) < len(plain) / 4
    gz = get_file(client, HASHED_URL, **{"Accept-Encoding": "br;q=0, gzip"})
    assert gz.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(gz.body) == plain
    for response in (br, gz):
        assert response.headers["Vary"] == "Accept-Encoding"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert len({br.headers["ETag"], gz.headers["ETag"]}) == 2, "one tag per representation"
    again = get_file(
        client, HASHED_URL, **{"Accept-Encoding": "br", "If-None-Match": br.headers["ETag"]}
    )
    assert again.status_code == 304 and again.body == b""


def test_pages_are_compressed_as_they_leave(client) -> None:
    plain = client.get("/es/accessibility")
    compressed = client.get("/es/accessibility", headers={"Accept-Encoding": "br"})
    assert "Content-Encoding" not in plain.headers
    assert compressed.headers["Content-Encoding"] == "br"
    page = brotli.decompress(compressed.get_data()).decode()
    assert page.startswith("<!DOCTYPE html>") and "</html>" in page
    assert len(compressed.get_data()) < len(plain.get_data()) / 2
    assert "Accept-Encoding" in compressed.headers["Vary"]
    assert "Accept-Encoding" in plain.headers["Vary"], "caches keep both apart"
    gz = client.get("/es/accessibility", headers={"Accept-Encoding": "gzip"})
    assert gzip.decompress(gz.get_data()).decode().startswith("<!DOCTYPE html>")


def test_a_cross_site_request_carrying_the_session_gets_its_page_uncompressed(app) -> None:
    """BREACH: another site makes the browser ask for pages holding the CSRF token beside
    text it chose, and reads the secret off the compressed sizes."""
    client = app.test_client()
    headers = {"Accept-Encoding": "br"}
    cross_site = {**headers, "Sec-Fetch-Site": "cross-site"}
    assert client.get("/es/", headers=cross_site).headers["Content-Encoding"] == "br"
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], "a-session", domain="localhost")
    assert "Content-Encoding" not in client.get("/es/", headers=cross_site).headers
    same_origin = {**headers, "Sec-Fetch-Site": "same-origin"}
    assert client.get("/es/", headers=same_origin).headers["Content-Encoding"] == "br"


def test_small_responses_are_left_as_they_are(client) -> None:
    response = client.get("/healthz", headers={"Accept-Encoding": "br"})
    assert "Content-Encoding" not in response.headers and response.json == {"status": "ok"}


def test_an_edited_file_gets_a_new_name_on_a_developers_machine(tmp_path) -> None:
    (tmp_path / "css").mkdir()
    sheet = tmp_path / "css" / "site.css"
    sheet.write_text("body { color: black; }")
    watching, frozen = Manifest(tmp_path, watch=True), Manifest(tmp_path)
    first = watching.url_name("css/site.css")
    assert re.fullmatch(r"css/site\.[0-9a-f]{12}\.css", first)
    assert frozen.url_name("css/site.css") == first
    sheet.write_text("body { color: navy; }")
    stat = sheet.stat()
    os.utime(sheet, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert watching.url_name("css/site.css") not in {first, "css/site.css"}
    assert frozen.url_name("css/site.css") == first, "production hashes once, at start"
