"""DOCX and ODT outputs as a reader sees them: LibreOffice renders them to PDF, and what landed where is
read back (poppler's word boxes, pypdf's fonts and pictures). One LibreOffice run converts every file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from models.pipeline import translate_document
from service import formats
from tests.support import render
from tests.support.fakes import FakeEngine
from tests.support.office import wide_docx, wide_odt

pytestmark = pytest.mark.slow

BUILDERS = {"docx": wide_docx, "odt": wide_odt}
LAYOUTS = ("side-by-side", "interleaved")
SLACK = 1.5  # points: rounding of LibreOffice's layout and poppler's boxes


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`<format>-<layout>` (and `<format>-source`) → its PDF as LibreOffice renders it."""
    missing = [name for name, path in (("soffice", render.SOFFICE), ("pdftotext", render.PDFTOTEXT)) if not path]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{', '.join(missing)} missing: .ci/run installs libreoffice-writer-nogui and poppler-utils")
        pytest.skip(f"{', '.join(missing)} missing (apt-get install libreoffice-writer-nogui poppler-utils)")
    folder = tmp_path_factory.mktemp("office")
    files = []
    for format, build in BUILDERS.items():
        data = build()
        files.append(folder / f"{format}-source.{format}")
        files[-1].write_bytes(data)
        source = formats.read_source(data, format)
        result = formats.bilingual(source, translate_document(source.document, FakeEngine()))
        for layout in LAYOUTS:
            files.append(folder / f"{format}-{layout}.{format}")
            files[-1].write_bytes(formats.write_source(source, result, layout))
    pdfs = render.to_pdf(files, folder / "pdf", folder / "profile")
    return {file.stem: pdf for file, pdf in pdfs.items()}


def margins(source: Path) -> tuple[float, float]:
    """The text area's left and right edges: where the source's own text starts, margins alike on both sides."""
    page = render.words(source)[0]
    left = min(box.x0 for box in page.words)
    return left, page.width - left


@pytest.mark.parametrize("format", BUILDERS)
def test_side_by_side_columns_stay_inside_the_margins_and_apart(rendered: dict[str, Path], format: str) -> None:
    left, right = margins(rendered[f"{format}-source"])
    middle = (left + right) / 2
    pdf = rendered[f"{format}-side-by-side"]
    for number, page in enumerate(render.words(pdf)):
        english = render.english_flags(page.words)
        assert any(english) and not all(english)
        for box, is_english in zip(page.words, english, strict=True):
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


@pytest.mark.parametrize("format", BUILDERS)
def test_interleaved_english_is_set_apart_and_headings_stay_headings(rendered: dict[str, Path], format: str) -> None:
    pdf = rendered[f"{format}-interleaved"]
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
