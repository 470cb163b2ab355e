"""Archive readers: every input format, encodings, and hostile archives skipped with their reasons."""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from service.jobs.decode import DocumentError, decode_bytes
from service.jobs.documents import document_id, load_document
from service.jobs.limits import Limits
from service.jobs.readers import ArchiveError, Entry, read_archive
from service.jobs.reasons import Reason

ARTICLE = "Le conseil vote le budget\n\nLes élus ont débattu toute la soirée. Le maire a défendu son projet.\n"
HTML = (
    "<html><head><title>Le budget voté</title></head><body><article><h1>Le budget voté</h1>"
    + "".join(
        f"<p>Les élus ont débattu du budget pendant la séance numéro {i}, tard dans la soirée du jeudi.</p>"
        for i in range(6)
    )
    + "</article></body></html>"
)
SMALL = Limits(max_member_bytes=50_000, max_total_bytes=400_000, max_ratio=20, ratio_floor_bytes=10_000)


def entries(path: Path, caps: Limits = Limits()) -> dict[str, Entry]:
    found = list(read_archive(path, caps))
    assert len({e.name for e in found}) == len(found), "every member is reported once"
    return {entry.name: entry for entry in found}


def reasons(path: Path, caps: Limits = Limits()) -> dict[str, str | None]:
    return {name: entry.skip for name, entry in entries(path, caps).items()}


# --- every format --------------------------------------------------------------------------


