"""The private CPython API the archive readers rely on (`service/jobs/readers/cpython.py`), checked on this Python.

Each test checks one use: that the name exists and behaves as the readers rely on. When a Python
release changes or removes one, the test fails with the Python version and what changed, instead of
hostile archives being read without their bounds (or not at all) on that version.
"""

from __future__ import annotations

import bz2
import inspect
import io
import lzma
import platform
import struct
import tarfile
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest

from service.jobs.readers import cpython
from service.jobs.readers.cpython import EndRecord, TarInfoHooks, ZipLzma, end_record, replace_decompressor
from service.jobs.readers.zips import open_zip_member

TEXT = "Le conseil vote le budget. Les élus ont débattu toute la soirée.\n".encode() * 50
PREFIX = b"#!/bin/sh\nexit 0\n" * 4  # bytes before the zip, as in a self-extracting archive


@contextmanager
def relied_on(what: str) -> Iterator[None]:
    """Fail, naming this Python and `what` changed, when the block finds CPython other than the readers expect."""
    try:
        yield
    except (Exception, pytest.fail.Exception) as error:  # an assertion, a name gone, a call refused, a raise missing
        found = f"{type(error).__name__}: {error}"
    else:
        return
    pytest.fail(
        f"Python {platform.python_version()} ({platform.python_implementation()}) changed {what}, which"
        f" service/jobs/readers/cpython.py relies on; adapt it there. {found}",
        pytrace=False,
    )


def small_zip(method: int = zipfile.ZIP_DEFLATED, prefix: bytes = b"") -> bytes:
    """Three members (one a directory), behind `prefix`."""
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", method) as archive:
        archive.writestr("a.txt", TEXT)
        archive.writestr("d/", b"")
        archive.writestr("d/b.txt", TEXT[:100])
    return prefix + raw.getvalue()


def directory_of(data: bytes) -> tuple[int, int]:
    """Where a small zip's central directory starts in `data`, and its size, found by signature."""
    start, end = data.find(b"PK\x01\x02"), data.rfind(b"PK\x05\x06")
    return start, end - start


def as_zip64(data: bytes, prefix: int) -> bytes:
    """`data` with its end record replaced by a zip64 one, its locator, and a classic record that defers to them."""
    start, size = directory_of(data)
    entries = 3
    head = data[: start + size]
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, size, start - prefix)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, len(head) - prefix, 1)
    classic = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return head + record + locator + classic


# --- zipfile's end record ------------------------------------------------------------------


@pytest.mark.parametrize("zip64", [False, True], ids=["classic", "zip64"])
def test_end_record_data_has_the_layout_used(zip64: bool) -> None:
    data = small_zip(prefix=PREFIX)
    start, size = directory_of(data)
    if zip64:
        data = as_zip64(data, len(PREFIX))
    with relied_on("zipfile.ZipFile's reading of this hand-made zip64 end record" if zip64 else "zipfile.ZipFile"):
        assert zipfile.ZipFile(io.BytesIO(data)).namelist() == ["a.txt", "d/", "d/b.txt"]
    with relied_on("zipfile._EndRecData or its _ECD_* indices"):
        end = zipfile._EndRecData(io.BytesIO(data))  # type: ignore[attr-defined]
        assert end[zipfile._ECD_ENTRIES_TOTAL] == 3  # type: ignore[attr-defined]
        assert end[zipfile._ECD_SIZE] == size  # type: ignore[attr-defined]
        assert end[zipfile._ECD_OFFSET] == start - len(PREFIX)  # type: ignore[attr-defined]
        assert end[zipfile._ECD_LOCATION] == len(data) - 22  # type: ignore[attr-defined]  # the classic record's place
        signature = zipfile.stringEndArchive64 if zip64 else zipfile.stringEndArchive  # type: ignore[attr-defined]
        assert end[zipfile._ECD_SIGNATURE] == signature  # type: ignore[attr-defined]
    with relied_on("zipfile.sizeEndCentDir64 or sizeEndCentDir64Locator"):
        assert end_record(io.BytesIO(data)) == EndRecord(
            entries=3, size=size, offset=start - len(PREFIX), prepended=len(PREFIX)
        )


