"""Which URLs may make a link: `http(s)`, `mailto` and relative ones.

`javascript:`, `data:`, other schemes and scheme-relative `//host` do not: the markdown reader
keeps such a link as text, the HTML reader drops the `href`.
"""

from __future__ import annotations

import html as html_escape
import re

_SAFE_SCHEMES = ("http", "https", "mailto")
MAX_URL = 4096


def safe_url(url: str) -> bool:
    """http(s), mailto, or a path on the page's own site; never javascript:, data:, vbscript: or other
    schemes, nor another host without a scheme (`//host`, `\\\\host`, `/\\host`).

    Judged as it will be read: by a browser (the WHATWG URL parser drops tabs and newlines anywhere and
    controls and spaces at the ends, reads `\\` as `/`, and takes `//host` for another host: from a page
    saved to disk, `file://host`, a network share) and by a markdown renderer (CommonMark decodes
    backslash escapes and character references in a link destination: `javascript&colon;`). The URL
    must be safe as written and in each of those readings; any whitespace or control character in
    one of them refuses it outright.
    """
    if not url or len(url) > MAX_URL:
        return False
    readings = {url, html_escape.unescape(url), html_escape.unescape(_MARKDOWN_ESCAPE.sub(r"\1", url))}
    return all(_safe_reading(reading) for reading in readings)


_MARKDOWN_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark: a backslash before ASCII punctuation


def _safe_reading(url: str) -> bool:
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 0x7F for ch in url):
        return False
    normal = url.replace("\\", "/")  # as browsers read it in http(s) pages
    if normal.startswith("//"):  # scheme-relative: another host
        return False
    head = normal.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if ":" not in head:
        return True
    return head.split(":", 1)[0].lower() in _SAFE_SCHEMES