def test_directory_is_read_recursively_with_formats_from_extensions(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "one.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "a" / "two.md").write_text("# Titre\n\n" + ARTICLE, encoding="utf-8")
    (tmp_path / "a" / "b" / "three.html").write_text(HTML, encoding="utf-8")
    (tmp_path / "a" / "four.json").write_text(
        json.dumps({"title": "Un titre", "paragraphs": ["Un paragraphe."]}), encoding="utf-8"
    )
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    found = entries(tmp_path)
    assert {name: e.format for name, e in found.items() if e.skip is None} == {
        "one.txt": "auto",
        "a/two.md": "markdown",
        "a/b/three.html": "html",
        "a/four.json": "json",
    }
    assert found["photo.jpg"].skip == Reason.UNSUPPORTED_TYPE
    assert found["one.txt"].data == ARTICLE.encode()
    for name in ("one.txt", "a/two.md", "a/b/three.html", "a/four.json"):
        assert load_document(found[name]).document.blocks, name


def test_zip_members_are_read_in_order(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("dir/", "")
        archive.writestr("dir/1.txt", ARTICLE)
        archive.writestr("2.md", "# Titre\n\n" + ARTICLE)
    found = list(read_archive(path))
    assert [(e.name, e.data.decode(), e.skip) for e in found] == [
        ("dir/1.txt", ARTICLE, None),
        ("2.md", "# Titre\n\n" + ARTICLE, None),
    ]


@pytest.mark.parametrize(
    "suffix,mode", [(".tar", "w"), (".tar.gz", "w:gz"), (".tgz", "w:gz"), (".tar.bz2", "w:bz2"), (".tar.xz", "w:xz")]
)
def test_tar_in_every_compression(tmp_path: Path, suffix: str, mode: str) -> None:
    path = tmp_path / f"a{suffix}"
    with tarfile.open(path, mode) as archive:
        for name, text in (("x/1.txt", ARTICLE), ("x/2.html", HTML)):
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            archive.addfile(info, io.BytesIO(text.encode()))
    found = entries(path)
    assert found["x/1.txt"].data == ARTICLE.encode() and found["x/2.html"].format == "html"


def test_jsonl_text_and_structured_lines_named_by_id(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    lines = [
        {"id": "a-1", "text": ARTICLE},
        {"id": 7, "title": "Un titre", "source": "AFP", "paragraphs": ["Un paragraphe ici."]},
        {"text": "Sans identifiant. Une phrase."},
    ]
    path.write_text(
        "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n\nnot json\n", encoding="utf-8"
    )
    found = entries(path)
    assert list(found) == ["feed.jsonl#a-1", "feed.jsonl#7", "feed.jsonl#3", "feed.jsonl#5"]
    assert [b.text for b in load_document(found["feed.jsonl#7"]).document.blocks] == [
        "Un titre",
        "AFP",
        "Un paragraphe ici.",
    ]
    assert load_document(found["feed.jsonl#a-1"]).document.blocks[0].text == "Le conseil vote le budget"
    with pytest.raises(DocumentError) as error:
        load_document(found["feed.jsonl#5"])
    assert error.value.code == Reason.INVALID_JSON


def _warc_record(kind: str, uri: str, block: bytes, content_type: str) -> bytes:
    head = (
        f"WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {uri}\r\nWARC-Record-ID: "
        f"<urn:uuid:{abs(hash((kind, uri))):032x}>\r\n"
        f"WARC-Date: 2025-01-01T00:00:00Z\r\nContent-Type: {content_type}\r\nContent-Length: {len(block)}\r\n\r\n"
    )
    return head.encode() + block + b"\r\n\r\n"


def _warc(path: Path, gzip: bool) -> None:
    """A small web archive written by hand (WARC 1.0): two responses and a request."""
    import gzip as gz

    def response(uri: str, content_type: str, body: bytes) -> bytes:
        http = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
        return _warc_record("response", uri, http, "application/http; msgtype=response")

    records = [
        response("https://exemple.fr/budget", "text/html; charset=iso-8859-1", HTML.encode("latin-1")),
        response("https://exemple.fr/logo.png", "image/png", b"\x89PNG"),
        _warc_record(
            "request", "https://exemple.fr/budget", b"GET /budget HTTP/1.1\r\n\r\n", "application/http; msgtype=request"
        ),
    ]
    path.write_bytes(b"".join(gz.compress(record) if gzip else record for record in records))


@pytest.mark.parametrize("name,gzip", [("site.warc", False), ("site.warc.gz", True)])
def test_warc_html_responses_become_articles(tmp_path: Path, name: str, gzip: bool) -> None:
    path = tmp_path / name
    _warc(path, gzip)
    found = entries(path)
    assert list(found) == [
        "https://exemple.fr/budget",
        "https://exemple.fr/logo.png",
    ]  # the request record is no document
    page = found["https://exemple.fr/budget"]
    assert (page.format, page.charset) == ("html", "iso-8859-1")
    loaded = load_document(page)
    assert loaded.encoding == "iso8859-1"
    assert "Les élus ont débattu du budget" in " ".join(b.text for b in loaded.document.blocks)
    assert found["https://exemple.fr/logo.png"].skip == Reason.UNSUPPORTED_TYPE


def test_unknown_or_missing_archive_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="no such file"):
        list(read_archive(tmp_path / "nope.zip"))
    (tmp_path / "a.rar").write_bytes(b"Rar!")
    with pytest.raises(ArchiveError, match="not a supported archive"):
        list(read_archive(tmp_path / "a.rar"))
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ArchiveError, match="corrupt"):
        list(read_archive(tmp_path / "bad.zip"))


def test_a_lone_document_in_its_own_format_is_an_archive_of_one(tmp_path: Path) -> None:
    from service import formats
    from service.jobs.readers import archive_kind, count_entries, document_suffixes

    film = tmp_path / "Film.SRT"
    film.write_bytes(b"1\n00:00:01,000 --> 00:00:02,000\nBonjour.\n")
    assert archive_kind(film) == "document"
    assert list(read_archive(film)) == [Entry("Film.SRT", film.read_bytes(), "srt")]
    assert count_entries(film) == 1
    assert set(document_suffixes()) == {s for s, name in formats.SUFFIXES.items() if name in formats.supported()}
    big = tmp_path / "big.srt"
    big.write_bytes(b"x" * 200)
    (refused,) = read_archive(big, Limits(max_member_bytes=100))
    assert (refused.name, refused.skip, refused.data) == ("big.srt", Reason.MEMBER_TOO_LARGE, b"")
    (tmp_path / "note.txt").write_text("Bonjour.")
    with pytest.raises(ArchiveError, match=r"a single .*\.srt"):  # a lone text file is not a job: the page reads it
        archive_kind(tmp_path / "note.txt")


def test_archive_kinds_are_one_table(tmp_path: Path) -> None:
    from service.jobs.readers import ARCHIVE_SUFFIXES, KINDS, archive_kind

    assert [kind.name for kind in KINDS] == ["dir", "document", "zip", "tar", "jsonl", "warc"]
    suffixes = tuple(".zip .tar .tar.gz .tgz .tar.bz2 .tbz2 .tar.xz .txz .jsonl .warc .warc.gz".split())
    assert ARCHIVE_SUFFIXES == suffixes
    for kind in KINDS:
        for suffix in kind.suffixes:
            assert archive_kind(tmp_path / f"Corpus{suffix.upper()}") == kind.name
    assert archive_kind(tmp_path) == "dir"
    assert archive_kind(tmp_path / "book.epub") == "document"


# --- encodings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encoding,recorded", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1252", "cp1252"), ("utf-16", "utf-16")]
)
def test_encodings_are_detected_and_recorded(encoding: str, recorded: str) -> None:
    text = "L'été à Noël : où est passé le maïs ? Ça coûte très cher."
    assert decode_bytes(text.encode(encoding)) == (text, recorded)


