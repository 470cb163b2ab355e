"""Streaming archive readers: a directory, zip, tar (any compression), JSONL and WARC, never extracted to disk.

A lone document in its own format (`book.epub`, `film.srt`: any format `formats.supported()` lists) is read as an
archive of one, so a single file can be a job or a `bitext batch` source without being zipped first.

Each reader yields `Entry`s in archive order. A member that breaks a safety rule is yielded as
a refused entry with its reason instead of its bytes, so it is recorded and the batch goes on.
Only documents are yielded: directories, and WARC request/metadata records, are not documents.

Memory stays bounded whatever the archive holds: members are read up to the member cap, header
lines and header blocks (WARC, tar PAX and GNU long names) up to `Limits.max_header_bytes`,
compressed streams are expanded a bounded chunk at a time, and an archive yields at most
`Limits.max_entries` members. Past a limit, or when the rest of an archive is corrupt, one last
refused entry says why and reading stops; what was read before it stands.
"""

from __future__ import annotations

import bisect
import bz2
import gzip
import io
import json
import lzma
import os
import stat
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from tarfile import TarInfo
from typing import IO, Any, BinaryIO, Protocol, Self

from service.formats.base import SUFFIXES  # not `service.formats`: its zip formats read through here
from service.jobs import limits
from service.jobs.limits import Limits, ratio_exceeded, unsafe_name

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
ARCHIVE_SUFFIXES = (
    ".zip",
    ".tar",
    ".tar.gz",
    ".tgz",
    ".tar.bz2",
    ".tbz2",
    ".tar.xz",
    ".txz",
    ".jsonl",
    ".warc",
    ".warc.gz",
)
JSONL_LINE = "jsonl"
_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class Entry:
    """One document of an archive: its name, raw bytes and format, or the reason it was refused."""

    name: str
    data: bytes = b""
    format: str = "auto"  # auto | markdown | html | json | jsonl (one JSONL line, parsed later) | srt | docx | …
    charset: str | None = None  # declared by the container (a WARC response's Content-Type)
    skip: str | None = None
    detail: str = ""


class ArchiveError(ValueError):
    """The archive as a whole cannot be opened: not found, unknown type, or corrupt."""


