"""DOCX and ODT layouts a reader can use: side-by-side columns of fixed, equal widths with what they hold
scaled to fit; interleaved English in a style of its own (headings still headings)."""

from __future__ import annotations

import io
import zipfile

import pytest
from lxml import etree
from odf.namespaces import nsdict

from models.pipeline import translate_document
from service import formats
from service.formats.docx_layout import CELL_MARGIN, EMU_PER_TWIP
from service.formats.docx_text import W_NS
from tests.support.fakes import FakeEngine
from tests.support.office import PARAGRAPHS, wide_docx, wide_odt

WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"


def w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


def translated(data: bytes, format: str, layout: str) -> bytes:
    source = formats.read_source(data, format)
    result = formats.bilingual(source, translate_document(source.document, FakeEngine()))
    return formats.write_source(source, result, layout)


def part(data: bytes, name: str) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return etree.fromstring(archive.read(name))


def twips(element: etree._Element, attribute: str = "w") -> int:
    return int(element.get(w(attribute)))


def test_docx_side_by_side_is_two_fixed_half_columns_of_the_text_width() -> None:
    root = part(translated(wide_docx(), "docx", "side-by-side"), "word/document.xml")
    body = root.find(w("body"))
    section = body.find(w("sectPr"))
    page, margins = section.find(w("pgSz")), section.find(w("pgMar"))
    text_width = twips(page) - twips(margins, "left") - twips(margins, "right")
    table = body.find(w("tbl"))
    assert table.find(f"{w('tblPr')}/{w('tblLayout')}").get(w("type")) == "fixed"
    grid = [twips(col) for col in table.find(w("tblGrid"))]
    assert grid == [text_width // 2, text_width // 2]
    width = table.find(f"{w('tblPr')}/{w('tblW')}")
    assert (width.get(w("type")), twips(width)) == ("dxa", text_width - text_width % 2)
    for row in table.findall(w("tr")):
        assert [twips(tc.find(f"{w('tcPr')}/{w('tcW')}")) for tc in row.findall(w("tc"))] == grid


def test_docx_side_by_side_scales_nested_tables_and_pictures_into_their_column() -> None:
    root = part(translated(wide_docx(), "docx", "side-by-side"), "word/document.xml")
    outer = root.find(f"{w('body')}/{w('tbl')}")
    column = twips(outer.find(w("tblGrid"))[0])
    inside = column - 2 * CELL_MARGIN
    nested = [t for t in outer.iter(w("tbl")) if t is not outer]
    assert len(nested) == 2  # the French table and its English twin
    for table in nested:
        grid = [twips(col) for col in table.find(w("tblGrid"))]
        assert len(grid) == 3 and sum(grid) <= inside
        for tc in table.iter(w("tc")):
            assert twips(tc.find(f"{w('tcPr')}/{w('tcW')}")) <= inside // 3 + 1
    extents = list(outer.iter(f"{WP}extent"))
    assert extents, "the picture is kept"
    for extent in extents:
        assert int(extent.get("cx")) <= inside * EMU_PER_TWIP
        assert int(extent.get("cx")) == int(extent.get("cy"))  # the square picture keeps its shape
    for ext in outer.iter(f"{A}ext"):
        assert int(ext.get("cx")) <= inside * EMU_PER_TWIP
    english_table = nested[1]  # its cells' English in the English's style
    for p in english_table.iter(w("p")):
        if "".join(t.text or "" for t in p.iter(w("t"))).startswith("EN<"):
            assert p.find(f"{w('pPr')}/{w('pStyle')}").get(w("val")).startswith("Translation")


def test_docx_interleaved_english_has_a_translation_style_based_on_the_french() -> None:
    data = translated(wide_docx(), "docx", "interleaved")
    body = part(data, "word/document.xml").find(w("body"))
    styles = {s.get(w("styleId")): s for s in part(data, "word/styles.xml").iter(w("style"))}

    def style(p: etree._Element) -> str | None:
        found = p.find(f"{w('pPr')}/{w('pStyle')}")
        return found.get(w("val")) if found is not None else None

    paragraphs = body.findall(w("p"))
    texts = ["".join(t.text or "" for t in p.iter(w("t"))) for p in paragraphs]
    heading_fr, heading_en = paragraphs[0], paragraphs[1]
    assert texts[1].startswith("EN<") and style(heading_fr) == "Heading1"
    assert style(heading_en) != "Heading1"
    english_style = styles[style(heading_en)]
    assert english_style.find(w("basedOn")).get(w("val")) == "Heading1"
    assert english_style.find(f"{w('pPr')}/{w('outlineLvl')}").get(w("val")) == "0"  # still a heading
    assert english_style.find(f"{w('rPr')}/{w('i')}") is not None
    assert english_style.find(w("name")).get(w("val")).startswith("Translation")
    body_en = paragraphs[texts.index(f"EN<{PARAGRAPHS[0]}>")]
    assert style(body_en) == "Translation"
    assert styles["Translation"].find(w("basedOn")).get(w("val")) == "Normal"
    # the French keeps its own style
    assert style(paragraphs[texts.index(PARAGRAPHS[0])]) is None


def test_docx_a_translation_style_the_user_edited_is_kept() -> None:
    from docx import Document
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import RGBColor

    document = Document(io.BytesIO(wide_docx()))
    mine = document.styles.add_style("Translation", WD_STYLE_TYPE.PARAGRAPH)
    mine.font.color.rgb = RGBColor(0x99, 0x00, 0x00)
    out = io.BytesIO()
    document.save(out)
    data = translated(out.getvalue(), "docx", "interleaved")
    defined = [s for s in part(data, "word/styles.xml").iter(w("style")) if s.get(w("styleId")) == "Translation"]
    assert len(defined) == 1
    assert defined[0].find(f"{w('rPr')}/{w('color')}").get(w("val")) == "990000"


# OpenDocument's prefixes from odfpy's table, not the product's: a wrong namespace in service/formats shows here
ODF = {prefix: uri for uri, prefix in nsdict.items()}


def q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{ODF[prefix]}}}{local}"


