"""`bitext translate`: files recognised by their bytes and name, and -o writing the format its suffix names."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service import cli, sniff
from service.sniff import Family
from tests.support.documents import BUILDERS, zipped
from tests.support.fakes import FakeEngine

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(40)
ARTICLE = (
    "# Le titre\n\nLe conseil a voté mardi. Il a adopté le budget.\n\n"
    "| Ville | Budget |\n| --- | --- |\n| Lyon | Élevé |\n"
)


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The fake engine, and a record of each model load (a refusal must come before any)."""
    loaded: list[str] = []

    def load(settings: object) -> FakeEngine:
        loaded.append("model")
        return FakeEngine()

    monkeypatch.setattr(cli, "_load", load)
    return loaded


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.app, ["translate", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (PNG, "PNG image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG image"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "legacy Microsoft Office document"),
        (b"\x7fELF\x02\x01\x01" + bytes(60), "ELF executable"),
        (zipped({"xl/workbook.xml": b"<x/>"}), "XLSX spreadsheet"),
    ],
)
def test_an_unsupported_file_is_named_with_what_bitext_reads(
    tmp_path: Path, loads: list[str], data: bytes, label: str
) -> None:
    for name in ("carte.png", "carte", "carte.txt"):  # by its bytes, whatever its name says
        source = tmp_path / name
        source.write_bytes(data)
        code, _, err = _run(str(source))
        assert code == 2
        assert f"unsupported file type: {label}" in err
        assert "bitext reads text (.txt, .text, .md" in err and ".docx" in err and ".pdf" in err
        assert "codec" not in err
    assert loads == []


def test_a_document_named_as_another_format_is_refused(tmp_path: Path, loads: list[str]) -> None:
    source = tmp_path / "carte.docx"
    source.write_bytes(PNG)
    code, _, err = _run(str(source))
    assert code == 2 and "carte.docx is named as a DOCX document but holds a PNG image" in err
    assert loads == []


def test_a_document_without_its_suffix_is_read_as_what_its_bytes_are(tmp_path: Path, loads: list[str]) -> None:
    source = tmp_path / "rapport"
    source.write_bytes(BUILDERS["docx"]())
    code, out, err = _run(str(source))
    assert code == 0, err
    assert json.loads(out)["format"] == "docx"


def test_an_archive_points_to_batch(tmp_path: Path, loads: list[str]) -> None:
    source = tmp_path / "articles.zip"
    source.write_bytes(zipped({"a.txt": b"Bonjour."}))
    code, _, err = _run(str(source))
    assert code == 2 and "zip archive" in err and f"bitext batch {source} -o OUTDIR" in err


def test_text_that_is_not_utf8_says_so(tmp_path: Path, loads: list[str]) -> None:
    source = tmp_path / "latin1.txt"
    source.write_bytes("Le café est prêt.".encode("latin-1"))
    code, _, err = _run(str(source))
    assert code == 2 and "it is not UTF-8 text (byte 0xe9 at offset 6)" in err and "codec" not in err


@pytest.mark.parametrize("format", sorted(BUILDERS))
def test_every_document_builder_is_recognised_by_its_bytes_or_name(format: str) -> None:
    kind = sniff.kind_of(BUILDERS[format](), f"doc.{format}")
    assert kind is not None and kind.family is Family.DOCUMENT and kind.format == format
    if format not in ("srt",):  # SRT has no signature: its name alone says it
        assert sniff.kind_of(BUILDERS[format]()) == kind


def test_french_text_is_never_taken_for_a_file_type() -> None:
    texts = ["BZh oui", "ID3 non", "GIF est un format", "RIFFs de guitare, enfin", "PK, dit-il.", "%PDF à la fin"]
    texts += ["WARC", "OggS", "Le ftyp est un mot.", "x" * 257 + "ustar de Mostar"]
    for text in texts:
        assert sniff.sniff(text.encode()) is None, text


def _write(tmp_path: Path, name: str, loads: list[str]) -> tuple[str, str]:
    source = tmp_path / "article.md"
    source.write_text(ARTICLE, encoding="utf-8")
    out = tmp_path / name
    code, stdout, err = _run(str(source), "-o", str(out))
    assert code == 0, err
    assert stdout == ""
    _, printed, _ = _run(str(source))  # the same answer as JSON: what the line must count
    blocks = json.loads(printed)["blocks"]
    sentences = [sentence for block in blocks for sentence in block["sentences"]]
    flagged = sum(1 for sentence in sentences if sentence["flags"])
    assert (len(blocks), len(sentences)) == (6, 7)  # title, paragraph, four cells
    assert err.strip().splitlines()[-1] == f"wrote {out} (6 blocks, 7 sentences, {flagged} flagged)"
    return out.read_text(encoding="utf-8"), err