def test_declared_charset_is_used_when_not_utf8() -> None:
    assert decode_bytes("Le café".encode("latin-1"), "iso-8859-1") == ("Le café", "iso8859-1")


@pytest.mark.parametrize(
    "data,code",
    [
        (b"", Reason.EMPTY),
        (b" \n\t ", Reason.EMPTY),
        (b"abc\x00def", Reason.BINARY),
        (bytes(range(256)) * 8, Reason.BINARY),
    ],
)
def test_empty_and_binary_content_is_refused(data: bytes, code: str) -> None:
    with pytest.raises(DocumentError) as error:
        decode_bytes(data)
    assert error.value.code in (code, Reason.UNDECODABLE)


# --- hostile archives ----------------------------------------------------------------------


def _zip_member(archive: zipfile.ZipFile, name: str, data: bytes, mode: int | None = None) -> None:
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    if mode is not None:
        info.create_system = 3
        info.external_attr = mode << 16
    archive.writestr(info, data)


def test_hostile_zip_members_are_skipped_with_reasons(tmp_path: Path) -> None:
    path = tmp_path / "hostile.zip"
    with zipfile.ZipFile(path, "w") as archive:
        _zip_member(archive, "ok.txt", ARTICLE.encode())
        _zip_member(archive, "../../etc/evil.txt", b"zip slip")
        _zip_member(archive, "/etc/passwd.txt", b"absolute")
        _zip_member(archive, "C:/windows/x.txt", b"drive")
        _zip_member(archive, "link.txt", b"/etc/passwd", stat.S_IFLNK | 0o777)
        _zip_member(archive, "fifo.txt", b"", stat.S_IFIFO | 0o644)
        _zip_member(
            archive, "big.txt", os.urandom(40_000).hex().encode()
        )  # 80 kB that barely compress: over the member cap
        _zip_member(archive, "bomb.txt", b"\x00" * 300_000)  # compresses about 1000:1
        _zip_member(archive, "latin.txt", "Le café est très bon. L'été arrive.".encode("latin-1"))
        _zip_member(archive, "garbage.txt", os.urandom(3000))
        _zip_member(archive, "empty.txt", b"")
        _zip_member(archive, "after.txt", ARTICLE.encode())
    found = entries(path, SMALL)
    assert reasons(path, SMALL) == {
        "ok.txt": None,
        "../../etc/evil.txt": Reason.PATH_TRAVERSAL,
        "/etc/passwd.txt": Reason.ABSOLUTE_PATH,
        "C:/windows/x.txt": Reason.ABSOLUTE_PATH,
        "link.txt": Reason.SYMLINK,
        "fifo.txt": Reason.DEVICE,
        "big.txt": Reason.MEMBER_TOO_LARGE,
        "bomb.txt": Reason.COMPRESSION_RATIO,
        "latin.txt": None,
        "garbage.txt": None,
        "empty.txt": None,
        "after.txt": None,  # the batch goes on after every refusal
    }
    assert load_document(found["latin.txt"]).encoding == "cp1252"
    assert "très" in load_document(found["latin.txt"]).document.blocks[0].text
    for name, code in (("garbage.txt", Reason.UNDECODABLE), ("empty.txt", Reason.EMPTY)):
        with pytest.raises(DocumentError) as error:
            load_document(found[name])
        assert error.value.code in (code, Reason.BINARY), name


