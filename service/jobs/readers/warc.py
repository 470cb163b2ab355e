"""WARC files, plain or gzipped (warcio): each HTML response is a document, with its declared charset;
header lines and a record's header block are capped before warcio reads them whole."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from service.jobs.limits import Limits
from service.jobs.readers.common import CHUNK, Budget, Corrupt, Entry, Stop, read_capped
from service.jobs.reasons import Reason

_WARC_HEADER_LINES = 1_000
_WARC_BLOCK = 4096  # compressed bytes per fill: one fill of gzip expands to at most about 4 MB


def _capped_warc_reader(caps: Limits) -> type:
    """warcio's reader with header lines capped: warcio reads a header line, and a record's headers, whole."""
    from warcio.bufferedreaders import DecompressingBufferedReader

    max_line = min(caps.max_header_bytes, 1 << 16)

    class CappedReader(DecompressingBufferedReader):
        """Counts the header bytes and lines read since the last body read; a record's header block ends there."""

        header_bytes = 0
        header_lines = 0

        def readline(self, length: int | None = None) -> bytes:
            want = max_line + 1 if length is None or length < 0 else min(length, max_line + 1)
            line: bytes = super().readline(want)
            if len(line) > max_line:
                raise Stop(Reason.HEADER_TOO_LARGE, f"a WARC header line over {max_line} bytes")
            self.header_bytes += len(line)
            self.header_lines += 1
            if self.header_bytes > caps.max_header_bytes or self.header_lines > _WARC_HEADER_LINES:
                too_many = f"a WARC record's headers over {caps.max_header_bytes} bytes or {_WARC_HEADER_LINES} lines"
                raise Stop(Reason.HEADER_TOO_LARGE, too_many)
            return line

        def read(self, length: int | None = None) -> bytes:
            self.header_bytes = self.header_lines = 0
            data: bytes = super().read(CHUNK if length is None or length < 0 else length)
            return data

    return CappedReader


def _warc_records(path: Path, budget: Budget) -> Iterator[tuple[int, Any]]:
    """A WARC's records through the capped reader, each counted as an entry."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    with open(path, "rb") as stream:
        iterator = ArchiveIterator(stream)
        iterator.reader = _capped_warc_reader(budget.caps)(iterator.fh, block_size=_WARC_BLOCK)
        try:
            for number, record in enumerate(iterator, start=1):
                budget.entry()
                yield number, record
        except ArchiveLoadFailed as error:
            raise Corrupt(str(error)[:300]) from None


def read_warc(path: Path, budget: Budget) -> Iterator[Entry]:
    for number, record in _warc_records(path, budget):
        entry = _warc_entry(number, record, budget)
        if entry is not None:
            yield entry


def count_warc(path: Path, budget: Budget) -> Iterator[int]:
    """The responses, record header by record header, in one sum: a limit or corruption part way counts none."""
    records = _warc_records(path, budget)
    yield sum(1 for _, record in records if record.rec_type == "response" and record.http_headers is not None)


def _warc_entry(number: int, record: Any, budget: Budget) -> Entry | None:
    if record.rec_type != "response" or record.http_headers is None:
        return None
    uri = record.rec_headers.get_header("WARC-Target-URI") or f"record-{number}"
    content_type = record.http_headers.get_header("Content-Type") or ""
    media, _, params = content_type.partition(";")
    if media.strip().lower() not in ("text/html", "application/xhtml+xml"):
        detail = f"response is {media.strip()[:100] or 'untyped'}, not HTML"
        return Entry(uri, skip=Reason.UNSUPPORTED_TYPE, detail=detail)
    try:
        data = read_capped(record.content_stream(), budget.caps.max_member_bytes)
    except (zlib.error, OSError, EOFError, ValueError) as error:  # bad Content-Encoding or chunking: this record only
        return Entry(uri, skip=Reason.UNREADABLE, detail=f"{type(error).__name__}: {error}"[:200])
    if data is None:
        return Entry(uri, skip=Reason.MEMBER_TOO_LARGE, detail="response body over the cap")
    if reason := budget.take(len(data)):
        return Entry(uri, skip=reason, detail=f"{len(data)} bytes")
    return Entry(uri, data, "html", charset=_charset(params))


def _charset(params: str) -> str | None:
    """The declared charset label (lower case); `service.charsets` decides later whether it is a text encoding."""
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"' ").lower()[:64]
    return None