def test_end_record_data_says_none_for_what_is_not_a_zip() -> None:
    with relied_on("zipfile._EndRecData on a file with no end record"):
        assert end_record(io.BytesIO(b"not a zip at all" * 10)) is None


def test_the_central_directory_signature() -> None:
    data = small_zip()
    with relied_on("zipfile.stringCentralDir"):
        assert cpython.CENTRAL_DIRECTORY_SIGNATURE == b"PK\x01\x02"
        assert data[directory_of(data)[0] :].startswith(cpython.CENTRAL_DIRECTORY_SIGNATURE)


# --- zipfile's LZMA decompressor and lzma's filter properties ---------------------------------


def lzma_member() -> bytes:
    """The compressed bytes of a real ZIP_LZMA member: zipfile's own LZMA1 properties header, then raw LZMA1."""
    data = small_zip(zipfile.ZIP_LZMA)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("a.txt")
    name_size, extra_size = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_size + extra_size
    return data[start : start + info.compress_size]


def test_zip_lzma_decompressor_starts_as_the_subclass_expects() -> None:
    with relied_on("zipfile.LZMADecompressor (its _decomp, _unconsumed and eof)"):
        assert inspect.isclass(zipfile.LZMADecompressor)  # type: ignore[attr-defined]
        fresh = zipfile.LZMADecompressor()  # type: ignore[attr-defined]
        assert (fresh._decomp, fresh._unconsumed, fresh.eof) == (None, b"", False)
        assert issubclass(ZipLzma, zipfile.LZMADecompressor)  # type: ignore[attr-defined]


def test_lzma_decodes_a_zip_members_lzma1_header() -> None:
    member = lzma_member()
    (size,) = struct.unpack_from("<H", member, 2)
    with relied_on("lzma._decode_filter_properties"):
        properties = lzma._decode_filter_properties(lzma.FILTER_LZMA1, member[4 : 4 + size])  # type: ignore[attr-defined]
        assert properties["id"] == lzma.FILTER_LZMA1 and properties["dict_size"] > 0
        raw = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[properties])
        assert raw.decompress(member[4 + size :]) == TEXT


def test_zip_lzma_takes_a_max_length() -> None:
    with relied_on("zipfile.LZMADecompressor's reading of the LZMA1 header"):
        decompressor, out = ZipLzma(), []
        out.append(decompressor.decompress(lzma_member(), 100))
        while not decompressor.eof:
            out.append(decompressor.decompress(b"", 100))
        assert max(map(len, out)) <= 100 and b"".join(out) == TEXT


# --- the zip member stream's decompressor --------------------------------------------------