def archive_kind(path: Path) -> str:
    """dir | zip | tar | jsonl | warc | document, from what `path` is and how it is named."""
    if path.is_dir():
        return "dir"
    if os.path.splitext(path.name.lower())[1] in SUFFIXES:
        return "document"
    name = path.name.lower()
    for suffix, kind in ((".zip", "zip"), (".jsonl", "jsonl"), (".warc", "warc"), (".warc.gz", "warc")):
        if name.endswith(suffix):
            return kind
    if any(name.endswith(suffix) for suffix in (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")):
        return "tar"
    raise ArchiveError(
        f"{path.name}: not a supported archive; use a directory, one of {', '.join(ARCHIVE_SUFFIXES)},"
        f" or a single {', '.join(document_suffixes())} document"
    )


def document_suffixes() -> tuple[str, ...]:
    """The suffixes of the documents read (and written back) in their own format in this version."""
    return tuple(SUFFIXES)


def read_archive(path: Path, caps: Limits = Limits()) -> Iterator[Entry]:
    """Every document of the archive at `path`, in order, with refused members as skip entries.

    A limit reached (entries, a header, the stream's ratio) or corruption after the first entry
    ends the archive with one refused entry named `ARCHIVE#rest`; corruption before it is an `ArchiveError`.
    """
    if not path.exists():
        raise ArchiveError(f"{path}: no such file or directory")
    kind = archive_kind(path)
    readers = {
        "dir": _read_dir,
        "zip": _read_zip,
        "tar": _read_tar,
        "jsonl": _read_jsonl_file,
        "warc": _read_warc,
        "document": _read_document,
    }
    budget = _Budget(caps)
    yielded = False
    try:
        for entry in readers[kind](path, budget):
            yielded = True
            yield entry
    except _Stop as stop:
        yield _rest(path, stop.reason, f"{stop.detail}; the rest of the archive was not read")
    except _CORRUPT as error:
        if not yielded:
            raise ArchiveError(f"{path.name}: the archive is corrupt or unreadable ({error})") from None
        yield _rest(path, limits.UNREADABLE, f"the rest of the archive is corrupt or truncated ({error})")


def _rest(path: Path, reason: str, detail: str) -> Entry:
    """The refused entry that ends an archive early."""
    return Entry(f"{path.name}#rest", skip=reason, detail=detail[:500])


def count_entries(path: Path, caps: Limits = Limits()) -> int:
    """About how many entries `read_archive` yields, for a progress bar, without reading a document's bytes.

    A directory's and a zip's listings are exact; a tar or WARC is walked header by header (no member is
    extracted, hashed or parsed); a JSONL member of a zip or tar counts as one. At most `max_entries + 1`.
    """
    kind = archive_kind(path)
    budget = _Budget(caps)
    found = 0
    try:
        if kind == "document":
            found = 1
        elif kind == "dir":
            pending = [str(path)]
            while pending:
                for item in _listing(pending.pop(), budget):
                    budget.entry()
                    if item.is_dir(follow_symlinks=False):
                        pending.append(item.path)
                    else:
                        found += 1
        elif kind == "jsonl":
            with open(path, "rb") as stream:
                while line := stream.readline(caps.max_member_bytes + 1):
                    budget.entry()
                    over = len(line) > caps.max_member_bytes
                    found += over or bool(line.strip())
                    while over and line and not line.endswith(b"\n"):  # the rest of an over-long line
                        line = stream.readline(_CHUNK)
        elif kind == "zip":
            _check_zip_directory(path, caps)
            with _open_zip(path) as archive:
                found = sum(1 for info in archive.infolist() if not info.is_dir())
        elif kind == "tar":
            with open(path, "rb") as raw:
                counter = _CountingReader(raw)
                with _open_tar(raw, counter, caps) as tar:
                    for member in tar:
                        budget.entry()
                        found += not member.isdir()
        else:
            found = _count_warc(path, budget)
    except (_Stop, *_CORRUPT):
        found += 1  # the refused entry that ends the archive
    return min(found, caps.max_entries + 1)


class _Stop(Exception):
    """Raised inside a reader when a limit ends the archive: `reason` is a code from `limits`."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


class _Corrupt(Exception):
    """A library-specific error (a bad WARC record) that means the rest of the archive cannot be read."""


_CORRUPT = (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError, _Corrupt)


class _Budget:
    """The running totals of one archive: uncompressed bytes and entries against their caps."""

    def __init__(self, caps: Limits) -> None:
        self.caps = caps
        self.used = 0
        self.entries = 0

    def take(self, size: int) -> str | None:
        if size > self.caps.max_member_bytes:
            return limits.MEMBER_TOO_LARGE
        if self.used + size > self.caps.max_total_bytes:
            return limits.TOTAL_TOO_LARGE
        self.used += size
        return None

    def entry(self) -> None:
        """Count one member (directories and non-document records too); past the cap the archive ends."""
        self.entries += 1
        if self.entries > self.caps.max_entries:
            raise _Stop(limits.TOO_MANY_ENTRIES, f"more than {self.caps.max_entries} entries")


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


def _documents(name: str, data: bytes, budget: _Budget) -> Iterator[Entry]:
    """One file's entries: itself, or one per line for a JSONL member (each line counted as an entry)."""
    format = _format_of(name)
    if format == JSONL_LINE:
        yield from _jsonl_lines(name, io.BytesIO(data), budget, within=len(data) + 1)
    elif format is None:
        yield Entry(name, skip=limits.UNSUPPORTED_TYPE, detail=UNSUPPORTED_DETAIL)
    else:
        yield Entry(name, data, format)


def _listing(directory: str, budget: _Budget) -> list[os.DirEntry[str]]:
    """A directory's entries, sorted; no more than the entry cap is ever held (the cap ends the archive)."""
    found: list[os.DirEntry[str]] = []
    with os.scandir(directory) as scan:
        for item in scan:
            found.append(item)
            if len(found) > budget.caps.max_entries:
                raise _Stop(limits.TOO_MANY_ENTRIES, f"{directory} holds more than {budget.caps.max_entries} entries")
    return sorted(found, key=lambda item: item.name)


def _read_dir(root: Path, budget: _Budget) -> Iterator[Entry]:
    pending = [str(root)]
    while pending:
        directory = pending.pop()
        subdirs: list[str] = []
        for item in _listing(directory, budget):
            budget.entry()
            name = os.path.relpath(item.path, root).replace(os.sep, "/")
            if item.is_symlink():
                yield Entry(name, skip=limits.SYMLINK, detail="symbolic link not followed")
            elif item.is_dir(follow_symlinks=False):
                subdirs.append(item.path)
            elif not item.is_file(follow_symlinks=False):
                yield Entry(name, skip=limits.DEVICE, detail="not a regular file")
            elif _format_of(name) is None:
                yield Entry(name, skip=limits.UNSUPPORTED_TYPE, detail=UNSUPPORTED_DETAIL)
            elif _format_of(name) == JSONL_LINE:
                with open(item.path, "rb") as stream:
                    yield from _jsonl_lines(name, stream, budget)
            elif reason := budget.take(size := item.stat(follow_symlinks=False).st_size):
                yield Entry(name, skip=reason, detail=f"{size} bytes")
            else:
                with open(item.path, "rb") as stream:
                    data = _read_capped(stream, budget.caps.max_member_bytes)
                if data is None:  # grew while we read it
                    yield Entry(name, skip=limits.MEMBER_TOO_LARGE, detail="the file grew past the cap while read")
                else:
                    yield Entry(name, data, _format_of(name) or "auto")
        pending.extend(reversed(subdirs))


def _read_document(path: Path, budget: _Budget) -> Iterator[Entry]:
    """A lone document: one entry, under the same member and total caps as an archive's member."""
    budget.entry()
    name = path.name
    if reason := budget.take(size := path.stat().st_size):
        yield Entry(name, skip=reason, detail=f"{size} bytes")
        return
    with open(path, "rb") as stream:
        data = _read_capped(stream, budget.caps.max_member_bytes)
    if data is None:  # grew while we read it
        yield Entry(name, skip=limits.MEMBER_TOO_LARGE, detail="the file grew past the cap while read")
    else:
        yield Entry(name, data, _format_of(name) or "auto")


def _zip_mode(info: zipfile.ZipInfo) -> int:
    return (info.external_attr >> 16) & 0xFFFF if info.create_system == 3 else 0


# A central directory entry is 46 bytes plus its name, extra field and comment: a generous average.
_ZIP_DIRECTORY_BYTES_PER_ENTRY = 512


def _check_zip_directory(path: Path, caps: Limits) -> None:
    """Refuse a zip whose central directory alone would fill memory, before `zipfile` parses it."""
    with open(path, "rb") as raw:
        end = zipfile._EndRecData(raw)  # type: ignore[attr-defined]  # the end record, zip64 aware
    if end is None:
        return  # not a zip: `ZipFile` says so
    # zipfile's private end-record offsets, absent from its stubs
    entries, size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]  # type: ignore[attr-defined]
    if entries > caps.max_entries:
        raise _Stop(limits.TOO_MANY_ENTRIES, f"the zip lists {entries} entries; the limit is {caps.max_entries}")
    if size > caps.max_entries * _ZIP_DIRECTORY_BYTES_PER_ENTRY:
        raise _Stop(limits.HEADER_TOO_LARGE, f"the zip's central directory is {size} bytes")


_UTF8_NAME = 0x0800  # general purpose flag bit 11: the entry's name is UTF-8
_CENTRAL_ENTRY = struct.Struct("<4s4x H 18x 3H 8x L")  # signature, flags, name/extra/comment lengths, local offset


def _misflagged_names(raw: BinaryIO) -> tuple[list[int], set[bytes]]:
    """Entries flagged UTF-8 whose names are not UTF-8: where their flags are (file offsets, central and
    local), and their names.

    zipfile decodes a flagged name strictly: one such name makes `ZipFile()` raise UnicodeDecodeError
    for the whole archive. Read with that bit clear, the name is decoded as an unflagged one (CP437,
    each byte a character), and the archive's other members are read as usual.
    """
    end = zipfile._EndRecData(raw)  # type: ignore[attr-defined]  # the end record, zip64 aware
    if end is None:
        return [], set()
    size, offset = end[zipfile._ECD_SIZE], end[zipfile._ECD_OFFSET]  # type: ignore[attr-defined]
    concat = end[zipfile._ECD_LOCATION] - size - offset  # type: ignore[attr-defined]  # bytes prepended to the zip
    if end[zipfile._ECD_SIGNATURE] == zipfile.stringEndArchive64:  # type: ignore[attr-defined]
        concat -= zipfile.sizeEndCentDir64 + zipfile.sizeEndCentDir64Locator  # type: ignore[attr-defined]
    raw.seek(offset + concat)
    directory = raw.read(size)  # bounded: `_check_zip_directory` ran first
    found: list[int] = []
    names: set[bytes] = set()
    position = 0
    while position + _CENTRAL_ENTRY.size <= len(directory):
        signature, flags, name_size, extra_size, comment_size, local = _CENTRAL_ENTRY.unpack_from(directory, position)
        if signature != zipfile.stringCentralDir:  # type: ignore[attr-defined]
            break  # zipfile says what is wrong
        name = directory[position + _CENTRAL_ENTRY.size : position + _CENTRAL_ENTRY.size + name_size]
        if flags & _UTF8_NAME:
            try:
                name.decode("utf-8")
            except UnicodeDecodeError:
                names.add(name)
                found.append(offset + concat + position + 8)
                if local != 0xFFFFFFFF:  # else in a zip64 extra field: that member alone is then unreadable
                    found.append(local + concat + 6)
        position += _CENTRAL_ENTRY.size + name_size + extra_size + comment_size
    return sorted(found), names


class _FlagCleared:
    """A zip file read with the UTF-8 name flag clear at the given offsets of flag fields (see `_misflagged_names`)."""

    def __init__(self, raw: BinaryIO, flags: list[int]) -> None:
        self.raw, self.flags = raw, flags

    def read(self, size: int = -1) -> bytes:
        start = self.raw.tell()
        data = self.raw.read(size)
        first = bisect.bisect_left(self.flags, start - 1)
        if first == len(self.flags) or self.flags[first] >= start + len(data):
            return data
        patched = bytearray(data)
        for field in self.flags[first:]:
            high = field + 1 - start  # bit 11 is in the field's second (little-endian high) byte
            if high >= len(patched):
                break
            if high >= 0:
                patched[high] &= ~(_UTF8_NAME >> 8) & 0xFF
        return bytes(patched)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()

    def seekable(self) -> bool:
        return True


@contextmanager
def _open_zip(path: Path) -> Iterator[zipfile.ZipFile]:
    """The zip at `path`; a name flagged UTF-8 that is not is data like any other (see `_misflagged_names`).

    Such a member's `filename` is its bytes as UTF-8 with surrogate escapes, as tar and directory
    names are read (`names.display_name` shows each bad byte as `\\xNN`).
    """
    with open(path, "rb") as raw:
        flags, names = _misflagged_names(raw)
        raw.seek(0)
        with zipfile.ZipFile(_FlagCleared(raw, flags) if flags else raw) as archive:  # it only reads, seeks and tells
            for info in archive.infolist() if names else ():
                if info.orig_filename.encode("cp437") in names:  # CP437 gives each byte back
                    info.filename = info.filename.encode("cp437").decode("utf-8", "surrogateescape")
            yield archive


class _ZipLzma(zipfile.LZMADecompressor):  # type: ignore[name-defined]  # private to zipfile, not in its stubs
    """zipfile's LZMA member decompressor, taking `max_length` like the standard decompressors."""

    _decomp: lzma.LZMADecompressor | None
    _unconsumed: bytes
    eof: bool

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        if self._decomp is None:
            self._unconsumed += data
            if len(self._unconsumed) <= 4:
                return b""
            (psize,) = struct.unpack("<H", self._unconsumed[2:4])
            if len(self._unconsumed) <= 4 + psize:
                return b""
            header = self._unconsumed[4 : 4 + psize]
            # private to lzma (what zipfile itself calls), absent from its stubs
            properties = lzma._decode_filter_properties(lzma.FILTER_LZMA1, header)  # type: ignore[attr-defined]
            self._decomp = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[properties])
            data = self._unconsumed[4 + psize :]
            del self._unconsumed
        result: bytes = self._decomp.decompress(data, max_length)
        self.eof = self._decomp.eof
        return result


