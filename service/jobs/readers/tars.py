"""Tar archives, plain or in gzip, bz2 or xz: read as a stream, expanded a bounded chunk at a time
and judged as a whole by size and ratio, with extended headers capped before tarfile reads them."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO, Protocol

from service.jobs.limits import Limits, ratio_exceeded, unsafe_name
from service.jobs.readers.common import (
    CHUNK,
    CORRUPT,
    UNSUPPORTED_DETAIL,
    Budget,
    Corrupt,
    Entry,
    Stop,
    documents,
    format_of,
    read_capped,
)
from service.jobs.readers.cpython import TarInfoHooks
from service.jobs.reasons import Reason


class _CountingReader:
    """A read-only stream that counts the compressed bytes consumed, to judge a tar's ratio."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.count += len(data)
        return data

    def seekable(self) -> bool:
        return False

    def seek(self, offset: int, whence: int = 0) -> int:
        raise io.UnsupportedOperation("a counted stream is read forward only")


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Expanded:
    """The decompressed tar stream, a bounded chunk per read, judged as a whole as it is read.

    tarfile's own `r|gz`/`r|bz2`/`r|xz` hand a whole compressed block to the decompressor at once
    (a few kilobytes of bz2 make gigabytes); the `gzip`, `bz2` and `lzma` file objects used here
    never make more than asked for. Past the total cap, or past the ratio once the stream is past
    its floor, the archive ends: even skipping members means decompressing them.
    """

    def __init__(self, inner: _Readable, counter: _CountingReader, compressed: bool, caps: Limits) -> None:
        self.inner, self.counter, self.compressed, self.caps = inner, counter, compressed, caps
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size if 0 <= size <= CHUNK * 16 else CHUNK * 16)
        self.count += len(data)
        caps = self.caps
        if self.count > caps.max_total_bytes + caps.max_member_bytes:
            raise Stop(Reason.TOTAL_TOO_LARGE, f"more than {caps.max_total_bytes} bytes once expanded")
        floor, compressed = caps.stream_ratio_floor_bytes, max(self.counter.count, 1)
        if self.compressed and self.count > floor and self.count > caps.max_ratio * compressed:
            raise Stop(Reason.COMPRESSION_RATIO, f"{self.count} bytes expanded from {self.counter.count}")
        return data


def _tar_stream(raw: BinaryIO, counter: _CountingReader, caps: Limits) -> _Expanded:
    """The tar inside gzip, bz2 or xz (told by its magic bytes), or the file itself."""
    magic = raw.read(6)
    raw.seek(0)
    inner: _Readable
    if magic.startswith(b"\x1f\x8b"):
        inner = gzip.GzipFile(fileobj=counter, mode="rb")
    elif magic.startswith(b"BZh"):
        inner = bz2.BZ2File(counter)
    elif magic.startswith(b"\xfd7zXZ\x00"):
        inner = lzma.LZMAFile(counter)  # type: ignore[arg-type]  # typeshed wants a full IO; it only reads
    else:
        return _Expanded(counter, counter, False, caps)
    return _Expanded(inner, counter, True, caps)


_TAR_EXTENDED = (
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
)


class _TarInfo(TarInfoHooks):
    """tarfile reads a PAX or GNU long-name header whole, whatever size it declares: cap it first."""

    max_header_bytes = Limits().max_header_bytes

    @classmethod
    def bad_header(cls, error: tarfile.HeaderError) -> Exception:
        """tarfile takes a bad header after the first for the archive's end: say it is corrupt instead."""
        return Corrupt(f"a bad tar header ({error})")

    def before_member(self) -> None:
        if self.type in _TAR_EXTENDED and self.size > self.max_header_bytes:
            raise Stop(Reason.HEADER_TOO_LARGE, f"a {self.size}-byte extended header (type {self.type!r})")

    def after_member(self, pax_headers: Mapping[str, str]) -> None:
        globals_size = sum(len(key) + len(value) for key, value in pax_headers.items())
        if globals_size > self.max_header_bytes:
            raise Stop(Reason.HEADER_TOO_LARGE, f"{globals_size} bytes of global PAX headers")

    def refuse_sparse(self, what: str) -> Exception:
        return Stop(Reason.UNSUPPORTED_TYPE, f"{what} (its map is unbounded)")


def _open_tar(raw: BinaryIO, counter: _CountingReader, caps: Limits) -> tarfile.TarFile:
    """The tar stream, read with the capped headers of `_TarInfo`."""
    info = type("_CappedTarInfo", (_TarInfo,), {"max_header_bytes": caps.max_header_bytes})
    stream = _tar_stream(raw, counter, caps)
    # typeshed wants a seekable, writable file even for stream mode, which only reads
    return tarfile.open(fileobj=stream, mode="r|", tarinfo=info)  # type: ignore[call-overload]


def read_tar(path: Path, budget: Budget) -> Iterator[Entry]:
    caps = budget.caps
    with open(path, "rb") as raw:
        counter = _CountingReader(raw)
        with _open_tar(raw, counter, caps) as archive:
            declared = 0
            for member in archive:
                budget.entry()
                name = member.name
                if member.isdir():
                    continue
                declared += member.size
                if declared > caps.max_total_bytes:  # even skipping means decompressing: stop here
                    yield Entry(
                        name, skip=Reason.TOTAL_TOO_LARGE, detail="the archive's remaining members were not read"
                    )
                    return
                if reason := unsafe_name(name):
                    yield Entry(name, skip=reason, detail="member name escapes the archive")
                elif member.issym():
                    yield Entry(name, skip=Reason.SYMLINK, detail="symbolic link member")
                elif member.islnk():
                    yield Entry(name, skip=Reason.HARDLINK, detail="hard link member")
                elif not member.isreg():
                    yield Entry(name, skip=Reason.DEVICE, detail="device, fifo or other special member")
                elif format_of(name) is None:
                    yield Entry(name, skip=Reason.UNSUPPORTED_TYPE, detail=UNSUPPORTED_DETAIL)
                elif reason := budget.take(member.size):
                    yield Entry(name, skip=reason, detail=f"{member.size} bytes")
                else:
                    before = counter.count
                    try:
                        stream = archive.extractfile(member)
                        data = read_capped(stream, caps.max_member_bytes) if stream else b""
                    except CORRUPT as error:  # this member; the next header says whether the archive goes on
                        yield Entry(name, skip=Reason.UNREADABLE, detail=f"{type(error).__name__}: {error}"[:200])
                        continue
                    if data is None:
                        yield Entry(name, skip=Reason.MEMBER_TOO_LARGE, detail="more data than the header declared")
                    elif ratio_exceeded(len(data), counter.count - before, caps):
                        yield Entry(
                            name,
                            skip=Reason.COMPRESSION_RATIO,
                            detail=f"{len(data)} bytes from about {counter.count - before}",
                        )
                    else:
                        yield from documents(name, data, budget)


def count_tar(path: Path, budget: Budget) -> Iterator[int]:
    """1 per member that is not a directory, header by header: no member is extracted."""
    with open(path, "rb") as raw:
        counter = _CountingReader(raw)
        with _open_tar(raw, counter, budget.caps) as tar:
            for member in tar:
                budget.entry()
                yield int(not member.isdir())
