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
from service.jobs.runner import BatchRun
from tests.support.documents import BUILDERS
from tests.support.fakes import FakeEngine

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
    wrong = CliRunner().invoke(cli.app, ["translate", str(source), "-o", str(tmp_path / "x.txt")])
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
    first = BatchRun(source, outdir, FakeEngine(), layouts=formats.LAYOUTS).run()
    assert first.ok == len(FORMATS) and first.failed == 0
    written = sorted(p.name for p in (outdir / outputs.DOCS).iterdir())
    assert len([name for name in written if not name.endswith((".json", ".html"))]) == 3 * len(FORMATS)
    again = BatchRun(source, outdir, FakeEngine(), layouts=formats.LAYOUTS).run()
    assert again.already_done == len(FORMATS) and again.ok == 0
    assert io.BytesIO  # the same files, nothing outside OUTDIR
    assert sorted(p.name for p in (outdir / outputs.DOCS).iterdir()) == written
