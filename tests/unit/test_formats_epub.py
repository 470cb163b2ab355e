"""EPUB in, EPUB out: spine order, every French text node kept, entities refused, valid for epubcheck."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from models.pipeline import translate_document
from service import formats
from service.formats.epub import XHTML, make_epub
from tests.support import epubcheck
from tests.support.documents import epub
from tests.support.fakes import FakeEngine


def translated(data: bytes, layout: str) -> bytes:
    source = formats.read_source(data, "epub")
    result = formats.bilingual(source, translate_document(source.document, FakeEngine()))
    return formats.write_source(source, result, layout)


def text_nodes(data: bytes) -> list[str]:
    nodes = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.endswith(".xhtml") and not name.endswith("nav.xhtml"):
                root = etree.fromstring(archive.read(name))
                nodes += [t.strip() for t in root.xpath("//x:body//text()", namespaces={"x": XHTML}) if t.strip()]
    return nodes


def test_blocks_in_spine_order_with_alt_text_and_footnotes() -> None:
    """The title first, the spine in order, then the navigation labels that repeat nothing read before."""
    chapters = [("Deux", "<p>Deuxième chapitre.</p>"), ("Un", "<p>Premier chapitre.</p>")]
    data = make_epub("Livre", chapters)
    blocks = formats.read_source(data, "epub").document.blocks
    assert [block.text for block in blocks] == ["Livre", "Deuxième chapitre.", "Premier chapitre.", "Deux", "Un"]
    assert blocks[0].kind.value == "title"
    blocks = formats.read_source(epub(), "epub").document.blocks
    assert {block.kind.value for block in blocks} == {"title", "heading", "paragraph", "image"}
    # the navigation's labels ("Chapitre 1", the book's title) repeat headings: no block of their own
    assert len([block for block in blocks if block.text == "Chapitre 1"]) == 1


@pytest.mark.parametrize("layout", ["interleaved", "side-by-side"])
def test_every_french_text_node_is_in_the_bilingual_epub(layout: str) -> None:
    out = text_nodes(translated(epub(), layout))
    for node in text_nodes(epub()):
        assert node in out
    assert "EN<Les écoles seront rénovées.>" in out


def test_english_layout_and_the_parts_kept_byte_for_byte() -> None:
    original = epub()
    data = translated(original, "english")
    nodes = text_nodes(data)
    assert "EN<Chapitre 1>" in nodes and "Chapitre 1" not in nodes
    with zipfile.ZipFile(io.BytesIO(original)) as before, zipfile.ZipFile(io.BytesIO(data)) as after:
        assert after.namelist() == before.namelist() and after.namelist()[0] == "mimetype"
        assert after.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        for name in ("OEBPS/pixel.png", "META-INF/container.xml"):
            assert before.read(name) == after.read(name)
        chapter = etree.fromstring(after.read("OEBPS/c0.xhtml"))
    assert chapter.find(f".//{{{XHTML}}}img").get("alt") == "EN<Une photo de la mairie>"


def test_side_by_side_is_a_two_column_table() -> None:
    with zipfile.ZipFile(io.BytesIO(translated(epub(), "side-by-side"))) as archive:
        chapter = etree.fromstring(archive.read("OEBPS/c0.xhtml"))
    rows = chapter.findall(f".//{{{XHTML}}}tr")
    first = ["".join(cell.itertext()) for cell in rows[0]]
    assert first == ["Chapitre 1", "EN<Chapitre 1>"]


@pytest.mark.parametrize(
    "chapter",
    [
        '<!DOCTYPE html [<!ENTITY x SYSTEM "file:///etc/passwd">]><html xmlns="http://www.w3.org/1999/xhtml">'
        "<body><p>&x;</p></body></html>",
        '<!DOCTYPE html [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<html xmlns="http://www.w3.org/1999/xhtml"><body><p>&b;&b;&b;&b;</p></body></html>',
    ],
    ids=["xxe", "billion-laughs"],
)
def test_entities_are_refused(chapter: str) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(epub(1))) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            target.writestr(name, chapter if name == "OEBPS/c0.xhtml" else source.read(name))
    with pytest.raises(formats.FormatError) as error:
        formats.read_source(out.getvalue(), "epub")
    assert error.value.code == "unsafe_xml"


def test_corrupt_epubs_fail_with_a_reason() -> None:
    for data in (b"not a zip", epub()[:300], make_epub("x", [])):
        with pytest.raises(formats.FormatError):
            formats.read_source(data, "epub")


@epubcheck.required
@pytest.mark.parametrize("layout", formats.LAYOUTS)
def test_epubcheck_finds_no_error(tmp_path: Path, layout: str) -> None:
    path = tmp_path / f"{layout}.epub"
    path.write_bytes(translated(epub(), layout))
    epubcheck.assert_valid(path)
