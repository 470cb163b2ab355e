"""PDF in (its text layer, paragraphs rebuilt from lines), bilingual HTML or EPUB out; hostile PDFs refused."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from models.pipeline import translate_document
from service import formats
from service.formats.epub import XHTML
from service.jobs.reasons import Reason
from tests.support import epubcheck
from tests.support.documents import pdf
from tests.support.fakes import FakeEngine
from tests.support.pdf import Line, encrypt, make_pdf


def translated(data: bytes, layout: str, suffix: str = ".html") -> bytes:
    source = formats.read_source(data, "pdf")
    result = formats.bilingual(source, translate_document(source.document, FakeEngine()))
    return formats.write_source(source, result, layout, suffix)


def refused(data: bytes, caps: formats.Limits | None = None) -> str:
    with pytest.raises(formats.FormatError) as error:
        formats.read_source(data, "pdf", caps or formats.Limits())
    return error.value.code


def test_paragraphs_are_rebuilt_from_lines_in_reading_order() -> None:
    source = formats.read_source(pdf(), "pdf")
    blocks = [(block.kind.value, block.text) for block in source.document.blocks]
    assert blocks == [
        ("heading", "Le budget de la ville"),  # a larger font: its own block, a heading
        # a hyphenated line break joined, accents and « » from WinAnsiEncoding
        (
            "paragraph",
            "Le conseil municipal a voté le budget hier soir. Les élus ont débattu longtemps de la rénovation "
            "des écoles (et du « stade »).",
        ),
        # an indented first line starts a paragraph; it goes on over the page break (lower case, no full stop)
        (
            "paragraph",
            "La piscine ouvrira en juin, a précisé le maire, et la bibliothèque sera agrandie l’an prochain.",
        ),
        ("paragraph", "Les travaux commenceront en mars."),  # after a gap larger than the line spacing
    ]
    assert source.warnings == ("pdf: page(s) 3 have no text layer (images?); they are not translated",)


def test_hyphen_kept_before_a_capital_and_columns_split() -> None:
    lines = [
        Line("Le Québec et le franco-", 72, 700),
        Line("Ontarien sont voisins.", 72, 686),
        Line("Une deuxième colonne commence ici.", 320, 700),  # back up the page: a new column
    ]
    texts = [block.text for block in formats.read_source(make_pdf([lines]), "pdf").document.blocks]
    assert texts == ["Le Québec et le franco-Ontarien sont voisins.", "Une deuxième colonne commence ici."]


def test_a_pdf_without_text_layer_is_skipped() -> None:
    assert refused(make_pdf([None, None])) == Reason.NO_TEXT_LAYER
    assert Reason.NO_TEXT_LAYER.repeats


def test_encrypted_pdfs() -> None:
    assert refused(encrypt(pdf())) == Reason.ENCRYPTED
    # an owner password only (restrictions, no password to open it): read like any PDF
    opened = formats.read_source(encrypt(pdf(), user_password=""), "pdf")
    assert opened.document.blocks[0].text == "Le budget de la ville"


def test_corrupt_pdfs_fail_with_a_reason() -> None:
    one = make_pdf([[Line("Bonjour à tous.")]])
    cyclic = one.replace(b"/Kids [6 0 R]", b"/Kids [2 0 R]")  # the page tree holds itself
    assert cyclic != one
    for data in (b"not a pdf at all", b"%PDF-1.4\n1 0 obj << /Type /Catalog", pdf()[:400], b"", cyclic):
        code = refused(data)
        assert code == Reason.UNPARSABLE and not code.repeats


def test_too_many_pages_is_refused_before_the_pages_are_read() -> None:
    many = make_pdf([[Line("Bonjour à tous.")]] * 10_000)
    assert refused(many) == Reason.TOO_MANY_PAGES  # the page tree's /Count, checked first
    lying = make_pdf([[Line("Bonjour à tous.")]] * 30, count=1)  # a /Count that lies: the walk counts again
    assert refused(lying, formats.Limits(max_pdf_pages=20)) == Reason.TOO_MANY_PAGES
    assert len(formats.read_source(lying, "pdf", formats.Limits(max_pdf_pages=30)).document.blocks) == 30


def test_text_and_streams_are_bounded() -> None:
    long = make_pdf([[Line(f"Phrase numéro {i} du document.", 72, 700 - 14 * i) for i in range(40)]] * 5)
    assert refused(long, formats.Limits(max_pdf_chars=1000)) == Reason.TOO_MUCH_TEXT
    # a content stream expanding to 10 MB: refused on its size, before any text is extracted from it
    spaces = make_pdf([b"BT /F1 12 Tf 72 700 Td (" + b" " * 10_000_000 + b"Bonjour) Tj ET"])
    assert refused(spaces, formats.Limits(max_pdf_chars=100_000)) == Reason.TOO_MUCH_TEXT
    # one expanding past pypdf's own cap on a stream (75 MB)
    bomb = make_pdf([b"BT /F1 12 Tf 72 700 Td (" + b" " * 80_000_000 + b"Bonjour) Tj ET"])
    assert len(bomb) < 200_000
    assert refused(bomb) == Reason.TOO_MUCH_TEXT
    assert Reason.TOO_MANY_PAGES.repeats and Reason.TOO_MUCH_TEXT.repeats


def test_html_in_every_layout_escapes_the_text() -> None:
    hostile = make_pdf([[Line("Le <script>alert(1)</script> & les élus.", 72, 700)]])
    page = translated(hostile, "interleaved").decode()
    assert "<script>" not in page and "Le &lt;script&gt;alert(1)&lt;/script&gt; &amp; les élus." in page
    interleaved = translated(pdf(), "interleaved").decode()
    assert interleaved.index("Le budget de la ville</h2>") < interleaved.index("EN&lt;Le budget de la ville&gt;")
    assert 'lang="en"' in interleaved and interleaved.startswith("<!DOCTYPE html>")
    side = translated(pdf(), "side-by-side").decode()
    assert side.count("<tr>") == 4 and "EN&lt;Les travaux commenceront en mars.&gt;" in side
    english = translated(pdf(), "english").decode()
    assert "Les travaux commenceront" not in english.replace("EN&lt;Les travaux commenceront", "")
    assert '<html lang="en">' in english


def test_html_is_the_default_and_epub_the_other_choice() -> None:
    assert formats.output_suffixes("pdf") == (".html", ".epub")
    source = formats.read_source(pdf(), "pdf")
    result = formats.bilingual(source, translate_document(source.document, FakeEngine()))
    with pytest.raises(ValueError, match="written as .html or .epub"):
        formats.write_source(source, result, "interleaved", ".pdf")


@pytest.mark.parametrize("layout", formats.LAYOUTS)
def test_epub_holds_every_block(layout: str) -> None:
    data = translated(pdf(), layout, ".epub")
    again = [block.text for block in formats.read_source(data, "epub").document.blocks]
    assert any("EN<Le budget de la ville>" in text for text in again)
    if layout != "english":
        assert "Le budget de la ville" in again and "Les travaux commenceront en mars." in again
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist()[0] == "mimetype"
        chapter = etree.fromstring(archive.read("OEBPS/c0.xhtml"))
    assert chapter.get("lang") == ("en" if layout == "english" else "fr")
    assert chapter.find(f".//{{{XHTML}}}h2") is not None


@epubcheck.required
@pytest.mark.parametrize("layout", formats.LAYOUTS)
def test_epubcheck_finds_no_error(tmp_path: Path, layout: str) -> None:
    path = tmp_path / f"{layout}.epub"
    path.write_bytes(translated(pdf(), layout, ".epub"))
    epubcheck.assert_valid(path)


def test_the_pdf_bounds_are_settings() -> None:
    from service.settings import Settings

    caps = Settings(archive_max_pdf_pages=7, archive_max_pdf_chars=9000).archive_limits()
    assert (caps.max_pdf_pages, caps.max_pdf_chars) == (7, 9000)
