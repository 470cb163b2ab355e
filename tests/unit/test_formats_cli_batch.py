"""`bitext translate FILE --output OUT.ext --layout …` and `bitext batch --layout …` over every document format."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service import cli, formats
from service.jobs import outputs
from service.jobs.config import BatchConfig
from service.jobs.runner import BatchRun, RunSpec
from tests.support.documents import BUILDERS
from tests.support.fakes import FakeEngine
from tests.support.pdf import encrypt, make_pdf

FORMATS = sorted(BUILDERS)


@pytest.fixture
def fake_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_load", lambda settings: FakeEngine())


@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize("layout", formats.LAYOUTS)
def test_cli_translates_a_file_into_its_own_format(fake_cli: None, tmp_path: Path, format: str, layout: str) -> None:
    source = tmp_path / f"doc.{format}"
    source.write_bytes(BUILDERS[format]())
    suffix = formats.output_suffix(format)
    out = tmp_path / f"out{suffix}"
    result = CliRunner().invoke(cli.app, ["translate", str(source), "--output", str(out), "--layout", layout])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0
    if suffix in formats.SUFFIXES:  # it reads back as its own format, with English in it
        again = formats.read_source(out.read_bytes(), formats.SUFFIXES[suffix])
        assert any("EN" in block.text for block in again.document.blocks)


@pytest.mark.parametrize("format", FORMATS)
def test_cli_json_and_wrong_suffix(fake_cli: None, tmp_path: Path, format: str) -> None:
    source = tmp_path / f"doc.{format}"
    source.write_bytes(BUILDERS[format]())
    result = CliRunner().invoke(cli.app, ["translate", str(source)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["format"] == format
    wrong = CliRunner().invoke(cli.app, ["translate", str(source), "-o", str(tmp_path / "x.xyz")])
    assert wrong.exit_code == 2 and "--output" in wrong.output
    bad = CliRunner().invoke(cli.app, ["translate", str(source), "-o", str(tmp_path / "x.json"), "--layout", "columns"])
    assert bad.exit_code == 2 and "--layout" in bad.output


def test_batch_writes_each_document_in_every_layout_asked(tmp_path: Path, fake_cli: None) -> None:
    archive = tmp_path / "docs.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for format in FORMATS:
            zipped.writestr(f"in/doc.{format}", BUILDERS[format]())
        zipped.writestr("in/broken.srt", b"\x00\x01binary")
    outdir = tmp_path / "out"
    result = CliRunner().invoke(
        cli.app, ["batch", str(archive), "-o", str(outdir), "--layout", "english", "--layout", "side-by-side"]
    )
    records = {r["name"]: r for r in map(json.loads, (outdir / outputs.MANIFEST).read_text().splitlines())}
    assert records["in/broken.srt"]["status"] in ("failed", "skipped"), result.output
    for format in FORMATS:
        record = records[f"in/doc.{format}"]
        assert record["status"] == "ok", record
        assert len(record["documents"]) == 2
        for name in record["documents"]:
            written = outdir / name
            assert written.is_file() and written.resolve().is_relative_to(outdir.resolve())
            assert ".english." in name or ".side-by-side." in name


def test_batch_over_a_directory_resumes_and_stays_in_outdir(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for format in FORMATS:
        (source / f"a.{format}").write_bytes(BUILDERS[format]())
    outdir = tmp_path / "out"
    first = BatchRun(RunSpec(source, outdir, config=BatchConfig(layouts=formats.LAYOUTS)), FakeEngine()).run()
    assert first.ok == len(FORMATS) and first.failed == 0
    written = sorted(p.name for p in (outdir / outputs.DOCS).iterdir())
    bilingual = [name for name in written if any(f".{layout}." in name for layout in formats.LAYOUTS)]
    assert len(bilingual) == 3 * len(FORMATS)
    assert {name.rsplit(".", 1)[1] for name in bilingual} == {"srt", "vtt", "docx", "odt", "epub", "html"}
    again = BatchRun(RunSpec(source, outdir, config=BatchConfig(layouts=formats.LAYOUTS)), FakeEngine()).run()
    assert again.already_done == len(FORMATS) and again.ok == 0
    assert io.BytesIO  # the same files, nothing outside OUTDIR
    assert sorted(p.name for p in (outdir / outputs.DOCS).iterdir()) == written


@pytest.mark.parametrize("layout", formats.LAYOUTS)
def test_cli_writes_a_pdf_as_an_epub(fake_cli: None, tmp_path: Path, layout: str) -> None:
    source = tmp_path / "doc.pdf"
    source.write_bytes(BUILDERS["pdf"]())
    out = tmp_path / "out.epub"
    result = CliRunner().invoke(cli.app, ["translate", str(source), "-o", str(out), "--layout", layout])
    assert result.exit_code == 0, result.output
    again = formats.read_source(out.read_bytes(), "epub")
    assert "EN<Les travaux commenceront en mars.>" in [block.text for block in again.document.blocks]
    refused = CliRunner().invoke(cli.app, ["translate", str(source), "-o", str(tmp_path / "out.pdf")])
    assert refused.exit_code == 2 and "name it with one of .html, .epub, .json" in refused.output


def test_batch_skips_pdfs_without_text_or_with_a_password_and_fails_corrupt_ones(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "scan.pdf").write_bytes(make_pdf([None]))
    (source / "locked.pdf").write_bytes(encrypt(BUILDERS["pdf"]()))
    (source / "broken.pdf").write_bytes(BUILDERS["pdf"]()[:500])
    (source / "broken.odt").write_bytes(BUILDERS["odt"]()[:500])
    (source / "good.pdf").write_bytes(BUILDERS["pdf"]())
    outdir = tmp_path / "out"
    summary = BatchRun(RunSpec(source, outdir), FakeEngine()).run()
    records = {r["name"]: r for r in map(json.loads, (outdir / outputs.MANIFEST).read_text().splitlines())}
    assert (records["scan.pdf"]["status"], records["scan.pdf"]["reason"]) == ("skipped", "no_text_layer")
    assert (records["locked.pdf"]["status"], records["locked.pdf"]["reason"]) == ("skipped", "encrypted")
    for name in ("broken.pdf", "broken.odt"):
        assert (records[name]["status"], records[name]["reason"]) == ("failed", "unparsable"), records[name]
    assert records["good.pdf"]["status"] == "ok" and records["good.pdf"]["documents"][0].endswith(".interleaved.html")
    assert summary.ok == 1
