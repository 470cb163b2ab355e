"""E-books made by other tools (ebooklib, pandoc) and by bitext's own writer, translated in every layout:
valid for epubcheck, the navigation translated as navigation (links and structure kept), `toc.ncx` too,
and the package document the output's own (identifier, title, languages, date, stylesheet)."""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from models.document import BilingualBlock, BlockKind
from models.pipeline import translate_document
from service import formats
from service.formats.base import Layout
from service.formats.epub import make_epub
from service.formats.epub_ncx import NCX
from service.formats.epub_opf import DC, OPF, Book, rewrite
from service.formats.epub_xhtml import XHTML
from tests.support import books, epubcheck
from tests.support.documents import PNG
from tests.support.fakes import FakeEngine

NS = {"x": XHTML, "o": OPF, "dc": DC, "n": NCX, "e": "http://www.idpf.org/2007/ops"}
MAKERS: dict[str, Callable[[Path], bytes]] = {
    "ebooklib": lambda folder: books.ebooklib_book(),
    "pandoc": books.pandoc_book,
    "bitext": lambda folder: books.own_book(),
}


@pytest.fixture(params=list(MAKERS))
def book(request: pytest.FixtureRequest, tmp_path: Path) -> bytes:
    if request.param == "pandoc" and books.PANDOC is None:
        pytest.skip("pandoc is not installed (apt-get install pandoc)")
    return MAKERS[request.param](tmp_path)


def translated(data: bytes, layout: str) -> bytes:
    source = formats.read_source(data, "epub")
    result = formats.bilingual(source, translate_document(source.document, FakeEngine()))
    return formats.write_source(source, result, layout)


class Opened:
    """An EPUB's parts, by path, and where its package document says things are."""

    def __init__(self, data: bytes) -> None:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            self.parts = {name: archive.read(name) for name in archive.namelist()}
        container = etree.fromstring(self.parts["META-INF/container.xml"])
        self.opf_name = container.xpath("//*[local-name()='rootfile']/@full-path")[0]
        self.opf = etree.fromstring(self.parts[self.opf_name])

    def path(self, href: str) -> str:
        return posixpath.normpath(posixpath.join(posixpath.dirname(self.opf_name), href))

    def item(self, xpath: str) -> str | None:
        hrefs = self.opf.xpath(f"//o:manifest/o:item[{xpath}]/@href", namespaces=NS)
        return self.path(hrefs[0]) if hrefs else None

    def xml(self, name: str) -> etree._Element:
        return etree.fromstring(self.parts[name])

    def spine(self) -> list[str]:
        ids = self.opf.xpath("//o:spine/o:itemref/@idref", namespaces=NS)
        return [self.item(f"@id='{i}'") or "" for i in ids]

    def identifier(self) -> str:
        wanted = self.opf.get("unique-identifier")
        return str(self.opf.xpath(f"//dc:identifier[@id='{wanted}']/text()", namespaces=NS)[0])

    def metadata(self, name: str) -> list[str]:
        return [str(text) for text in self.opf.xpath(f"//dc:{name}/text()", namespaces=NS)]


def nav_entries(opened: Opened) -> list[tuple[str | None, str]]:
    """Each label of the navigation document: (its link, its text)."""
    nav = opened.xml(opened.item("contains(@properties, 'nav')") or "")
    labels = nav.xpath("//x:nav//x:li/x:a | //x:nav//x:li/x:span", namespaces=NS)
    return [(label.get("href"), " ".join("".join(label.itertext()).split())) for label in labels]


def in_layout(french: str, layout: str) -> str:
    return f"EN<{french}>" if layout == Layout.ENGLISH else f"{french} / EN<{french}>"


@epubcheck.required
@pytest.mark.parametrize("layout", formats.LAYOUTS)
def test_epubcheck_finds_no_error(tmp_path: Path, book: bytes, layout: str) -> None:
    path = tmp_path / f"{layout}.epub"
    path.write_bytes(translated(book, layout))
    epubcheck.assert_valid(path)


@pytest.mark.parametrize("layout", formats.LAYOUTS)
def test_the_navigation_keeps_its_links_and_structure_and_is_translated(book: bytes, layout: str) -> None:
    before, after = Opened(book), Opened(translated(book, layout))
    entries = nav_entries(before)
    assert entries and all(text for _, text in entries)
    assert nav_entries(after) == [(href, in_layout(text, layout)) for href, text in entries]
    nav_name = before.item("contains(@properties, 'nav')") or ""
    for nav in after.xml(nav_name).iter(f"{{{XHTML}}}nav"):  # a heading at most, then one list: nothing added
        assert [child.tag for child in nav if child.tag.endswith(("h1", "h2", "h3", "ol"))][-1].endswith("ol")
        assert sum(child.tag.endswith(("h1", "h2", "h3", "h4", "h5", "h6")) for child in nav) <= 1