def test_o_md_writes_bilingual_markdown(tmp_path: Path, loads: list[str]) -> None:
    written, _ = _write(tmp_path, "article.en.md", loads)
    assert not written.lstrip().startswith("{")
    assert written.startswith("# Le titre\n\n> # EN<Le titre>\n\nLe conseil a voté mardi.")
    assert "> EN<Le conseil a voté mardi.>" in written
    assert "| Ville | Budget |\n| --- | --- |\n| Lyon | Élevé |" in written
    assert "> | EN<Ville> | EN<Budget> |" in written


def test_o_html_writes_the_side_by_side_page(tmp_path: Path, loads: list[str]) -> None:
    written, _ = _write(tmp_path, "a.html", loads)
    assert written.lstrip().lower().startswith("<!doctype html") and "EN&lt;Le titre&gt;" in written


def test_o_txt_writes_the_english(tmp_path: Path, loads: list[str]) -> None:
    written, _ = _write(tmp_path, "a.txt", loads)
    assert written.startswith("EN<Le titre>\n\nEN<Le conseil a voté mardi.>")
    assert "Le conseil" not in written.replace("EN<Le conseil", "")


def test_o_json_still_writes_json(tmp_path: Path, loads: list[str]) -> None:
    written, _ = _write(tmp_path, "a.json", loads)
    assert json.loads(written)["format"] == "markdown"


def test_o_with_a_suffix_bitext_cannot_write_is_refused_before_the_model_loads(
    tmp_path: Path, loads: list[str]
) -> None:
    source = tmp_path / "article.md"
    source.write_text(ARTICLE, encoding="utf-8")
    for name in ("a.docx", "a.pdf", "a"):
        code, _, err = _run(str(source), "-o", str(tmp_path / name))
        assert code == 2 and "name it with one of .json, .html, .htm, .md, .markdown, .txt" in err
        assert not (tmp_path / name).exists()
    assert loads == []


def test_a_document_can_be_written_as_markdown_too(tmp_path: Path, loads: list[str]) -> None:
    source = tmp_path / "doc.docx"
    source.write_bytes(BUILDERS["docx"]())
    out = tmp_path / "doc.md"
    code, _, err = _run(str(source), "-o", str(out))
    assert code == 0, err and f"wrote {out} (" in err
    assert "> EN<" in out.read_text(encoding="utf-8")


def test_a_large_docx_is_recognised_by_its_listing_at_the_end() -> None:
    import os

    data = zipped(
        {"[Content_Types].xml": b"<Types/>", "word/media/big.bin": os.urandom(300_000), "word/document.xml": b"<w/>"}
    )
    assert b"word/document.xml" not in data[: sniff.HEAD_BYTES]  # past the first bytes: only the listing names it
    kind = sniff.sniff(data)
    assert kind is not None and kind.format == "docx"
    head = sniff.sniff(data[: sniff.HEAD_BYTES])  # an upload's first bytes alone: a zip, and its name decides
    assert head is not None and head.label == "zip archive"
    assert sniff.kind_of(data[: sniff.HEAD_BYTES], "rapport.docx") == kind


@pytest.mark.parametrize("compression", ["", "gz", "bz2", "xz"])
@pytest.mark.parametrize("layout", ["gnu", "pax", "ustar"])
def test_tar_archives_are_recognised_whatever_their_compression(compression: str, layout: str) -> None:
    import tarfile

    buffer = io.BytesIO()
    formats = {"gnu": tarfile.GNU_FORMAT, "pax": tarfile.PAX_FORMAT, "ustar": tarfile.USTAR_FORMAT}
    with tarfile.open(fileobj=buffer, mode=f"w:{compression}", format=formats[layout]) as archive:
        member = tarfile.TarInfo("a.txt")
        member.size = 8
        archive.addfile(member, io.BytesIO(b"Bonjour."))
    kind = sniff.sniff(buffer.getvalue())
    assert kind is not None and kind.family is Family.ARCHIVE
