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
- `safe_stem` makes a download's file name from a name: no folder, no escape, nothing a
  Content-Disposition header or a file system would misread.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

_ESCAPED = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})  # controls, format (bidi, zero-width), surrogates, separators
_BYTE_ESCAPES = range(0xDC80, 0xDD00)  # surrogateescape: byte 0x80–0xFF
_SURROGATE = re.compile("[\ud800-\udfff]")
# What `display_name` writes for an escaped character: read as one unsafe character by `safe_stem`.
_SHOWN_ESCAPE = re.compile(r"\\(?:x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")
# Characters Windows refuses in a file name, and the path separators.
_FILENAME_FORBIDDEN = frozenset('"*/:<>?\\|')
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
)


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


def _filename_char(char: str) -> str:
    """`char` as it may stand in a download name: "" when unsafe, a plain space for any other space."""
    if char in _FILENAME_FORBIDDEN:
        return ""
    category = unicodedata.category(char)
    if category[0] == "C" or category in ("Zl", "Zp"):  # controls, format (bidi), surrogates, private, unassigned
        return ""
    return " " if category == "Zs" else char


def safe_stem(name: str, most: int = 120) -> str:
    """The last part of `name` without its suffix, fit for a download's file name; "" when nothing is left.

    `name` is a path in an archive (raw or as `display_name` shows it). Every unsafe character (a
    control, a format character such as U+202E, a surrogate, a separator, a quote, what Windows
    refuses, an escape `display_name` wrote) becomes `_`, once per run; dots, spaces and `_` are
    trimmed from both ends; a Windows device name (`CON`, `NUL`…) gets a `_` in front.
    """
    base = re.split(r"[\\/]", _SHOWN_ESCAPE.sub("\x00", name))[-1]
    stem = os.path.splitext(base)[0]
    out: list[str] = []
    for char in stem:
        kept = _filename_char(char)
        if kept:
            out.append(kept)
        elif not out or out[-1] != "_":
            out.append("_")
    cleaned = "".join(out)[:most].strip(" ._")
    if cleaned.split(".")[0].upper() in _WINDOWS_DEVICES:
        cleaned = f"_{cleaned}"
    return cleaned


class Stems:
    """The stems of one output's bilingual files, each given once: `note`, then `note-2`, `note-3`…

    Made from `safe_stem`, so a stem is as safe as a download name; compared casefolded, so no two
    files differ only by case (they would overwrite each other on a case-insensitive file system).
    """

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._taken = {stem.casefold() for stem in taken}

    def take(self, name: str) -> str:
        base = safe_stem(name) or "document"
        stem, count = base, 1
        while stem.casefold() in self._taken:
            count += 1
            stem = f"{base}-{count}"
        self._taken.add(stem.casefold())
        return stem