@pytest.mark.parametrize("layout", formats.LAYOUTS)
def test_toc_ncx_labels_are_translated_and_its_uid_is_the_new_identifier(tmp_path: Path, layout: str) -> None:
    makers = [books.ebooklib_book()] + ([books.pandoc_book(tmp_path)] if books.PANDOC else [])
    for data in makers:
        before, after = Opened(data), Opened(translated(data, layout))
        name = before.item("@media-type='application/x-dtbncx+xml'") or ""
        labels = [str(t) for t in before.xml(name).xpath("//n:navMap//n:text/text()", namespaces=NS)]
        ncx = after.xml(name)
        assert ncx.xpath("//n:navMap//n:text/text()", namespaces=NS) == [in_layout(t, layout) for t in labels]
        assert ncx.xpath("//n:meta[@name='dtb:uid']/@content", namespaces=NS) == [after.identifier()]
        assert ncx.xpath("//n:docTitle/n:text/text()", namespaces=NS) == after.metadata("title")[:1]


@pytest.mark.parametrize("layout", formats.LAYOUTS)
def test_the_package_document_describes_the_output(book: bytes, layout: str) -> None:
    before = Opened(book)
    data = translated(book, layout)
    after = Opened(data)
    assert after.identifier() != before.identifier() and before.identifier() in after.metadata("source")
    assert Opened(translated(book, layout)).identifier() == after.identifier()  # the same book: the same id
    others = {Opened(translated(book, other)).identifier() for other in formats.LAYOUTS if other != layout}
    assert after.identifier() not in others
    title = books.TITLE
    if layout == Layout.ENGLISH:
        assert after.metadata("language") == ["en"]
        assert after.metadata("title") == [f"EN<{title}>"]
    else:
        assert after.metadata("language") == ["fr", "en"]
        assert after.metadata("title") == [f"{title} — EN<{title}> (bilingual)"]
    # everything else is kept: the author, the spine, every part of the source
    assert after.metadata("creator") == before.metadata("creator") and after.spine() == before.spine()
    assert set(before.parts) <= set(after.parts)


TITLED = [BilingualBlock(0, BlockKind.TITLE, books.TITLE, f"EN<{books.TITLE}>", True, ())]


def test_the_modification_date_is_the_writing_date() -> None:
    opened = Opened(books.own_book())
    book = Book(opened.opf_name, (), None, None, (books.TITLE,), opened.identifier())
    now = datetime(2031, 2, 3, 4, 5, 6, tzinfo=UTC)
    rewrite(opened.opf, book, Layout.ENGLISH, TITLED, None, now)
    modified = opened.opf.xpath("//o:meta[@property='dcterms:modified']/text()", namespaces=NS)
    assert modified == ["2031-02-03T04:05:06Z"]


def test_an_isbn_is_kept_as_the_source_with_its_scheme() -> None:
    """EPUB 2's `opf:scheme` (and EPUB 3's `identifier-type` refinement) go with the ISBN to `dc:source`."""
    opened = Opened(books.own_book())
    identifier = opened.opf.xpath("//dc:identifier", namespaces=NS)[0]
    identifier.text = "9782070360024"
    identifier.set(f"{{{OPF}}}scheme", "ISBN")
    refine = etree.SubElement(
        identifier.getparent(), f"{{{OPF}}}meta", {"refines": "#id", "property": "identifier-type"}
    )
    book = Book(opened.opf_name, (), None, None, (), "9782070360024")
    rewrite(opened.opf, book, Layout.INTERLEAVED, TITLED, None)
    source = opened.opf.xpath("//dc:source", namespaces=NS)[0]
    assert source.text == "9782070360024" and source.get(f"{{{OPF}}}scheme") == "ISBN"
    assert identifier.get(f"{{{OPF}}}scheme") is None and identifier.text.startswith("urn:uuid:")
    assert refine.get("refines") == f"#{source.get('id')}"


@pytest.mark.parametrize("layout", formats.LAYOUTS)
def test_the_bilingual_layouts_link_a_stylesheet_from_every_chapter(book: bytes, layout: str) -> None:
    after = Opened(translated(book, layout))
    stylesheet = after.item("@media-type='text/css' and starts-with(@id, 'bitext')")
    if layout == Layout.ENGLISH:
        assert stylesheet is None
        return
    assert stylesheet is not None and b".translation" in after.parts[stylesheet]
    assert b"table-layout: fixed" in after.parts[stylesheet]
    for name in after.spine():
        links = after.xml(name).xpath("//x:head/x:link[@rel='stylesheet']/@href", namespaces=NS)
        assert stylesheet in {posixpath.normpath(posixpath.join(posixpath.dirname(name), href)) for href in links}


