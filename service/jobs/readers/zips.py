"""Zip archives: the central directory checked before `zipfile` parses it, names wrongly flagged
UTF-8 read as data, and bz2 and LZMA members expanded no further than they declare."""

from __future__ import annotations

import bisect
import bz2
import stat
import struct
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO

from service.jobs.limits import Limits, ratio_exceeded, unsafe_name
from service.jobs.readers.common import (
    CORRUPT,
    UNSUPPORTED_DETAIL,
    Budget,
    Entry,
    Stop,
    documents,
    format_of,
    read_capped,
)
from service.jobs.readers.cpython import CENTRAL_DIRECTORY_SIGNATURE, ZipLzma, end_record, replace_decompressor
from service.jobs.reasons import Reason


def _zip_mode(info: zipfile.ZipInfo) -> int:
    return (info.external_attr >> 16) & 0xFFFF if info.create_system == 3 else 0


# A central directory entry is 46 bytes plus its name, extra field and comment: a generous average.
_ZIP_DIRECTORY_BYTES_PER_ENTRY = 512


def _check_zip_directory(path: Path, caps: Limits) -> None:
    """Refuse a zip whose central directory alone would fill memory, before `zipfile` parses it."""
    with open(path, "rb") as raw:
        end = end_record(raw)
    if end is None:
        return  # not a zip: `ZipFile` says so
    if end.entries > caps.max_entries:
        raise Stop(Reason.TOO_MANY_ENTRIES, f"the zip lists {end.entries} entries; the limit is {caps.max_entries}")
    if end.size > caps.max_entries * _ZIP_DIRECTORY_BYTES_PER_ENTRY:
        raise Stop(Reason.HEADER_TOO_LARGE, f"the zip's central directory is {end.size} bytes")


_UTF8_NAME = 0x0800  # general purpose flag bit 11: the entry's name is UTF-8
_CENTRAL_ENTRY = struct.Struct("<4s4x H 18x 3H 8x L")  # signature, flags, name/extra/comment lengths, local offset


def _misflagged_names(raw: BinaryIO) -> tuple[list[int], set[bytes]]:
    """Entries flagged UTF-8 whose names are not UTF-8: where their flags are (file offsets, central and
    local), and their names.

    zipfile decodes a flagged name strictly: one such name makes `ZipFile()` raise UnicodeDecodeError
    for the whole archive. Read with that bit clear, the name is decoded as an unflagged one (CP437,
    each byte a character), and the archive's other members are read as usual.
    """
    end = end_record(raw)
    if end is None:
        return [], set()
    concat = end.prepended
    raw.seek(end.offset + concat)
    directory = raw.read(end.size)  # bounded: `_check_zip_directory` ran first
    found: list[int] = []
    names: set[bytes] = set()
    position = 0
    while position + _CENTRAL_ENTRY.size <= len(directory):
        signature, flags, name_size, extra_size, comment_size, local = _CENTRAL_ENTRY.unpack_from(directory, position)
        if signature != CENTRAL_DIRECTORY_SIGNATURE:
            break  # zipfile says what is wrong
        name = directory[position + _CENTRAL_ENTRY.size : position + _CENTRAL_ENTRY.size + name_size]
        if flags & _UTF8_NAME:
            try:
                name.decode("utf-8")
            except UnicodeDecodeError:
                names.add(name)
                found.append(end.offset + concat + position + 8)
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


class _CappedDecompressor:
    """zipfile asks its bz2 and LZMA decompressors for all they can make of a block (gigabytes for a few
    kilobytes of bz2): this one makes at most one byte more than the member declares, in all."""

    def __init__(self, compress_type: int, declared: int) -> None:
        self._inner: Any = bz2.BZ2Decompressor() if compress_type == zipfile.ZIP_BZIP2 else ZipLzma()
        self._room = declared + 1
        self.eof = False

    def decompress(self, data: bytes) -> bytes:
        if self._room <= 0:
            return b""
        result: bytes = self._inner.decompress(data, self._room)
        self._room -= len(result)
        self.eof = self._inner.eof
        return result


def open_zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> IO[bytes]:
    """A member's stream; a bz2 or LZMA member's expands to at most one byte more than it declares."""
    stream = archive.open(info)
    if info.compress_type in (zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        replace_decompressor(stream, _CappedDecompressor(info.compress_type, info.file_size))
    return stream


def read_zip(path: Path, budget: Budget) -> Iterator[Entry]:
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
                yield Entry(name, skip=Reason.SYMLINK, detail="symbolic link member")
            elif stat.S_IFMT(mode) and not stat.S_ISREG(mode):  # writers often store no file type: a plain file
                yield Entry(name, skip=Reason.DEVICE, detail="not a regular file")
            elif format_of(name) is None:
                yield Entry(name, skip=Reason.UNSUPPORTED_TYPE, detail=UNSUPPORTED_DETAIL)
            elif info.flag_bits & 0x1:
                yield Entry(name, skip=Reason.ENCRYPTED, detail="encrypted member: no password is ever asked for")
            elif ratio_exceeded(info.file_size, info.compress_size, caps):
                yield Entry(
                    name, skip=Reason.COMPRESSION_RATIO, detail=f"{info.file_size} bytes from {info.compress_size}"
                )
            elif reason := budget.take(info.file_size):
                yield Entry(name, skip=reason, detail=f"{info.file_size} bytes")
            else:
                try:
                    with open_zip_member(archive, info) as stream:
                        data = read_capped(stream, min(caps.max_member_bytes, info.file_size))
                except (*CORRUPT, NotImplementedError, RuntimeError, UnicodeDecodeError) as error:  # this member only
                    yield Entry(name, skip=Reason.UNREADABLE, detail=f"{type(error).__name__}: {error}"[:200])
                    continue
                if data is None:
                    yield Entry(name, skip=Reason.MEMBER_TOO_LARGE, detail="more data than the header declared")
                else:
                    yield from documents(name, data, budget)


def count_zip(path: Path, budget: Budget) -> Iterator[int]:
    """The members that are not directories, from the central directory."""
    _check_zip_directory(path, budget.caps)
    with _open_zip(path) as archive:
        yield sum(1 for info in archive.infolist() if not info.is_dir())
