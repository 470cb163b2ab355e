"""Hostile archives of about 300 KB: the reading process's peak memory stays bounded, and bad members are recorded."""

from __future__ import annotations

import bz2
import io
import json
import lzma
import os
import subprocess
import sys
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from service.charsets import text_codec
from service.jobs.decode import decode_bytes
from service.jobs.documents import load_document
from service.jobs.limits import Limits
from service.jobs.readers import count_entries, read_archive
from service.jobs.reasons import Reason

ROOT = Path(__file__).resolve().parents[2]
ARTICLE = b"Le conseil vote le budget.\n\nLes \xc3\xa9lus ont d\xc3\xa9battu toute la soir\xc3\xa9e.\n"
MB = 1 << 20
BOUND = 100 * MB

# Reads the archive through `read_archive` (what the runner and the Ray reader call) in a fresh
# process and reports how far its peak resident memory rose above the baseline after imports.
_MEASURE = """
import json, sys
from pathlib import Path
import tarfile, zipfile, gzip, bz2, lzma, warcio.archiveiterator, warcio.bufferedreaders
from service.jobs.readers import read_archive

def peak():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))

base = peak()
found = [(entry.name, entry.skip, len(entry.data)) for entry in read_archive(Path(sys.argv[1]))]
print(json.dumps({"grew": peak() - base, "entries": found[:20], "count": len(found)}))
"""


