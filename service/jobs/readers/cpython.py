"""Every use the readers make of CPython's private or undocumented standard library, in one place.

The standard library offers no public way to do these few things, each needed to read a hostile
archive in bounded memory; each is a small piece of `zipfile`, `lzma` or `tarfile` that has been
stable for many versions. `tests/unit/test_cpython_internals.py` checks every one on the running
Python, and fails naming the Python version when one is changed or removed.

- `zipfile._EndRecData`, its `_ECD_*` indices, `stringEndArchive64`, `sizeEndCentDir64` and
  `sizeEndCentDir64Locator` (`end_record`): the end-of-central-directory record, zip64 aware, read
  before `ZipFile` parses the directory, to refuse a directory too large to hold and to find the
  names wrongly flagged UTF-8 (which make `ZipFile()` itself fail). `stringCentralDir`
  (`CENTRAL_DIRECTORY_SIGNATURE`) starts each entry of that directory.
- `zipfile.LZMADecompressor`, with `lzma._decode_filter_properties` (what it calls itself), for
  `ZipLzma`: zipfile's decompressor of an LZMA member takes no `max_length`; `ZipLzma` takes one.
- `ZipExtFile._decompressor` (`replace_decompressor`): the member stream's decompressor, which
  zipfile asks for all it can make of a block (gigabytes from a few kilobytes of bz2); it is
  replaced by one that never makes more than the member declares.
- `tarfile.TarInfo._proc_member`, `_proc_sparse` and `_proc_gnusparse_10` (`TarInfoHooks`): where
  tarfile reads a member's extended header (PAX, GNU long name) or sparse map whole, whatever
  size it declares; the hooks see the header's size before that, and the archive's global PAX
  headers after.
- `tarfile.InvalidHeaderError` and `tarfile.TruncatedHeaderError` (not in `tarfile.__all__`): what
  `TarInfo.fromtarfile` raises for a bad header, which tarfile takes for the end of the archive
  when it is not the first; `TarInfoHooks.bad_header` says what it is instead.
"""

from __future__ import annotations

import lzma
import struct
import tarfile
import zipfile
from collections.abc import Mapping
from typing import IO, Any, BinaryIO, NamedTuple, Self

# The private names of `zipfile` and `lzma`, absent from their stubs.
_zipfile: Any = zipfile
_lzma: Any = lzma

CENTRAL_DIRECTORY_SIGNATURE: bytes = _zipfile.stringCentralDir


class EndRecord(NamedTuple):
    """What a zip's end-of-central-directory record (zip64 or not) says of its central directory."""

    entries: int  # entries listed, in all
    size: int  # the directory's size in bytes
    offset: int  # where it starts, as the record says: bytes prepended to the zip not counted
    prepended: int  # bytes before the zip in the file (a self-extracting stub): add them to an offset


def end_record(raw: BinaryIO) -> EndRecord | None:
    """The end record of the zip in `raw`, found as `ZipFile` finds it; None when `raw` is not a zip."""
    end = _zipfile._EndRecData(raw)
    if end is None:
        return None
    size, offset = end[_zipfile._ECD_SIZE], end[_zipfile._ECD_OFFSET]
    prepended = end[_zipfile._ECD_LOCATION] - size - offset  # the classic record's place, even in a zip64
    if end[_zipfile._ECD_SIGNATURE] == _zipfile.stringEndArchive64:
        prepended -= _zipfile.sizeEndCentDir64 + _zipfile.sizeEndCentDir64Locator
    return EndRecord(end[_zipfile._ECD_ENTRIES_TOTAL], size, offset, prepended)


class ZipLzma(_zipfile.LZMADecompressor):  # private to zipfile: typed `Any` here
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
            properties = _lzma._decode_filter_properties(lzma.FILTER_LZMA1, header)
            self._decomp = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[properties])
            data = self._unconsumed[4 + psize :]
            del self._unconsumed
        result: bytes = self._decomp.decompress(data, max_length)
        self.eof = self._decomp.eof
        return result


def replace_decompressor(stream: IO[bytes], decompressor: Any) -> None:
    """Make the zip member `stream` (`ZipFile.open`'s) expand through `decompressor`: zipfile calls its
    `decompress(data)` with each compressed block and reads its `eof`."""
    if not hasattr(stream, "_decompressor"):
        raise NotImplementedError("bz2/LZMA members cannot be read with a bound on this Python")
    stream._decompressor = decompressor


class TarInfoHooks(tarfile.TarInfo):
    """A `TarInfo` whose header processing calls hooks: a subclass (the `tarinfo` of `tarfile.open`)
    says what it refuses, by raising from them."""

    @classmethod
    def fromtarfile(cls, archive: tarfile.TarFile) -> Self:
        try:
            return super().fromtarfile(archive)
        except (tarfile.InvalidHeaderError, tarfile.TruncatedHeaderError) as error:  # type: ignore[attr-defined]
            raise cls.bad_header(error) from None

    def _proc_member(self, archive: tarfile.TarFile) -> tarfile.TarInfo:
        self.before_member()
        member: tarfile.TarInfo = super()._proc_member(archive)  # type: ignore[misc]
        self.after_member(archive.pax_headers)
        return member

    def _proc_sparse(self, archive: tarfile.TarFile) -> tarfile.TarInfo:
        raise self.refuse_sparse("a GNU sparse member")

    def _proc_gnusparse_10(self, next: tarfile.TarInfo, pax_headers: dict[str, str], archive: tarfile.TarFile) -> None:
        raise self.refuse_sparse("a PAX sparse 1.0 member")

    @classmethod
    def bad_header(cls, error: tarfile.HeaderError) -> Exception:
        """What to raise for a header that is not one (bad checksum, truncated) instead of ending the archive."""
        return error

    def before_member(self) -> None:
        """Before tarfile reads what this header announces: an extended header's block, `self.size` bytes."""

    def after_member(self, pax_headers: Mapping[str, str]) -> None:
        """After the member is read, with the archive's global PAX headers so far."""

    def refuse_sparse(self, what: str) -> Exception:
        """What to raise for a sparse member, whose map tarfile would otherwise read whole."""
        return tarfile.HeaderError(f"{what} (its map is unbounded)")
