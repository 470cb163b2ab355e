"""A bilingual EPUB's chapter as a reader sees it: rendered by Chromium (the engine of many EPUB readers),
asserted on computed geometry and style. Side by side: two columns of equal width, the same for every
paragraph. Interleaved: the English looks different from the French. A screenshot of each layout is
written to test-output/ (docs/images/epub-*.png are these)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from models.pipeline import translate_document
from service import formats
from tests.support import books
from tests.support.fakes import FakeEngine

pytestmark = pytest.mark.browser

OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
CHAPTER = "EPUB/chap_01.xhtml"  # where ebooklib puts the first chapter


def opened(browser: Any, folder: Path, layout: str) -> Any:
    """The first chapter of ebooklib's book translated in `layout`, unzipped and open in Chromium."""
    source = formats.read_source(books.ebooklib_book(), "epub")
    result = formats.bilingual(source, translate_document(source.document, FakeEngine()))
    with zipfile.ZipFile(io.BytesIO(formats.write_source(source, result, layout))) as archive:
        archive.extractall(folder)
    page = browser.new_page(viewport={"width": 900, "height": 700})
    response = page.goto((folder / CHAPTER).as_uri())
    assert response is not None and response.ok
    assert page.evaluate("document.contentType") == "application/xhtml+xml"
    return page


def screenshot(page: Any, layout: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.locator("html").screenshot(path=str(OUTPUT / f"epub-{layout}.png"))


def test_side_by_side_columns_are_equal_and_the_same_for_every_paragraph(browser: Any, tmp_path: Path) -> None:
    page = opened(browser, tmp_path, "side-by-side")
    try:
        rows = page.evaluate(
            """() => [...document.querySelectorAll("table.bitext-pair")].map((table) => {
                const cells = [...table.querySelectorAll("td")].filter((td) => td.closest("table") === table);
                return {table: table.getBoundingClientRect().width,
                        cells: cells.map((td) => td.getBoundingClientRect().width)};
            })"""
        )
        screenshot(page, "side-by-side")
    finally:
        page.close()
    body = max(row["table"] for row in rows)
    for row in rows:
        french, english = row["cells"]
        assert abs(row["table"] - body) < 1, rows  # every pair as wide as the text
        assert abs(french - english) < 1 and abs(french - body / 2) < 1, rows  # two equal halves
    assert len(rows) >= 4  # the heading, a short paragraph, a long one, the list


def test_interleaved_english_is_styled_apart_from_its_french(browser: Any, tmp_path: Path) -> None:
    page = opened(browser, tmp_path, "interleaved")
    try:
        pairs = page.evaluate(
            """() => [...document.querySelectorAll("body [lang=en]")].map((en) => {
                const fr = en.previousElementSibling, style = (e) => getComputedStyle(e);
                return {tag: en.tagName, frTag: fr && fr.tagName,
                        fr: fr && [style(fr).fontStyle, style(fr).color], en: [style(en).fontStyle, style(en).color]};
            })"""
        )
        screenshot(page, "interleaved")
    finally:
        page.close()
    assert {pair["tag"] for pair in pairs} >= {"h1", "p", "li"}
    for pair in pairs:
        assert pair["frTag"] == pair["tag"], pair  # the English follows its French
        french, english = pair["fr"], pair["en"]
        assert english[0] != french[0] and english[1] != french[1], pair  # italic and another colour


def test_the_english_layout_reads_as_the_original(browser: Any, tmp_path: Path) -> None:
    page = opened(browser, tmp_path, "english")
    try:
        text = page.evaluate("document.body.innerText")
        language = page.evaluate("document.documentElement.lang")
        screenshot(page, "english")
    finally:
        page.close()
    assert language == "en" and "EN<Chapitre 1>" in text and books.SHORT not in text.replace(f"EN<{books.SHORT}", "")