def measured(path: Path) -> dict:
    command = [sys.executable, "-c", _MEASURE, str(path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def compressed(kind: str, parts: Iterable[bytes]) -> bytes:
    """`parts` through gzip, bz2 or xz, a chunk at a time (the expanded stream is never held whole)."""
    maker = {
        "gz": lambda: zlib.compressobj(9, zlib.DEFLATED, 31),
        "bz2": lambda: bz2.BZ2Compressor(9),
        "xz": lambda: lzma.LZMACompressor(preset=1),
    }
    compressor = maker[kind]()
    out = [compressor.compress(part) for part in parts]
    return b"".join(out) + compressor.flush()


def repeated(head: bytes, unit: bytes, total: int, tail: bytes = b"") -> Iterable[bytes]:
    yield head
    block = unit * max(1, MB // len(unit))
    for _ in range(total // len(block)):
        yield block
    yield tail


def tar_header(name: str, size: int, kind: bytes) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.type = size, kind
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def warc_head(extra: bytes = b"") -> bytes:
    return b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://exemple.fr/\r\n" + extra


def zip_liar(path: Path, method: int, data: bytes, declared: int) -> None:
    """A zip whose single member declares `declared` bytes but expands to `data`."""
    with zipfile.ZipFile(path, "w", method) as archive:
        archive.writestr("bomb.txt", data)
        archive.writestr("next.txt", ARTICLE)
    raw = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = raw.find(signature)
        raw[at + offset : at + offset + 4] = declared.to_bytes(4, "little")
    path.write_bytes(bytes(raw))


Shape = Callable[[Path], Path]


def warc_huge_line(tmp: Path) -> Path:
    path = tmp / "line.warc.gz"
    path.write_bytes(compressed("gz", repeated(warc_head(b"X-Big: "), b"a", 300 * MB)))
    return path


def warc_huge_line_plain(tmp: Path) -> Path:
    path = tmp / "line.warc"
    path.write_bytes(warc_head(b"X-Big: ") + b"a" * 300_000)
    return path


def warc_header_count(tmp: Path) -> Path:
    path = tmp / "count.warc.gz"
    path.write_bytes(compressed("gz", repeated(warc_head(), b"X: y\r\n", 200 * MB)))
    return path


def warc_folded_header(tmp: Path) -> Path:
    path = tmp / "folded.warc.gz"
    path.write_bytes(compressed("gz", repeated(warc_head(b"X: a\r\n"), b" b\r\n", 200 * MB)))
    return path


def warc_blank_lines(tmp: Path) -> Path:
    path = tmp / "blank.warc.gz"
    path.write_bytes(compressed("gz", repeated(b"", b"\r\n", 200 * MB)))
    return path


def tar_pax_header(tmp: Path) -> Path:
    path = tmp / "pax.tar.gz"
    path.write_bytes(compressed("gz", repeated(tar_header("pax", 300 * MB, tarfile.XHDTYPE), b"\0", 300 * MB)))
    return path


def tar_global_pax_header(tmp: Path) -> Path:
    path = tmp / "global.tar.gz"
    path.write_bytes(compressed("gz", repeated(tar_header("pax", 300 * MB, tarfile.XGLTYPE), b"\0", 300 * MB)))
    return path


def tar_gnu_longname(tmp: Path) -> Path:
    path = tmp / "longname.tar.gz"
    header = tar_header("././@LongLink", 300 * MB, tarfile.GNUTYPE_LONGNAME)
    path.write_bytes(compressed("gz", repeated(header, b"a", 300 * MB)))
    return path


def tar_gz_bomb(tmp: Path) -> Path:
    path = tmp / "bomb.tar.gz"
    path.write_bytes(compressed("gz", repeated(tar_header("bomb.txt", 300 * MB, tarfile.REGTYPE), b" ", 300 * MB)))
    return path


def tar_bz2_bomb(tmp: Path) -> Path:
    path = tmp / "bomb.tar.bz2"
    path.write_bytes(compressed("bz2", repeated(tar_header("bomb.txt", 1 << 30, tarfile.REGTYPE), b"\0", 200 * MB)))
    return path


def tar_xz_bomb(tmp: Path) -> Path:
    path = tmp / "bomb.tar.xz"
    path.write_bytes(compressed("xz", repeated(tar_header("bomb.txt", 15 * MB, tarfile.REGTYPE), b" ", 80 * MB)))
    return path


def jsonl_huge_line(tmp: Path) -> Path:
    path = tmp / "line.jsonl"
    good = json.dumps({"id": "ok", "text": ARTICLE.decode()}).encode()
    path.write_bytes(b"[" * 150_000 + b"{}," * 50_000 + b"\n" + good + b"\n")
    return path


def zip_bz2_member(tmp: Path) -> Path:
    path = tmp / "bz2.zip"
    zip_liar(path, zipfile.ZIP_BZIP2, b"\0" * (300 * MB), 1000)
    return path


def zip_lzma_member(tmp: Path) -> Path:
    path = tmp / "lzma.zip"
    zip_liar(path, zipfile.ZIP_LZMA, b"\0" * (300 * MB), 1000)
    return path


def zip_many_members(tmp: Path) -> Path:
    path = tmp / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(4_000):
            archive.writestr(f"{i}.txt", b"")
    return path


SHAPES = [
    warc_huge_line,
    warc_huge_line_plain,
    warc_header_count,
    warc_folded_header,
    warc_blank_lines,
    tar_pax_header,
    tar_global_pax_header,
    tar_gnu_longname,
    tar_gz_bomb,
    tar_bz2_bomb,
    tar_xz_bomb,
    jsonl_huge_line,
    zip_bz2_member,
    zip_lzma_member,
    zip_many_members,
]


@pytest.mark.parametrize("shape", SHAPES, ids=[shape.__name__ for shape in SHAPES])
def test_hostile_archive_reads_in_bounded_memory(tmp_path: Path, shape: Shape) -> None:
    path = shape(tmp_path)
    assert path.stat().st_size < 400_000, "a small upload"
    result = measured(path)
    assert result["grew"] < BOUND, f"peak memory grew by {result['grew'] / MB:.0f} MB"


def test_directory_of_many_files_reads_in_bounded_memory(tmp_path: Path) -> None:
    root = tmp_path / "many"
    root.mkdir()
    for i in range(3_000):
        (root / f"{i:05}.txt").write_bytes(b"")
    assert measured(root)["grew"] < BOUND
    found = list(read_archive(root, Limits(max_entries=1_000)))
    assert len(found) <= 1_001 and found[-1].skip == Reason.TOO_MANY_ENTRIES


# --- what each hostile shape is recorded as ------------------------------------------------

HEADER_SHAPES = [warc_huge_line, warc_header_count, warc_folded_header, tar_pax_header, tar_gnu_longname]


def reasons(path: Path, caps: Limits = Limits()) -> list[str | None]:
    return [entry.skip for entry in read_archive(path, caps)]


@pytest.mark.parametrize("shape", HEADER_SHAPES)
def test_huge_headers_end_the_archive_with_a_reason(tmp_path: Path, shape: Shape) -> None:
    assert reasons(shape(tmp_path)) == [Reason.HEADER_TOO_LARGE]


def test_tar_bombs_are_refused_by_size_or_ratio(tmp_path: Path) -> None:
    assert reasons(tar_bz2_bomb(tmp_path)) == [Reason.MEMBER_TOO_LARGE, Reason.COMPRESSION_RATIO]
    assert reasons(tar_gz_bomb(tmp_path)) == [Reason.MEMBER_TOO_LARGE, Reason.COMPRESSION_RATIO]
    assert reasons(tar_xz_bomb(tmp_path), Limits(stream_ratio_floor_bytes=10 * MB)) == [Reason.COMPRESSION_RATIO]


def test_zip_members_that_expand_past_their_declared_size_are_unreadable(tmp_path: Path) -> None:
    for shape in (zip_bz2_member, zip_lzma_member):
        assert reasons(shape(tmp_path)) == [Reason.UNREADABLE, None]


def test_zip_bz2_and_lzma_members_still_read(tmp_path: Path) -> None:
    for method in (zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        path = tmp_path / f"{method}.zip"
        with zipfile.ZipFile(path, "w", method) as archive:
            archive.writestr("a.txt", ARTICLE * 3000)
            archive.writestr("b.txt", ARTICLE)
        assert [(e.name, e.data) for e in read_archive(path)] == [("a.txt", ARTICLE * 3000), ("b.txt", ARTICLE)]


# --- one bad member never fails the batch ---------------------------------------------------


def test_encrypted_zip_member_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "secret.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("secret.txt", ARTICLE)
        archive.writestr("after.txt", ARTICLE)
    raw = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # set the encryption flag of the first member
        at = raw.find(signature)
        raw[at + offset] |= 0x1
    path.write_bytes(bytes(raw))
    assert reasons(path) == [Reason.ENCRYPTED, None]


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_corrupt_zip_member_is_unreadable_and_the_next_read(tmp_path: Path, method: int) -> None:
    path = tmp_path / "corrupt.zip"
    body = os.urandom(2_000).hex().encode()
    with zipfile.ZipFile(path, "w", method) as archive:
        archive.writestr("bad.txt", body)
        archive.writestr("after.txt", ARTICLE)
    raw = bytearray(path.read_bytes())
    start = raw.find(b"PK\x03\x04") + 30 + len("bad.txt") + 20  # inside the compressed data
    raw[start : start + 200] = os.urandom(200)
    path.write_bytes(bytes(raw))
    assert reasons(path) == [Reason.UNREADABLE, None]


@pytest.mark.parametrize("kind", ["gz", "bz2", "xz"])
def test_corrupt_compressed_tar_stream_keeps_what_was_read(tmp_path: Path, kind: str) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for i, data in enumerate((ARTICLE, os.urandom(1_500_000).hex().encode(), ARTICLE)):  # bz2 blocks are 900 kB
            info = tarfile.TarInfo(f"{i}.txt")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    packed = bytearray(compressed(kind, [buffer.getvalue()]))
    middle = len(packed) * 3 // 4
    packed[middle : middle + 64] = bytes(64)
    path = tmp_path / f"a.tar.{kind}"
    path.write_bytes(bytes(packed))
    found = list(read_archive(path))
    assert found[0].skip is None and found[0].data == ARTICLE
    assert found[-1].skip == Reason.UNREADABLE
    assert len({entry.name for entry in found}) == len(found)


def test_truncated_tar_keeps_what_was_read(tmp_path: Path) -> None:
    path = tmp_path / "cut.tar"
    with tarfile.open(path, "w") as archive:
        for i in range(3):
            info = tarfile.TarInfo(f"{i}.txt")
            info.size = 5_000
            archive.addfile(info, io.BytesIO(b"x" * 5_000))
    path.write_bytes(path.read_bytes()[:8_000])  # the second member's data is cut
    assert reasons(path) == [None, Reason.UNREADABLE, Reason.UNREADABLE]  # the cut member, then the rest


def test_corrupt_warc_gz_record_keeps_what_was_read(tmp_path: Path) -> None:
    html = b"<html><body><p>Le conseil vote le budget de la ville.</p></body></html>"
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (len(html), html)
    envelope = b"Content-Type: application/http; msgtype=response\r\nContent-Length: %d\r\n\r\n" % len(http)
    record = warc_head(envelope) + http + b"\r\n\r\n"
    path = tmp_path / "cut.warc.gz"
    import gzip

    bad = bytearray(gzip.compress(record))
    bad[20:40] = bytes(20)
    path.write_bytes(gzip.compress(record) + bytes(bad))
    found = list(read_archive(path))
    assert [entry.skip for entry in found] == [None, Reason.UNREADABLE]


def test_deeply_nested_jsonl_line_is_one_failed_document(tmp_path: Path) -> None:
    path = jsonl_huge_line(tmp_path)
    found = list(read_archive(path))
    assert [entry.name for entry in found] == ["line.jsonl#1", "line.jsonl#ok"]
    with pytest.raises(Exception) as error:
        load_document(found[0])
    assert getattr(error.value, "code", None) == Reason.INVALID_JSON
    assert load_document(found[1]).document.blocks


# --- many entries ---------------------------------------------------------------------------


def test_entry_cap_ends_each_kind_of_archive(tmp_path: Path) -> None:
    caps = Limits(max_entries=1_000)
    tar_path = tmp_path / "many.tar.gz"
    with tarfile.open(tar_path, "w:gz") as archive:
        for i in range(5_000):
            archive.addfile(tarfile.TarInfo(f"{i}.txt"), io.BytesIO(b""))
    jsonl_path = tmp_path / "many.jsonl"
    jsonl_path.write_bytes(b'{"text": "Une phrase."}\n' * 5_000)
    for path in (tar_path, jsonl_path, zip_many_members(tmp_path)):
        found = reasons(path, caps)
        assert found[-1] == Reason.TOO_MANY_ENTRIES and len(found) <= 1_001, path.name
        assert count_entries(path, caps) == len(found), path.name


def test_count_entries_matches_what_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.tar.xz"
    with tarfile.open(path, "w:xz") as archive:
        for i in range(7):
            info = tarfile.TarInfo(f"{i}.txt")
            info.size = len(ARTICLE)
            archive.addfile(info, io.BytesIO(ARTICLE))
    assert count_entries(path) == len(list(read_archive(path))) == 7


# --- charsets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "label,codec",
    [
        ("utf-8", "utf-8"),
        ("UTF8", "utf-8"),
        ('"ISO-8859-1"', "iso8859-1"),
        ("latin1", "iso8859-1"),
        ("windows-1252", "cp1252"),
        ("iso-8859-15", "iso8859-15"),
        ("utf-16le", "utf-16-le"),
        ("utf-16be", "utf-16-be"),
        ("utf-32", "utf-32"),
        ("us-ascii", "ascii"),
        ("koi8-r", "koi8-r"),
        ("koi8-u", "koi8-u"),
        ("x-mac-roman", "mac-roman"),
        ("gb18030", "gb18030"),
        ("gbk", "gbk"),
        ("big5", "big5"),
        ("shift_jis", "shift_jis"),
        ("euc-jp", "euc_jp"),
        ("euc-kr", "euc_kr"),
        ("iso-2022-jp", "iso2022_jp"),
        ("windows-874", "cp874"),
        ("ibm866", "cp866"),
    ],
)
def test_text_charsets_map_to_their_codec(label: str, codec: str) -> None:
    assert text_codec(label) == codec


NOT_TEXT = ["punycode", "rot13", "rot_13", "hex", "zlib", "base64", "bz2", "uu", "utf-7", "idna", "undefined"]
NOT_TEXT += ["", "x" * 60, "utf 8;", "../utf-8"]


@pytest.mark.parametrize("label", NOT_TEXT)
def test_non_text_charsets_are_refused(label: str) -> None:
    assert text_codec(label) is None


def test_declared_non_text_charset_is_never_used_to_decode() -> None:
    data = "Le café coûte très cher à Noël.".encode("cp1252")
    for label in ("punycode", "rot13", "hex", "zlib"):
        text, encoding = decode_bytes(data, label)
        assert encoding not in (label, "rot-13") and "café" in text
