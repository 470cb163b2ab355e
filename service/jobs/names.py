"""Names from archives are data: a member name, a JSONL id or a WARC URI may hold any bytes.

One representation inside, one outside. A reader keeps a name as the `str` Python hands over:
undecodable bytes as surrogate escapes (U+DC80–U+DCFF: tar members, directory entries), lone
surrogates from a JSON `\\ud800` escape (JSONL ids). Such a `str` cannot be encoded to UTF-8, so
it never leaves the reader as it is:

- `name_bytes` is the exact bytes a name stands for: what the document id is made from.
- `display_name` is the only form stored or shown anywhere else (manifest.jsonl, index.html, the
  jobs API, the job's error, CLI messages): valid UTF-8 text in which an undecodable byte reads
  `\\xNN`, and a lone surrogate or a control, format (bidi overrides, zero-width), line or
  paragraph separator character reads `\\uNNNN`. A name can then neither break a JSON record or a
  page, nor reorder the text shown around it (U+202E). A backslash is kept as it is: the shown
  form is for reading; the id, not the name, tells two documents apart.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

_ESCAPED = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})  # controls, format (bidi, zero-width), surrogates, separators
_BYTE_ESCAPES = range(0xDC80, 0xDD00)  # surrogateescape: byte 0x80–0xFF
_SURROGATE = re.compile("[\ud800-\udfff]")


def name_bytes(name: str) -> bytes:
    """The bytes `name` stands for: UTF-8, undecodable bytes back as they were read (surrogateescape).

    A lone surrogate that is no escaped byte (a JSON `\\ud800`) becomes its three UTF-8-style bytes
    (surrogatepass); a name that could always be encoded gives the same bytes as before.
    """
    try:
        return name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogatepass")


def _escape(char: str) -> str:
    code = ord(char)
    if code in _BYTE_ESCAPES:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def display_name(name: str) -> str:
    """`name` as valid, inert text: undecodable bytes as `\\xNN`; lone surrogates, controls, format
    characters (U+202E…) and line or paragraph separators as `\\uNNNN`. Idempotent."""
    if name.isprintable():  # the common case: none of those characters
        return name
    return "".join(_escape(char) if unicodedata.category(char) in _ESCAPED else char for char in name)


def safe_text(text: str) -> str:
    """`text` with only its surrogates escaped (as `display_name` does): encodable as UTF-8, newlines kept."""
    return _SURROGATE.sub(lambda match: _escape(match.group()), text) if _SURROGATE.search(text) else text


def safe_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A manifest record whose strings (and lists of strings) can all be written as UTF-8."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, str):
            value = safe_text(value)
        elif isinstance(value, list):
            value = [safe_text(item) if isinstance(item, str) else item for item in value]
        out[safe_text(key)] = value
    return out
