"""Declared charsets → Python codecs, for text only: an allowlist of the web's text encodings.

A charset label comes from the outside (a WARC record's or an HTTP request's Content-Type) and
would otherwise reach `codecs.lookup` as is, where `punycode` runs a quadratic decoder and
`rot13`, `hex`, `zlib` or `base64` are transforms, not text encodings. `text_codec` maps a label
to a Python codec name only when that codec is one of the WHATWG encodings (or a Unicode form).
"""

from __future__ import annotations

import codecs
import re

# Python's names (as `codecs.lookup(...).name` spells them) of the encodings a web page may declare.
TEXT_CODECS = frozenset(
    {
        "utf-8",
        "utf-8-sig",
        "utf-16",
        "utf-16-le",
        "utf-16-be",
        "utf-32",
        "utf-32-le",
        "utf-32-be",
        "ascii",
        *(f"iso8859-{part}" for part in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16)),
        *(f"cp{page}" for page in range(1250, 1259)),
        "cp874",
        "cp866",
        "koi8-r",
        "koi8-u",
        "mac-roman",
        "mac-cyrillic",
        "gb18030",
        "gbk",
        "gb2312",
        "big5",
        "big5hkscs",
        "shift_jis",
        "cp932",
        "euc_jp",
        "euc_kr",
        "cp949",
        "iso2022_jp",
        "iso2022_kr",
    }
)

# WHATWG labels that Python does not know under that name.
_ALIASES = {
    "x-mac-roman": "mac-roman",
    "macintosh": "mac-roman",
    "x-mac-cyrillic": "mac-cyrillic",
    "iso-8859-8-i": "iso8859-8",
    "iso_8859-8-i": "iso8859-8",
    "logical": "iso8859-8",
    "visual": "iso8859-8",
    "windows-874": "cp874",
    "dos-874": "cp874",
    "ibm866": "cp866",
    "x-sjis": "shift_jis",
    "windows-31j": "cp932",
    "ms932": "cp932",
    "x-euc-jp": "euc_jp",
    "windows-949": "cp949",
    "x-gbk": "gbk",
    "x-x-big5": "big5",
    "unicode-1-1-utf-8": "utf-8",
    "unicodefffe": "utf-16-be",
    "unicodefeff": "utf-16-le",
}

_LABEL = re.compile(r"[a-z0-9][a-z0-9._:-]{0,39}")  # one character class, no nesting: linear


def text_codec(name: str) -> str | None:
    """The Python codec for the charset label `name` (quotes, case ignored); None when not a text encoding."""
    label = name.strip().strip("\"'").strip().lower()
    if not _LABEL.fullmatch(label):
        return None
    label = _ALIASES.get(label, label)
    try:
        codec = codecs.lookup(label).name
    except LookupError:
        return None
    return codec if codec in TEXT_CODECS else None
