"""Streaming archive readers: a directory, zip, tar (any compression), JSONL and WARC, never extracted to disk.

Each reader yields `Entry`s in archive order. A member that breaks a safety rule is yielded as
a refused entry with its reason instead of its bytes, so it is recorded and the batch goes on.
Only documents are yielded: directories, and WARC request/metadata records, are not documents.
"""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from service.jobs import limits
from service.jobs.limits import Limits, ratio_exceeded, unsafe_name

DOCUMENT_FORMATS = {".txt": "auto", ".text": "auto", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html", ".json": "json"}
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".jsonl", ".warc", ".warc.gz")
JSONL_LINE = "jsonl"
_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class Entry:
    """One document of an archive: its name, raw bytes and format, or the reason it was refused."""

    name: str
    data: bytes = b""
    format: str = "auto"  # auto | markdown | html | json | jsonl (one JSONL line, parsed later)
    charset: str | None = None  # declared by the container (a WARC response's Content-Type)
    skip: str | None = None
    detail: str = ""


class ArchiveError(ValueError):
    """The archive as a whole cannot be opened: not found, unknown type, or corrupt."""


def archive_kind(path: Path) -> str:
    """dir | zip | tar | jsonl | warc, from what `path` is and how it is named."""
    if path.is_dir():
        return "dir"
    name = path.name.lower()
    for suffix, kind in ((".zip", "zip"), (".jsonl", "jsonl"), (".warc", "warc"), (".warc.gz", "warc")):
        if name.endswith(suffix):
            return kind
    if any(name.endswith(suffix) for suffix in (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")):
        return "tar"
    raise ArchiveError(f"{path.name}: not a supported archive; use a directory or one of {', '.join(ARCHIVE_SUFFIXES)}")


def read_archive(path: Path, caps: Limits = Limits()) -> Iterator[Entry]:
    """Every document of the archive at `path`, in order, with refused members as skip entries."""
    if not path.exists():
        raise ArchiveError(f"{path}: no such file or directory")
    kind = archive_kind(path)
    readers = {"dir": _read_dir, "zip": _read_zip, "tar": _read_tar, "jsonl": _read_jsonl_file, "warc": _read_warc}
    try:
        yield from readers[kind](path, _Budget(caps))
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as error:
        raise ArchiveError(f"{path.name}: the archive is corrupt or unreadable ({error})") from None


class _Budget:
    """The running total of uncompressed bytes against the archive-wide cap."""

    def __init__(self, caps: Limits) -> None:
        self.caps = caps
        self.used = 0

    def take(self, size: int) -> str | None:
        if size > self.caps.max_member_bytes:
            return limits.MEMBER_TOO_LARGE
        if self.used + size > self.caps.max_total_bytes:
            return limits.TOTAL_TOO_LARGE
        self.used += size
        return None


def _format_of(name: str) -> str | None:
    suffix = os.path.splitext(name.lower())[1]
    if suffix == ".jsonl":
        return JSONL_LINE
    return DOCUMENT_FORMATS.get(suffix)


def _read_capped(stream: IO[bytes], cap: int) -> bytes | None:
    """At most `cap` bytes of `stream`; None when there is more (the header under-declared it)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := stream.read(min(_CHUNK, cap + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > cap:
            return None
    return b"".join(chunks)


def _documents(name: str, data: bytes) -> Iterator[Entry]:
    """One file's entries: itself, or one per line for a JSONL member."""
    format = _format_of(name)
    if format == JSONL_LINE:
        yield from _jsonl_lines(name, io.BytesIO(data), Limits(max_member_bytes=len(data) + 1))
    elif format is None:
        yield Entry(name, skip=limits.UNSUPPORTED_TYPE, detail="not .txt, .md, .html, .json or .jsonl")
    else:
        yield Entry(name, data, format)


def _read_dir(root: Path, budget: _Budget) -> Iterator[Entry]:
    for directory, subdirs, files in os.walk(root, followlinks=False):
        subdirs.sort()
        for sub in list(subdirs):
            if os.path.islink(os.path.join(directory, sub)):
                subdirs.remove(sub)
                yield Entry(os.path.relpath(os.path.join(directory, sub), root), skip=limits.SYMLINK, detail="symbolic link not followed")
        for file in sorted(files):
            full = os.path.join(directory, file)
            name = os.path.relpath(full, root).replace(os.sep, "/")
            info = os.lstat(full)
            if stat.S_ISLNK(info.st_mode):
                yield Entry(name, skip=limits.SYMLINK, detail="symbolic link not followed")
            elif not stat.S_ISREG(info.st_mode):
                yield Entry(name, skip=limits.DEVICE, detail="not a regular file")
            elif _format_of(name) is None:
                yield Entry(name, skip=limits.UNSUPPORTED_TYPE, detail="not .txt, .md, .html, .json or .jsonl")
            elif _format_of(name) == JSONL_LINE:
                with open(full, "rb") as stream:
                    yield from _jsonl_lines(name, stream, budget.caps, budget)
            elif reason := budget.take(info.st_size):
                yield Entry(name, skip=reason, detail=f"{info.st_size} bytes")
            else:
                with open(full, "rb") as stream:
                    data = _read_capped(stream, budget.caps.max_member_bytes)
                if data is None:  # grew while we read it
                    yield Entry(name, skip=limits.MEMBER_TOO_LARGE, detail="the file grew past the cap while read")
                else:
                    yield Entry(name, data, _format_of(name) or "auto")


def _zip_mode(info: zipfile.ZipInfo) -> int:
    return (info.external_attr >> 16) & 0xFFFF if info.create_system == 3 else 0


def _read_zip(path: Path, budget: _Budget) -> Iterator[Entry]:
    caps = budget.caps
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = info.filename
            mode = _zip_mode(info)
            if info.is_dir():
                continue
            if reason := unsafe_name(name):
                yield Entry(name, skip=reason, detail="member name escapes the archive")
            elif stat.S_ISLNK(mode):
                yield Entry(name, skip=limits.SYMLINK, detail="symbolic link member")
            elif stat.S_IFMT(mode) and not stat.S_ISREG(mode):  # writers often store no file type: a plain file
                yield Entry(name, skip=limits.DEVICE, detail="not a regular file")
            elif _format_of(name) is None:
                yield Entry(name, skip=limits.UNSUPPORTED_TYPE, detail="not .txt, .md, .html, .json or .jsonl")
            elif ratio_exceeded(info.file_size, info.compress_size, caps):
                yield Entry(name, skip=limits.COMPRESSION_RATIO, detail=f"{info.file_size} bytes from {info.compress_size}")
            elif reason := budget.take(info.file_size):
                yield Entry(name, skip=reason, detail=f"{info.file_size} bytes")
            else:
                try:
                    with archive.open(info) as stream:
                        data = _read_capped(stream, min(caps.max_member_bytes, info.file_size))
                except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:  # one corrupt member
                    yield Entry(name, skip=limits.UNREADABLE, detail=str(error)[:200])
                    continue
                if data is None:
                    yield Entry(name, skip=limits.MEMBER_TOO_LARGE, detail="more data than the header declared")
                else:
                    yield from _documents(name, data)


class _CountingReader:
    """A read-only stream that counts the compressed bytes consumed, to judge a tar's ratio."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.count += len(data)
        return data


def _read_tar(path: Path, budget: _Budget) -> Iterator[Entry]:
    caps = budget.caps
    with open(path, "rb") as raw:
        counter = _CountingReader(raw)
        with tarfile.open(fileobj=counter, mode="r|*") as archive:  # type: ignore[call-overload]
            declared = 0
            for member in archive:
                name = member.name
                if member.isdir():
                    continue
                declared += member.size
                if declared > caps.max_total_bytes:  # even skipping means decompressing: stop here
                    yield Entry(name, skip=limits.TOTAL_TOO_LARGE, detail="the archive's remaining members were not read")
                    return
                if reason := unsafe_name(name):
                    yield Entry(name, skip=reason, detail="member name escapes the archive")
                elif member.issym():
                    yield Entry(name, skip=limits.SYMLINK, detail="symbolic link member")
                elif member.islnk():
                    yield Entry(name, skip=limits.HARDLINK, detail="hard link member")
                elif not member.isreg():
                    yield Entry(name, skip=limits.DEVICE, detail="device, fifo or other special member")
                elif _format_of(name) is None:
                    yield Entry(name, skip=limits.UNSUPPORTED_TYPE, detail="not .txt, .md, .html, .json or .jsonl")
                elif reason := budget.take(member.size):
                    yield Entry(name, skip=reason, detail=f"{member.size} bytes")
                else:
                    before = counter.count
                    stream = archive.extractfile(member)
                    data = _read_capped(stream, caps.max_member_bytes) if stream else b""
                    if data is None:
                        yield Entry(name, skip=limits.MEMBER_TOO_LARGE, detail="more data than the header declared")
                    elif ratio_exceeded(len(data), counter.count - before, caps):
                        yield Entry(name, skip=limits.COMPRESSION_RATIO, detail=f"{len(data)} bytes from about {counter.count - before}")
                    else:
                        yield from _documents(name, data)


def _read_jsonl_file(path: Path, budget: _Budget) -> Iterator[Entry]:
    with open(path, "rb") as stream:
        yield from _jsonl_lines(path.name, stream, budget.caps, budget)


def _jsonl_lines(name: str, lines: IO[bytes], caps: Limits, budget: _Budget | None = None) -> Iterator[Entry]:
    """One entry per non-blank line, named `file#id` (or `file#line` when it has no id)."""
    number = 0
    while True:
        line = lines.readline(caps.max_member_bytes + 1)
        if not line:
            return
        number += 1
        if len(line) > caps.max_member_bytes:
            while line and not line.endswith(b"\n"):  # discard the rest of the over-long line
                line = lines.readline(_CHUNK)
            yield Entry(f"{name}#{number}", skip=limits.MEMBER_TOO_LARGE, detail=f"line {number} is over the cap")
            continue
        if not line.strip():
            continue
        if budget is not None and (reason := budget.take(len(line))):
            yield Entry(f"{name}#{number}", skip=reason, detail=f"line {number}")
            continue
        yield Entry(f"{name}#{_line_id(line, number)}", line, JSONL_LINE)


def _line_id(line: bytes, number: int) -> str:
    """The line's own `id` when it has a usable one, else its line number."""
    try:
        value = json.loads(line)
    except ValueError:
        return str(number)
    ident = value.get("id") if isinstance(value, dict) else None
    return str(ident) if isinstance(ident, (str, int)) and str(ident).strip() else str(number)


def _read_warc(path: Path, budget: _Budget) -> Iterator[Entry]:
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as stream:
        for number, record in enumerate(ArchiveIterator(stream), start=1):
            if record.rec_type != "response" or record.http_headers is None:
                continue
            uri = record.rec_headers.get_header("WARC-Target-URI") or f"record-{number}"
            content_type = record.http_headers.get_header("Content-Type") or ""
            media, _, params = content_type.partition(";")
            if media.strip().lower() not in ("text/html", "application/xhtml+xml"):
                yield Entry(uri, skip=limits.UNSUPPORTED_TYPE, detail=f"response is {media.strip() or 'untyped'}, not HTML")
                continue
            data = _read_capped(record.content_stream(), budget.caps.max_member_bytes)
            if data is None:
                yield Entry(uri, skip=limits.MEMBER_TOO_LARGE, detail="response body over the cap")
            elif reason := budget.take(len(data)):
                yield Entry(uri, skip=reason, detail=f"{len(data)} bytes")
            else:
                yield Entry(uri, data, "html", charset=_charset(params))


def _charset(params: str) -> str | None:
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"' ").lower()
    return None
