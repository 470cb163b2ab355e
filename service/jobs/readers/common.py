"""What every archive reader shares: `Entry`, the running `Budget`, the errors that end an archive,
capped reads, and a member's documents (itself, or one per line of a JSONL member)."""

from __future__ import annotations

import io
import json
import lzma
import os
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from service.formats.base import SUFFIXES  # not `service.formats`: its zip formats read through here
from service.jobs.limits import Limits
from service.jobs.reasons import Reason

DOCUMENT_FORMATS = {
    ".txt": "auto",
    ".text": "auto",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".json": "json",
}
# Documents read in their own format (`service.formats`): subtitles, office documents, e-books, PDF.
DOCUMENT_FORMATS.update(SUFFIXES)
UNSUPPORTED_DETAIL = f"not one of {', '.join(sorted({*DOCUMENT_FORMATS, '.jsonl'}))}"
JSONL_LINE = "jsonl"
CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class Entry:
    """One document of an archive: its name, raw bytes and format, or the reason it was refused."""

    name: str
    data: bytes = b""
    format: str = "auto"  # auto | markdown | html | json | jsonl (one JSONL line, parsed later) | srt | docx | …
    charset: str | None = None  # declared by the container (a WARC response's Content-Type)
    skip: Reason | None = None
    detail: str = ""


class ArchiveError(ValueError):
    """The archive as a whole cannot be opened: not found, unknown type, or corrupt."""


class Stop(Exception):
    """Raised inside a reader when a limit ends the archive: `reason` says which."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


class Corrupt(Exception):
    """A library-specific error (a bad WARC record) that means the rest of the archive cannot be read."""


CORRUPT = (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError, Corrupt)


class Budget:
    """The running totals of one archive: uncompressed bytes and entries against their caps."""

    def __init__(self, caps: Limits) -> None:
        self.caps = caps
        self.used = 0
        self.entries = 0

    def take(self, size: int) -> Reason | None:
        if size > self.caps.max_member_bytes:
            return Reason.MEMBER_TOO_LARGE
        if self.used + size > self.caps.max_total_bytes:
            return Reason.TOTAL_TOO_LARGE
        self.used += size
        return None

    def entry(self) -> None:
        """Count one member (directories and non-document records too); past the cap the archive ends."""
        self.entries += 1
        if self.entries > self.caps.max_entries:
            raise Stop(Reason.TOO_MANY_ENTRIES, f"more than {self.caps.max_entries} entries")


def format_of(name: str) -> str | None:
    """The format a member's name says it is: a document format, `JSONL_LINE`, or None (not read)."""
    suffix = os.path.splitext(name.lower())[1]
    if suffix == ".jsonl":
        return JSONL_LINE
    return DOCUMENT_FORMATS.get(suffix)


def read_capped(stream: IO[bytes], cap: int, *, keep: bool = True) -> bytes | None:
    """At most `cap` bytes of `stream`; None when there is more (the header under-declared it).

    With `keep` False the bytes are only counted, a chunk at a time and none kept (`b""` when they fit):
    a member checked against its cap without holding what it inflates to.
    """
    chunks: list[bytes] = []
    size = 0
    while chunk := stream.read(min(CHUNK, cap + 1 - size)):
        size += len(chunk)
        if size > cap:
            return None
        if keep:
            chunks.append(chunk)
    return b"".join(chunks)


def documents(name: str, data: bytes, budget: Budget) -> Iterator[Entry]:
    """One file's entries: itself, or one per line for a JSONL member (each line counted as an entry)."""
    format = format_of(name)
    if format == JSONL_LINE:
        yield from jsonl_lines(name, io.BytesIO(data), budget, within=len(data) + 1)
    elif format is None:
        yield Entry(name, skip=Reason.UNSUPPORTED_TYPE, detail=UNSUPPORTED_DETAIL)
    else:
        yield Entry(name, data, format)


def jsonl_lines(name: str, lines: IO[bytes], budget: Budget, within: int | None = None) -> Iterator[Entry]:
    """One entry per non-blank line, named `file#id` (or `file#line` when it has no id).

    `within` set: the lines of a member already read (and counted against the total budget) whole.
    """
    cap = budget.caps.max_member_bytes if within is None else within
    number = 0
    while True:
        line = lines.readline(cap + 1)
        if not line:
            return
        number += 1
        budget.entry()
        if len(line) > cap:
            while line and not line.endswith(b"\n"):  # discard the rest of the over-long line
                line = lines.readline(CHUNK)
            yield Entry(f"{name}#{number}", skip=Reason.MEMBER_TOO_LARGE, detail=f"line {number} is over the cap")
            continue
        if not line.strip():
            continue
        if within is None and (reason := budget.take(len(line))):
            yield Entry(f"{name}#{number}", skip=reason, detail=f"line {number}")
            continue
        yield Entry(f"{name}#{_line_id(line, number)}", line, JSONL_LINE)


def _line_id(line: bytes, number: int) -> str:
    """The line's own `id` when it has a usable one, else its line number."""
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply: the document says so later
        return str(number)
    ident = value.get("id") if isinstance(value, dict) else None
    return str(ident) if isinstance(ident, (str, int)) and str(ident).strip() else str(number)