def test_every_english_copy_is_marked_and_pairs_have_two_fixed_columns() -> None:
    interleaved = Opened(translated(books.own_book(), "interleaved")).xml("OEBPS/c0.xhtml")
    english = interleaved.xpath("//x:body//*[@lang='en']", namespaces=NS)
    assert english and all("translation" in (e.get("class") or "").split() for e in english)
    side = Opened(translated(books.own_book(), "side-by-side")).xml("OEBPS/c0.xhtml")
    tables = side.xpath("//x:table[@class='bitext-pair']", namespaces=NS)
    assert len(tables) >= 3
    for table in tables:
        assert table.xpath("x:colgroup/x:col/@class", namespaces=NS) == ["bitext-fr", "bitext-en"]
        assert table.xpath("x:tr/x:td/@class", namespaces=NS) == ["bitext-fr", "bitext-en"]


GROUPED = (
    "<h1>Les chiffres</h1><ul><li>Les écoles seront rénovées.<ul><li>Trois écoles en mars.</li></ul></li></ul>"
    '<table><tr><th id="ville">Ville</th><td headers="ville">La mairie est ouverte.</td></tr></table>'
    '<figure id="photo"><img src="pixel.png" alt="Une photo de la mairie"/>'
    "<figcaption>La mairie au printemps.</figcaption></figure>"
)


def test_side_by_side_sets_a_list_a_table_and_a_figure_beside_their_english(tmp_path: Path) -> None:
    data = translated(
        make_epub("Chiffres", [("Chiffres", GROUPED)], "fr", [("pixel.png", "image/png", PNG)]), "side-by-side"
    )
    chapter = Opened(data).xml("OEBPS/c0.xhtml")
    for tag in ("ul", "table", "figure"):
        french = chapter.xpath(f"//x:td[@class='bitext-fr']/x:{tag}", namespaces=NS)
        english = chapter.xpath(f"//x:td[@class='bitext-en']/x:{tag}", namespaces=NS)
        assert len(french) == len(english) == 1, tag
        assert "EN<" not in "".join(french[0].itertext()) and "EN<" in "".join(english[0].itertext()), tag
    english_list = chapter.xpath("//x:td[@class='bitext-en']/x:ul//x:li/text()", namespaces=NS)
    assert english_list == ["EN<Les écoles seront rénovées.>", "EN<Trois écoles en mars.>"]
    assert chapter.xpath("//x:td[@class='bitext-en']/x:figure/x:img/@alt", namespaces=NS) == [
        "EN<Une photo de la mairie>"
    ]
    ids = chapter.xpath("//@id")
    assert len(ids) == len(set(ids)) and "photo" in ids  # the copies hold no id: the French keeps its own
    assert chapter.xpath("//@headers") == ["ville"]
    if epubcheck.available():
        path = tmp_path / "grouped.epub"
        path.write_bytes(data)
        epubcheck.assert_valid(path)


@pytest.mark.skipif(books.PANDOC is None, reason="pandoc is not installed (apt-get install pandoc)")
@pytest.mark.parametrize("layout", formats.LAYOUTS)
def test_an_epub_2_book_keeps_an_epub_2_package_and_stays_valid(tmp_path: Path, layout: str) -> None:
    """EPUB 2 has no navigation document and no `dcterms:modified`: none is added, the NCX is translated."""
    data = books.pandoc_book(tmp_path, "epub2")
    before, after = Opened(data), Opened(translated(data, layout))
    assert after.opf.get("version") == before.opf.get("version") == "2.0"
    assert not after.opf.xpath("//o:meta[@property]", namespaces=NS)
    assert after.metadata("language") == (["en"] if layout == Layout.ENGLISH else ["fr", "en"])
    assert after.identifier() != before.identifier()
    ncx = after.xml(after.item("@media-type='application/x-dtbncx+xml'") or "")
    assert in_layout("Chapitre 1", layout) in ncx.xpath("//n:navMap//n:text/text()", namespaces=NS)
    if epubcheck.available():
        path = tmp_path / "out.epub"
        path.write_bytes(translated(data, layout))
        epubcheck.assert_valid(path)


@pytest.mark.parametrize("layout", formats.LAYOUTS)
def test_a_navigation_with_an_image_and_a_note_keeps_its_list(layout: str) -> None:
    """Content inside a `<nav>` (an icon with alt text in a label, a paragraph) never splits the list."""
    nav = (
        '<nav epub:type="toc" id="toc"><h1>Sommaire</h1><p>Choisissez un chapitre.</p><ol><li>'
        '<a href="c0.xhtml"><img src="pixel.png" alt="Une icône du chapitre"/> Premier chapitre</a></li></ol></nav>'
    )
    chapter = make_epub("Livre", [("Sommaire", nav)], "fr", [("pixel.png", "image/png", PNG)])
    page = Opened(translated(chapter, layout)).xml("OEBPS/c0.xhtml")
    assert not page.xpath("//x:nav//x:table", namespaces=NS)
    assert len(page.xpath("//x:nav/x:ol", namespaces=NS)) == 1
    assert page.xpath("//x:nav/x:ol/x:li/x:a/@href", namespaces=NS) == ["c0.xhtml"]
