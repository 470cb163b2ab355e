"""ODT in, ODT out: reopened with odfpy in every layout, every French text node kept, hostile files refused."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from lxml import etree

from models.pipeline import translate_document
from service import formats
from service.formats.odt import q
from service.jobs.reasons import Reason
from tests.support.documents import odt
from tests.support.fakes import FakeEngine

OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"


def translated(data: bytes, layout: str) -> bytes:
    source = formats.read_source(data, "odt")
    result = formats.bilingual(source, translate_document(source.document, FakeEngine()))
    return formats.write_source(source, result, layout)


def content(data: bytes) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return etree.fromstring(archive.read("content.xml"))


def odf_texts(data: bytes) -> list[str]:
    """Each paragraph's and heading's text as odfpy reads it, in document order."""
    from odf import teletype
    from odf.opendocument import load

    document = load(io.BytesIO(data))
    wanted = {q("text:p"), q("text:h")}
    out = []

    def walk(node: object) -> None:
        for child in getattr(node, "childNodes", []):
            if getattr(child, "qname", None) and "{{{}}}{}".format(*child.qname) in wanted:
                out.append(teletype.extractText(child))
            walk(child)

    walk(document.text)
    return out


def test_odt_blocks() -> None:
    source = formats.read_source(odt(), "odt")
    assert [(block.kind.value, block.text) for block in source.document.blocks] == [
        ("heading", "Le budget de la ville"),
        # a span's text is the paragraph's; the note is not; text:s is a space
        ("paragraph", "Le conseil municipal a voté le budget hier soir. Les élus ont débattu."),
        ("paragraph", "Selon le maire de la ville."),  # the footnote's paragraph
        ("paragraph", "Les écoles seront rénovées."),  # list items
        ("paragraph", "La piscine ouvrira en juin."),
        ("paragraph", "La mairie au printemps."),  # a table cell ("2 000 000" has no words)
        ("paragraph", "Un encadré sur la séance."),  # a text box
    ]


@pytest.mark.parametrize("layout", formats.LAYOUTS)
def test_odt_reopens_with_odfpy(layout: str) -> None:
    original = odt()
    data = translated(original, layout)
    texts = odf_texts(data)
    if layout == "interleaved":  # each French paragraph, then its English in the same place
        assert texts[:2] == ["Le budget de la ville", "EN<Le budget de la ville>"]
        at = texts.index("Les écoles seront rénovées.")
        assert texts[at + 1] == "EN<Les écoles seront rénovées.>"
        assert texts.index("EN<Selon le maire de la ville.>") == texts.index("Selon le maire de la ville.") + 1
        assert len(texts) == len(odf_texts(original)) + 7
    elif layout == "english":
        assert len(texts) == len(odf_texts(original))
        assert texts[0] == "EN<Le budget de la ville>"
        left = [re.sub(r"EN<[^>]*>", "", text).strip() for text in texts]
        assert set(left) == {"", "1", "2 000 000"}  # no French text outside the English (numbers, a note's mark)
        assert texts[1].startswith("EN<Le conseil municipal") and "EN<Selon le maire de la ville.>" in texts[1]
    else:  # one two-column table per run of body elements: French left, English right
        root = content(data)
        tables = root.findall(f".//{q('office:text')}/{q('table:table')}")
        assert len(tables) == 1
        rows = tables[0].findall(q("table:table-row"))
        assert len(rows) == len(content(original).find(f".//{q('office:text')}"))
        first = ["".join(cell.itertext()) for cell in rows[0]]
        assert first == ["Le budget de la ville", "EN<Le budget de la ville>"]
        names = [t.get(q("table:name")) for t in root.iter(q("table:table"))]
        assert len(names) == len(set(names))  # the copied table was renamed
    with zipfile.ZipFile(io.BytesIO(original)) as before, zipfile.ZipFile(io.BytesIO(data)) as after:
        assert after.namelist() == before.namelist() and after.namelist()[0] == "mimetype"
        assert after.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        rewritten = {"content.xml"} | ({"styles.xml"} if layout != "english" else set())  # the English's styles
        for name in before.namelist():
            if name not in rewritten:
                assert before.read(name) == after.read(name), name


@pytest.mark.parametrize("layout", ["interleaved", "side-by-side"])
def test_odt_is_lossless(layout: str) -> None:
    """Every French text node of the input is in the bilingual output."""

    def nodes(data: bytes) -> list[str]:
        body = content(data).find(f".//{q('office:text')}")
        return [text for text in body.xpath(".//text()") if text.strip()]

    out = nodes(translated(odt(), layout))
    for text in nodes(odt()):
        assert text in out


def test_the_english_paragraph_takes_a_translation_style_based_on_the_french() -> None:
    body = (
        '<text:p text:style-name="Corps"><text:span text:style-name="Gras">Le conseil</text:span> a voté.</text:p>'
        '<text:h text:style-name="Titre_20_1" text:outline-level="1" xml:id="h1">Le budget</text:h>'
        '<text:p text:style-name="P1">La séance est levée.</text:p>'
    )
    data = with_body(body, styles='<style:style style:name="P1" style:parent-style-name="Title"/>')
    source = formats.read_source(data, "odt")
    assert [block.kind.value for block in source.document.blocks] == ["paragraph", "heading", "title"]
    root = content(translated(data, "interleaved"))
    p, p_en, h, h_en, _, _ = root.find(f".//{q('office:text')}")
    assert p_en.get(q("text:style-name")) == "Translation_20_Corps"  # its own style, derived from the French's
    assert p_en[0].tag == q("text:span") and p_en[0].get(q("text:style-name")) == "Gras"
    assert h_en.get(q("text:outline-level")) == "1" and h_en.get(q("text:is-list-header")) == "true"
    assert h_en.get("{http://www.w3.org/XML/1998/namespace}id") is None  # ids stay unique


NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"'
)


def with_body(body: str, styles: str = "", prologue: str = "") -> bytes:
    part = (
        f'<?xml version="1.0" encoding="UTF-8"?>{prologue}<office:document-content {NS} office:version="1.2">'
        f"<office:automatic-styles>{styles}</office:automatic-styles>"
        f"<office:body><office:text>{body}</office:text></office:body></office:document-content>"
    )
    return rezip(odt(), {"content.xml": part.encode()})


def rezip(data: bytes, change: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            target.writestr(name, change.get(name, source.read(name)))
        for name, part in change.items():
            if name not in source.namelist():
                target.writestr(name, part)
    return out.getvalue()


@pytest.mark.parametrize(
    "prologue",
    [
        '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    ],
    ids=["xxe", "billion-laughs"],
)
def test_odt_entities_are_refused(prologue: str) -> None:
    with pytest.raises(formats.FormatError) as error:
        formats.read_source(with_body("<text:p>&x;</text:p>", prologue=prologue), "odt")
    assert error.value.code == "unsafe_xml"


def test_odt_hostile_and_corrupt_files_are_refused() -> None:
    cases = [
        (rezip(odt(), {"Pictures/zeros.bin": b"\0" * 3_000_000}), Reason.COMPRESSION_RATIO),
        (
            rezip(
                odt(),
                {
                    "META-INF/manifest.xml": b'<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:'
                    b'xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="content.xml">'
                    b"<manifest:encryption-data/></manifest:file-entry></manifest:manifest>"
                },
            ),
            Reason.ENCRYPTED,
        ),
        (rezip(odt(), {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"}), Reason.UNPARSABLE),
        (rezip(odt(), {"content.xml": b"<office:document-content"}), Reason.UNPARSABLE),
        (
            rezip(
                odt(),
                {
                    "content.xml": f"<office:document-content {NS}><office:body><office:drawing/>"
                    "</office:body></office:document-content>".encode()
                },
            ),
            Reason.UNPARSABLE,
        ),
        (b"PK\x03\x04garbage", Reason.UNPARSABLE),
        (odt()[:600], Reason.UNPARSABLE),
    ]
    for data, code in cases:
        with pytest.raises(formats.FormatError) as error:
            formats.read_source(data, "odt")
        assert error.value.code == code, (code, str(error.value))