class _CappedDecompressor:
    """zipfile asks its bz2 and LZMA decompressors for all they can make of a block (gigabytes for a few
    kilobytes of bz2): this one makes at most one byte more than the member declares, in all."""

    def __init__(self, compress_type: int, declared: int) -> None:
        self._inner: Any = bz2.BZ2Decompressor() if compress_type == zipfile.ZIP_BZIP2 else _ZipLzma()
        self._room = declared + 1
        self.eof = False

    def decompress(self, data: bytes) -> bytes:
        if self._room <= 0:
            return b""
        result: bytes = self._inner.decompress(data, self._room)
        self._room -= len(result)
        self.eof = self._inner.eof
        return result


def _open_zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> IO[bytes]:
    stream = archive.open(info)
    if info.compress_type in (zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        if not hasattr(stream, "_decompressor"):
            raise NotImplementedError("bz2/LZMA members cannot be read with a bound on this Python")
        stream._decompressor = _CappedDecompressor(info.compress_type, info.file_size)
    return stream


def _read_zip(path: Path, budget: _Budget) -> Iterator[Entry]:
    caps = budget.caps
    _check_zip_directory(path, caps)
    with _open_zip(path) as archive:
        for info in archive.infolist():
            budget.entry()
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
                yield Entry(name, skip=limits.UNSUPPORTED_TYPE, detail=UNSUPPORTED_DETAIL)
            elif info.flag_bits & 0x1:
                yield Entry(name, skip=limits.ENCRYPTED, detail="encrypted member: no password is ever asked for")
            elif ratio_exceeded(info.file_size, info.compress_size, caps):
                yield Entry(
                    name, skip=limits.COMPRESSION_RATIO, detail=f"{info.file_size} bytes from {info.compress_size}"
                )
            elif reason := budget.take(info.file_size):
                yield Entry(name, skip=reason, detail=f"{info.file_size} bytes")
            else:
                try:
                    with _open_zip_member(archive, info) as stream:
                        data = _read_capped(stream, min(caps.max_member_bytes, info.file_size))
                except (*_CORRUPT, NotImplementedError, RuntimeError, UnicodeDecodeError) as error:  # this member only
                    yield Entry(name, skip=limits.UNREADABLE, detail=f"{type(error).__name__}: {error}"[:200])
                    continue
                if data is None:
                    yield Entry(name, skip=limits.MEMBER_TOO_LARGE, detail="more data than the header declared")
                else:
                    yield from _documents(name, data, budget)


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
        data = self.inner.read(size if 0 <= size <= _CHUNK * 16 else _CHUNK * 16)
        self.count += len(data)
        caps = self.caps
        if self.count > caps.max_total_bytes + caps.max_member_bytes:
            raise _Stop(limits.TOTAL_TOO_LARGE, f"more than {caps.max_total_bytes} bytes once expanded")
        floor, compressed = caps.stream_ratio_floor_bytes, max(self.counter.count, 1)
        if self.compressed and self.count > floor and self.count > caps.max_ratio * compressed:
            raise _Stop(limits.COMPRESSION_RATIO, f"{self.count} bytes expanded from {self.counter.count}")
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


class _TarInfo(tarfile.TarInfo):
    """tarfile reads a PAX or GNU long-name header whole, whatever size it declares: cap it first."""

    max_header_bytes = Limits().max_header_bytes

    @classmethod
    def fromtarfile(cls, archive: tarfile.TarFile) -> Self:
        """tarfile takes a bad header after the first for the archive's end: say it is corrupt instead."""
        try:
            return super().fromtarfile(archive)
        except (tarfile.InvalidHeaderError, tarfile.TruncatedHeaderError) as error:  # type: ignore[attr-defined]  # not in the stubs
            raise _Corrupt(f"a bad tar header ({error})") from None

    def _proc_member(self, tarfile: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in _TAR_EXTENDED and self.size > self.max_header_bytes:
            raise _Stop(limits.HEADER_TOO_LARGE, f"a {self.size}-byte extended header (type {self.type!r})")
        member: TarInfo = super()._proc_member(tarfile)  # type: ignore[misc]  # private to tarfile, not in its stubs
        globals_size = sum(len(key) + len(value) for key, value in tarfile.pax_headers.items())
        if globals_size > self.max_header_bytes:
            raise _Stop(limits.HEADER_TOO_LARGE, f"{globals_size} bytes of global PAX headers")
        return member

    def _proc_sparse(self, tarfile: tarfile.TarFile) -> tarfile.TarInfo:
        raise _Stop(limits.UNSUPPORTED_TYPE, "a GNU sparse member (its map is unbounded)")

    def _proc_gnusparse_10(self, next: tarfile.TarInfo, pax_headers: dict[str, str], tarfile: tarfile.TarFile) -> None:
        raise _Stop(limits.UNSUPPORTED_TYPE, "a PAX sparse 1.0 member (its map is unbounded)")


def _open_tar(raw: BinaryIO, counter: _CountingReader, caps: Limits) -> tarfile.TarFile:
    """The tar stream, read with the capped headers of `_TarInfo`."""
    info = type("_CappedTarInfo", (_TarInfo,), {"max_header_bytes": caps.max_header_bytes})
    stream = _tar_stream(raw, counter, caps)
    # typeshed wants a seekable, writable file even for stream mode, which only reads
    return tarfile.open(fileobj=stream, mode="r|", tarinfo=info)  # type: ignore[call-overload]


def _read_tar(path: Path, budget: _Budget) -> Iterator[Entry]:
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
                        name, skip=limits.TOTAL_TOO_LARGE, detail="the archive's remaining members were not read"
                    )
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
                    yield Entry(name, skip=limits.UNSUPPORTED_TYPE, detail=UNSUPPORTED_DETAIL)
                elif reason := budget.take(member.size):
                    yield Entry(name, skip=reason, detail=f"{member.size} bytes")
                else:
                    before = counter.count
                    try:
                        stream = archive.extractfile(member)
                        data = _read_capped(stream, caps.max_member_bytes) if stream else b""
                    except _CORRUPT as error:  # this member; the next header says whether the archive goes on
                        yield Entry(name, skip=limits.UNREADABLE, detail=f"{type(error).__name__}: {error}"[:200])
                        continue
                    if data is None:
                        yield Entry(name, skip=limits.MEMBER_TOO_LARGE, detail="more data than the header declared")
                    elif ratio_exceeded(len(data), counter.count - before, caps):
                        yield Entry(
                            name,
                            skip=limits.COMPRESSION_RATIO,
                            detail=f"{len(data)} bytes from about {counter.count - before}",
                        )
                    else:
                        yield from _documents(name, data, budget)


def _read_jsonl_file(path: Path, budget: _Budget) -> Iterator[Entry]:
    with open(path, "rb") as stream:
        yield from _jsonl_lines(path.name, stream, budget)


def _jsonl_lines(name: str, lines: IO[bytes], budget: _Budget, within: int | None = None) -> Iterator[Entry]:
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
                line = lines.readline(_CHUNK)
            yield Entry(f"{name}#{number}", skip=limits.MEMBER_TOO_LARGE, detail=f"line {number} is over the cap")
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
                raise _Stop(limits.HEADER_TOO_LARGE, f"a WARC header line over {max_line} bytes")
            self.header_bytes += len(line)
            self.header_lines += 1
            if self.header_bytes > caps.max_header_bytes or self.header_lines > _WARC_HEADER_LINES:
                too_many = f"a WARC record's headers over {caps.max_header_bytes} bytes or {_WARC_HEADER_LINES} lines"
                raise _Stop(limits.HEADER_TOO_LARGE, too_many)
            return line

        def read(self, length: int | None = None) -> bytes:
            self.header_bytes = self.header_lines = 0
            data: bytes = super().read(_CHUNK if length is None or length < 0 else length)
            return data

    return CappedReader


_WARC_HEADER_LINES = 1_000
_WARC_BLOCK = 4096  # compressed bytes per fill: one fill of gzip expands to at most about 4 MB


def _warc_records(path: Path, budget: _Budget) -> Iterator[tuple[int, Any]]:
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
            raise _Corrupt(str(error)[:300]) from None


def _read_warc(path: Path, budget: _Budget) -> Iterator[Entry]:
    for number, record in _warc_records(path, budget):
        entry = _warc_entry(number, record, budget)
        if entry is not None:
            yield entry


def _count_warc(path: Path, budget: _Budget) -> int:
    records = _warc_records(path, budget)
    return sum(1 for _, record in records if record.rec_type == "response" and record.http_headers is not None)


def _warc_entry(number: int, record: Any, budget: _Budget) -> Entry | None:
    if record.rec_type != "response" or record.http_headers is None:
        return None
    uri = record.rec_headers.get_header("WARC-Target-URI") or f"record-{number}"
    content_type = record.http_headers.get_header("Content-Type") or ""
    media, _, params = content_type.partition(";")
    if media.strip().lower() not in ("text/html", "application/xhtml+xml"):
        detail = f"response is {media.strip()[:100] or 'untyped'}, not HTML"
        return Entry(uri, skip=limits.UNSUPPORTED_TYPE, detail=detail)
    try:
        data = _read_capped(record.content_stream(), budget.caps.max_member_bytes)
    except (zlib.error, OSError, EOFError, ValueError) as error:  # bad Content-Encoding or chunking: this record only
        return Entry(uri, skip=limits.UNREADABLE, detail=f"{type(error).__name__}: {error}"[:200])
    if data is None:
        return Entry(uri, skip=limits.MEMBER_TOO_LARGE, detail="response body over the cap")
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
