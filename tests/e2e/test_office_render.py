"""DOCX and ODT outputs as a reader sees them: LibreOffice renders them to PDF, and what landed where is
read back (poppler's word boxes, pypdf's fonts and pictures). The documents are made by python-docx,
odfpy and pandoc (their default tables and page-wide pictures); one LibreOffice run converts every file."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from models.pipeline import translate_document
from service import formats
from tests.support import render
from tests.support.fakes import FakeEngine
from tests.support.office import pandoc_document, wide_docx, wide_odt

pytestmark = pytest.mark.slow

# documents as python-docx, odfpy and pandoc make them: name → (format, builder given a scratch folder)
BUILDERS: dict[str, tuple[str, Callable[[Path], bytes]]] = {
    "docx": ("docx", lambda folder: wide_docx()),
    "odt": ("odt", lambda folder: wide_odt()),
    "pandoc-docx": ("docx", lambda folder: pandoc_document("docx", folder)),
    "pandoc-odt": ("odt", lambda folder: pandoc_document("odt", folder)),
}
PANDOC = shutil.which("pandoc")
LAYOUTS = ("side-by-side", "interleaved")
SLACK = 1.5  # points: rounding of LibreOffice's layout and poppler's boxes


@dataclass(frozen=True)
class Rendered:
    pdfs: dict[str, Path]  # `<name>-<layout>` (and `<name>-source`) → its PDF as LibreOffice renders it
    french: dict[str, frozenset[str]]  # `<name>` → the words of its translated blocks (not a page number)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """Every document in every layout, rendered by one LibreOffice run."""
    tools = (("soffice", render.SOFFICE), ("pdftotext", render.PDFTOTEXT), ("pandoc", PANDOC))
    missing = [name for name, path in tools if not path]
    if missing:
        packages = "libreoffice-writer-nogui poppler-utils pandoc"
        if os.environ.get("CI"):
            pytest.fail(f"{', '.join(missing)} missing: .ci/run installs {packages}")
        pytest.skip(f"{', '.join(missing)} missing (apt-get install {packages})")
    folder = tmp_path_factory.mktemp("office")
    files = []
    french = {}
    for name, (format, build) in BUILDERS.items():
        data = build(folder)
        files.append(folder / f"{name}-source.{format}")
        files[-1].write_bytes(data)
        source = formats.read_source(data, format)
        french[name] = frozenset(word for block in source.document.blocks for word in block.text.split())
        result = formats.bilingual(source, translate_document(source.document, FakeEngine()))
        for layout in LAYOUTS:
            files.append(folder / f"{name}-{layout}.{format}")
            files[-1].write_bytes(formats.write_source(source, result, layout))
    pdfs = render.to_pdf(files, folder / "pdf", folder / "profile")
    return Rendered({file.stem: pdf for file, pdf in pdfs.items()}, french)


def margins(source: Path) -> tuple[float, float]:
    """The text area's left and right edges: where the source's own text starts, margins alike on both sides."""
    page = render.words(source)[0]
    left = min(box.x0 for box in page.words)
    return left, page.width - left


@pytest.mark.parametrize("name", BUILDERS)
def test_side_by_side_columns_stay_inside_the_margins_and_apart(rendered: Rendered, name: str) -> None:
    left, right = margins(rendered.pdfs[f"{name}-source"])
    middle = (left + right) / 2
    pdf = rendered.pdfs[f"{name}-side-by-side"]
    for number, page in enumerate(render.words(pdf)):
        english = render.english_flags(page.words)
        assert any(english) and not all(english)
        for box, is_english in zip(page.words, english, strict=True):
            if not is_english and box.text not in rendered.french[name]:
                continue  # a page number in the footer
            assert left - SLACK <= box.x0 and box.x1 <= right + SLACK, (box, "past the margins")
            if is_english:
                assert box.x0 >= middle - SLACK, (box, "English in the French column")
            else:
                assert box.x1 <= middle + SLACK, (box, "French under the English column")
        french = [box for box, is_english in zip(page.words, english, strict=True) if not is_english]
        for box in (box for box, is_english in zip(page.words, english, strict=True) if is_english):
            assert not any(box.overlaps(other) for other in french), box
        _, pictures = render.drawn(pdf, number)
        for picture in pictures:
            assert left - SLACK <= picture.x0 and picture.x1 <= right + SLACK, (picture, "past the margins")
            assert picture.x1 <= middle + SLACK or picture.x0 >= middle - SLACK, (picture, "across both columns")


@pytest.mark.parametrize("name", BUILDERS)
def test_interleaved_english_is_set_apart_and_headings_stay_headings(rendered: Rendered, name: str) -> None:
    pdf = rendered.pdfs[f"{name}-interleaved"]
    texts, _ = render.drawn(pdf)
    english = [piece for piece in texts if "EN<" in piece.text]
    french = [piece for piece in texts if "Le budget de la ville" in piece.text and "EN<" not in piece.text]
    assert english and french

    def italic(font: str) -> bool:
        return "italic" in font.lower() or "oblique" in font.lower()

    assert all(italic(piece.font) for piece in english), {piece.font for piece in english}
    assert not any(italic(piece.font) for piece in french), {piece.font for piece in french}
    # the English heading is as large as the French one: still a heading
    boxes = render.words(pdf)[0].words
    heading_fr = next(box for box in boxes if box.text == "Le")
    heading_en = next(box for box in boxes if box.text == "EN<Le")
    assert heading_en.y1 - heading_en.y0 >= 0.9 * (heading_fr.y1 - heading_fr.y0)
