"""A document set made by the usual tools (python-docx, odfpy, ebooklib, pandoc, fpdf2, an SRT) goes
through `bitext batch` in every layout, and each output is opened the way a reader opens it: epubcheck
on every e-book, LibreOffice on every office file (it opens, and side by side no English word lands on a
French one or off the page), and each PDF's paragraphs come back as many blocks as the source has."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from models.document import BlockKind
from service import cli, formats
from service.jobs import outputs
from tests.support import books, documents, epubcheck, fpdf_docs, render
from tests.support.fakes import FakeEngine
from tests.support.office import pandoc_document, wide_docx, wide_odt

pytestmark = pytest.mark.slow

PDFS = {"nine.pdf": fpdf_docs.nine_paragraphs, "article.pdf": fpdf_docs.article}
SLACK = 1.5  # points: LibreOffice's and poppler's rounding


@dataclass(frozen=True)
class Batched:
    outdir: Path
    records: dict[str, dict[str, Any]]  # source name → its manifest record


def _tools() -> None:
    needed = {
        "soffice": render.SOFFICE,
        "pdftotext": render.PDFTOTEXT,
        "pandoc": books.PANDOC,
        "epubcheck": str(epubcheck.JAR) if epubcheck.available() else None,
    }
    if missing := [name for name, path in needed.items() if not path]:
        if os.environ.get("CI"):
            pytest.fail(f"{', '.join(missing)} missing: .ci/run installs them")
        pytest.skip(f"{', '.join(missing)} missing")


def _document_set(folder: Path) -> dict[str, bytes]:
    return {
        "word/python-docx.docx": wide_docx(),
        "word/pandoc.docx": pandoc_document("docx", folder),
        "odf/odfpy.odt": wide_odt(),
        "odf/pandoc.odt": pandoc_document("odt", folder),
        "books/ebooklib.epub": books.ebooklib_book(),
        "books/pandoc.epub": books.pandoc_book(folder),
        "books/pandoc2.epub": books.pandoc_book(folder, "epub2"),
        **{f"pdf/{name}": make().data for name, make in PDFS.items()},
        "film/film.srt": documents.srt(),
    }


@pytest.fixture(scope="module")
def batched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Batched]:
    _tools()
    folder = tmp_path_factory.mktemp("set")
    archive = folder / "set.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name, data in _document_set(folder).items():
            zipped.writestr(name, data)
    outdir = folder / "out"
    layouts = [arg for layout in formats.LAYOUTS for arg in ("--layout", layout)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "_load", lambda settings: FakeEngine())
        result = CliRunner().invoke(cli.app, ["batch", str(archive), "-o", str(outdir), *layouts])
    assert result.exit_code == 0, result.output
    records = {r["name"]: r for r in outputs.latest_records(outdir / outputs.MANIFEST).values()}
    yield Batched(outdir, records)


def _files(batched: Batched, suffix: str) -> list[Path]:
    return [
        batched.outdir / name
        for r in batched.records.values()
        for name in r.get("documents", ())
        if name.endswith(suffix)
    ]


def test_every_document_is_translated_in_every_layout(batched: Batched) -> None:
    assert len(batched.records) == 10
    for name, record in batched.records.items():
        assert record["status"] == "ok", record
        if not name.endswith(".pdf"):  # a PDF comes out as HTML (and EPUB when asked), never a PDF
            assert len(record["documents"]) == len(formats.LAYOUTS), record
        assert all((batched.outdir / file).is_file() for file in record["documents"])


def test_epubcheck_passes_on_every_e_book(batched: Batched) -> None:
    epubs = _files(batched, ".epub")
    assert len(epubs) >= 3 * len(formats.LAYOUTS)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(epubcheck.assert_valid, epubs))


def test_libreoffice_opens_every_office_file_and_side_by_side_columns_do_not_overlap(
    batched: Batched, tmp_path: Path
) -> None:
    office = _files(batched, ".docx") + _files(batched, ".odt")
    assert len(office) == 4 * len(formats.LAYOUTS)
    pdfs = render.to_pdf(office, tmp_path / "pdf", tmp_path / "profile")  # fails on any file it cannot open
    for file, pdf in pdfs.items():
        pages = render.words(pdf)
        assert pages and any(page.words for page in pages), file.name
        if ".side-by-side." not in file.name:
            continue
        for page in pages:
            english = render.english_flags(page.words)
            french = [box for box, is_english in zip(page.words, english, strict=True) if not is_english]
            for box, is_english in zip(page.words, english, strict=True):
                assert -SLACK <= box.x0 and box.x1 <= page.width + SLACK, (file.name, box, "off the page")
                if is_english:
                    assert not any(box.overlaps(other) for other in french), (file.name, box)


@pytest.mark.parametrize("name", PDFS)
def test_a_pdf_comes_back_with_as_many_paragraphs_as_its_source(batched: Batched, name: str) -> None:
    made = PDFS[name]()
    record = batched.records[f"pdf/{name}"]
    answer = json.loads((batched.outdir / record["json"]).read_text(encoding="utf-8"))
    body = [block for block in answer["blocks"] if block["kind"] != BlockKind.VERBATIM]
    assert len(body) == len(made.body)
    assert [block["fr"] for block in body] == list(made.body)