class Recording:
    """Wraps a member's decompressor: records how zipfile calls it."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.calls = inner, []

    def decompress(self, *args: Any, **kwargs: Any) -> bytes:
        self.calls.append((len(args), sorted(kwargs)))
        data: bytes = self.inner.decompress(*args, **kwargs)
        return data

    @property
    def eof(self) -> bool:
        return bool(self.inner.eof)


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA], ids=["bz2", "lzma"])
def test_zip_member_streams_decompress_through_their_decompressor(method: int) -> None:
    archive = zipfile.ZipFile(io.BytesIO(small_zip(method)))
    with relied_on("the zip member stream's _decompressor (ZipExtFile)"):
        with archive.open("a.txt") as stream:
            assert hasattr(stream, "_decompressor")
            recording = Recording(bz2.BZ2Decompressor() if method == zipfile.ZIP_BZIP2 else ZipLzma())
            replace_decompressor(stream, recording)
            assert stream.read() == TEXT
        assert recording.calls and all(call == (1, []) for call in recording.calls)  # decompress(data), no more
    with relied_on("the zip member stream's _decompressor (ZipExtFile), as the readers replace it"):
        with open_zip_member(archive, archive.getinfo("a.txt")) as stream:
            assert stream.read() == TEXT


# --- tarfile's header processing -----------------------------------------------------------


class Seen(Exception):
    """What a recording `TarInfoHooks` raises, to show which hook ran."""


class Recorder(TarInfoHooks):
    before: list[tuple[bytes, int]] = []
    after: list[dict[str, str]] = []

    @classmethod
    def bad_header(cls, error: tarfile.HeaderError) -> Exception:
        return Seen(f"bad header: {type(error).__name__}")

    def before_member(self) -> None:
        self.before.append((self.type, self.size))

    def after_member(self, pax_headers: Mapping[str, str]) -> None:
        self.after.append(dict(pax_headers))

    def refuse_sparse(self, what: str) -> Exception:
        return Seen(what)


def read_with_hooks(data: bytes) -> list[str]:
    Recorder.before, Recorder.after = [], []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r|", tarinfo=Recorder) as archive:
        return [member.name for member in archive]


def tar_of(*members: tarfile.TarInfo, format: int = tarfile.PAX_FORMAT, **options: Any) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=format, **options) as archive:
        for member in members:
            archive.addfile(member, io.BytesIO(b"x" * member.size))
    return raw.getvalue()


def test_tarinfo_private_steps_are_still_methods() -> None:
    for name in ("_proc_member", "_proc_sparse", "_proc_gnusparse_10"):
        with relied_on(f"tarfile.TarInfo.{name}"):
            assert inspect.isfunction(getattr(tarfile.TarInfo, name))
    for name in ("bad_header", "before_member", "after_member", "refuse_sparse"):
        with relied_on(f"tarfile.TarInfo (it now has a {name!r} of its own, the name of a TarInfoHooks hook)"):
            assert not hasattr(tarfile.TarInfo, name)


def test_proc_member_sees_an_extended_header_before_it_is_read_and_the_global_headers_after() -> None:
    long_name = "dossier/" + "n" * 200 + ".txt"
    member = tarfile.TarInfo(long_name)
    member.size = 3
    data = tar_of(member, pax_headers={"comment": "global"})
    with relied_on("tarfile.TarInfo._proc_member (PAX headers)"):
        assert read_with_hooks(data) == [long_name]
        kinds = [kind for kind, _ in Recorder.before]
        assert kinds[:2] == [tarfile.XGLTYPE, tarfile.XHDTYPE] and all(size > 0 for _, size in Recorder.before[:2])
        assert {"comment": "global"} in Recorder.after
    gnu = tar_of(member, format=tarfile.GNU_FORMAT)
    with relied_on("tarfile.TarInfo._proc_member (GNU long names)"):
        assert read_with_hooks(gnu) == [long_name]
        assert Recorder.before[0] == (tarfile.GNUTYPE_LONGNAME, len(long_name) + 1)


def test_sparse_members_reach_their_private_steps() -> None:
    sparse = tarfile.TarInfo("gnu-sparse.txt")
    sparse.type = tarfile.GNUTYPE_SPARSE
    with relied_on("tarfile.TarInfo._proc_sparse"), pytest.raises(Seen, match="a GNU sparse member"):
        read_with_hooks(sparse.tobuf(format=tarfile.GNU_FORMAT) + b"\0" * 1024)
    pax_sparse = tarfile.TarInfo("pax-sparse.txt")
    pax_sparse.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.realsize": "10"}
    with relied_on("tarfile.TarInfo._proc_gnusparse_10"), pytest.raises(Seen, match="a PAX sparse 1.0 member"):
        read_with_hooks(tar_of(pax_sparse))


@pytest.mark.parametrize(
    "tail,error",
    [(b"\x01" * 512, "InvalidHeaderError"), (b"\x01" * 100, "TruncatedHeaderError")],
    ids=["bad-checksum", "truncated"],
)
def test_a_bad_header_after_the_first_raises_what_fromtarfile_catches(tail: bytes, error: str) -> None:
    member = tarfile.TarInfo("a.txt")
    member.size = 3
    data = tar_of(member, format=tarfile.USTAR_FORMAT)
    data = data[:1024] + tail  # the member (header and its block), then a header that is not one
    with relied_on(f"tarfile.{error}, as TarInfo.fromtarfile raises it"):
        assert issubclass(getattr(tarfile, error), tarfile.HeaderError)
        with pytest.raises(Seen, match=f"bad header: {error}"):
            read_with_hooks(data)