def test_zip_member_whose_header_lies_is_refused_and_the_next_read(tmp_path: Path) -> None:
    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("liar.txt", b"a" * 60_000)
        archive.writestr("next.txt", ARTICLE)
    # Rewrite the declared uncompressed size (local and central headers) down to 10 bytes.
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        data[at + offset : at + offset + 4] = (10).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("liar.txt").file_size == 10
    # zipfile stops at the declared size, and its CRC check then refuses the member; the next one is read.
    assert reasons(path, SMALL) == {"liar.txt": Reason.UNREADABLE, "next.txt": None}


def _tar_add(
    archive: tarfile.TarFile, name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = ""
) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, len(data) if kind == tarfile.REGTYPE else 0
    archive.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def test_hostile_tar_members_are_skipped_with_reasons(tmp_path: Path) -> None:
    path = tmp_path / "hostile.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        _tar_add(archive, "ok.txt", ARTICLE.encode())
        _tar_add(archive, "../evil.txt", b"slip")
        _tar_add(archive, "/abs.txt", b"absolute")
        _tar_add(archive, "sym.txt", kind=tarfile.SYMTYPE, link="/etc/passwd")
        _tar_add(archive, "hard.txt", kind=tarfile.LNKTYPE, link="ok.txt")
        _tar_add(archive, "dev.txt", kind=tarfile.CHRTYPE)
        _tar_add(archive, "fifo.txt", kind=tarfile.FIFOTYPE)
        _tar_add(archive, "big.txt", os.urandom(60_000).hex().encode()[:60_000])
        _tar_add(archive, "bomb.txt", b" " * 45_000)  # under the member cap, but ~200:1
        _tar_add(archive, "after.txt", ARTICLE.encode())
    assert reasons(path, SMALL) == {
        "ok.txt": None,
        "../evil.txt": Reason.PATH_TRAVERSAL,
        "/abs.txt": Reason.ABSOLUTE_PATH,
        "sym.txt": Reason.SYMLINK,
        "hard.txt": Reason.HARDLINK,
        "dev.txt": Reason.DEVICE,
        "fifo.txt": Reason.DEVICE,
        "big.txt": Reason.MEMBER_TOO_LARGE,
        "bomb.txt": Reason.COMPRESSION_RATIO,
        "after.txt": None,
    }


def test_total_uncompressed_cap_stops_a_tar(tmp_path: Path) -> None:
    path = tmp_path / "many.tar"
    with tarfile.open(path, "w") as archive:
        for i in range(12):
            _tar_add(archive, f"{i}.txt", b"Une phrase de test. " * 2_000)  # 40 kB each, 480 kB in all
    found = list(read_archive(path, SMALL))
    assert [e.skip for e in found[:10]] == [None] * 10
    assert found[10].skip == Reason.TOTAL_TOO_LARGE and len(found) == 11  # one record says where reading stopped


def test_total_cap_in_a_zip_skips_each_member_over_it(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for i in range(12):
            archive.writestr(f"{i}.txt", b"Une phrase de test. " * 2_000)
    skips = [e.skip for e in read_archive(path, SMALL)]
    assert skips == [None] * 10 + [Reason.TOTAL_TOO_LARGE] * 2


def test_directory_symlinks_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret", encoding="utf-8")
    root = tmp_path / "root"
    root.mkdir()
    (root / "ok.txt").write_text(ARTICLE, encoding="utf-8")
    (root / "link.txt").symlink_to(outside / "secret.txt")
    (root / "linkdir").symlink_to(outside, target_is_directory=True)
    os.mkfifo(root / "pipe.txt")
    assert reasons(root) == {
        "ok.txt": None,
        "link.txt": Reason.SYMLINK,
        "linkdir": Reason.SYMLINK,
        "pipe.txt": Reason.DEVICE,
    }


def test_jsonl_line_over_the_cap_is_skipped_and_the_next_line_read(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text(
        json.dumps({"id": "big", "text": "x " * 40_000}) + "\n" + json.dumps({"id": "small", "text": ARTICLE}) + "\n",
        encoding="utf-8",
    )
    assert reasons(path, SMALL) == {"feed.jsonl#1": Reason.MEMBER_TOO_LARGE, "feed.jsonl#small": None}


def test_document_id_follows_content_and_name() -> None:
    a = Entry("a.txt", b"Bonjour.")
    assert document_id(a) == document_id(Entry("a.txt", b"Bonjour."))
    assert document_id(a) != document_id(Entry("a.txt", b"Bonsoir."))
    assert document_id(a) != document_id(Entry("b.txt", b"Bonjour."))