def test_odt_interleaved_english_has_a_translation_style_in_styles_xml() -> None:
    data = translated(wide_odt(), "odt", "interleaved")
    body = part(data, "content.xml").find(f".//{q('office:text')}")
    styles = {s.get(q("style:name")): s for s in part(data, "styles.xml").iter(q("style:style"))}
    heading_fr, heading_en = body.findall(q("text:h"))[:2]
    assert heading_fr.get(q("text:style-name")) == "Heading_20_1"
    english = styles[heading_en.get(q("text:style-name"))]
    assert english.get(q("style:parent-style-name")) == "Heading_20_1"
    assert english.get(q("style:display-name")) == "Translation Heading 1"
    assert heading_en.get(q("text:outline-level")) == "1"  # still a heading
    props = english.find(q("style:text-properties"))
    assert props.get(q("fo:font-style")) == "italic"
    paragraph_en = next(p for p in body.iter(q("text:p")) if "".join(p.itertext()) == f"EN<{PARAGRAPHS[0]}>")
    assert paragraph_en.get(q("text:style-name")) == "Translation"
    french = next(p for p in body.iter(q("text:p")) if "".join(p.itertext()) == PARAGRAPHS[0])
    assert french.get(q("text:style-name")) is None


def test_odt_side_by_side_scales_pictures_into_their_column() -> None:
    data = translated(wide_odt(), "odt", "side-by-side")
    root = part(data, "content.xml")
    automatic = {s.get(q("style:name")): s for s in root.find(q("office:automatic-styles"))}
    outer = root.find(f".//{q('office:text')}/{q('table:table')}")
    table_props = automatic[outer.get(q("table:style-name"))].find(q("style:table-properties"))
    assert table_props.get(q("table:align")) == "margins"
    text_width = float(table_props.get(q("style:width")).removesuffix("cm"))
    column = outer.find(q("table:table-column"))
    assert column.get(q("table:number-columns-repeated")) == "2"
    column_props = automatic[column.get(q("table:style-name"))].find(q("style:table-column-properties"))
    assert float(column_props.get(q("style:column-width")).removesuffix("cm")) == pytest.approx(text_width / 2, 0.01)
    frames = list(outer.iter(q("draw:frame")))
    assert frames
    for frame in frames:
        width = float(frame.get(q("svg:width")).removesuffix("cm"))
        height = float(frame.get(q("svg:height")).removesuffix("cm"))
        assert width <= text_width / 2 and width == pytest.approx(height)
    # the English heading in a Translation style here too
    cells = outer.find(q("table:table-row")).findall(q("table:table-cell"))
    assert cells[1].find(q("text:h")).get(q("text:style-name")) == "Translation_20_Heading_20_1"


def test_docx_translation_style_of_an_italic_style_does_not_undo_its_italics() -> None:
    """`w:i` toggles along a style's chain: on an italic caption style it would make the English upright."""
    from docx import Document

    document = Document()
    caption = document.styles["Caption"]
    caption.font.italic = True
    document.add_paragraph("La mairie au printemps.", style="Caption")
    document.add_paragraph("Le conseil a voté.")
    out = io.BytesIO()
    document.save(out)
    data = translated(out.getvalue(), "docx", "interleaved")
    styles = {s.get(w("styleId")): s for s in part(data, "word/styles.xml").iter(w("style"))}
    assert styles["TranslationCaption"].find(f"{w('rPr')}/{w('i')}") is None  # italic from Caption
    assert styles["TranslationCaption"].find(f"{w('rPr')}/{w('color')}") is not None
    assert styles["Translation"].find(f"{w('rPr')}/{w('i')}") is not None


def test_docx_side_by_side_puts_the_body_bookmarks_in_a_cell_not_a_row() -> None:
    """pandoc ends a body with bookmark ends of its own: no empty rows for them, every one kept."""
    data = wide_docx()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        document = archive.read("word/document.xml")
    marks = '<w:bookmarkStart w:id="7" w:name="start"/><w:bookmarkEnd w:id="7"/><w:bookmarkEnd w:id="8"/><w:sectPr'
    document = document.replace(b"<w:sectPr", marks.encode(), 1)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as archive:
        for info in source.infolist():
            archive.writestr(info, document if info.filename == "word/document.xml" else source.read(info))
    body = part(translated(out.getvalue(), "docx", "side-by-side"), "word/document.xml").find(w("body"))
    table = body.find(w("tbl"))
    assert [child.tag for child in body] == [w("tbl"), w("p"), w("sectPr")]
    for row in table.findall(w("tr")):
        has_drawing = next(row.iter(w("drawing")), None) is not None
        assert any(t.text for t in row.iter(w("t"))) or has_drawing  # no row of bookmarks alone
    assert sorted(m.get(w("id")) for m in table.iter(w("bookmarkEnd"))) == ["7", "8"]


def test_odt_side_by_side_of_a_side_by_side_file_defines_its_styles_once() -> None:
    twice = translated(translated(wide_odt(), "odt", "side-by-side"), "odt", "side-by-side")
    names = [s.get(q("style:name")) for s in part(twice, "content.xml").find(q("office:automatic-styles"))]
    assert len(names) == len(set(names))
