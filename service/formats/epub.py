"""EPUB: the book's title, the spine's XHTML documents in order (headings, paragraphs, list items,
captions, cells, footnotes — an `<aside>`'s paragraphs —, image alt text, navigation labels), and the
navigation that is not in the spine (the navigation document, `toc.ncx`); written back as an EPUB of its own.

The blocks are the `dc:title`s, then each spine document's units (`epub_xhtml`), then the navigation
labels read nowhere else (a label that repeats a heading or the title is translated with it). The output
rewrites the spine's documents in the layout, the navigation document and `toc.ncx` in place (links
and structure kept), and the package document as a new book's (`epub_opf`); the bilingual layouts add a
stylesheet. Styles, fonts and images are copied byte for byte. Inline markup inside a translated
paragraph (emphasis, links) is kept on the French; the English copy is plain text in this version.
`make_epub` builds a new EPUB 3 from chapters of XHTML (a PDF's bilingual e-book, the tests, the bench).
"""

from __future__ import annotations

import dataclasses
import posixpath
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from lxml import etree

from models.document import BilingualBlock, BilingualDocument, Block, BlockKind, Document
from service.formats import epub_ncx
from service.formats.base import FormatError, Layout, Source
from service.formats.epub_opf import Book, book_title, output_identifier, read_book, rewrite, unused_name
from service.formats.epub_xhtml import (
    STYLESHEET,
    XHTML,
    label,
    link_stylesheet,
    place_all,
    plain,
    set_language,
    titles,
    units,
)
from service.formats.package import Package, serialize
from service.formats.work import WorkBudget
from service.jobs.limits import Limits
from service.jobs.reasons import Reason

__all__ = ["XHTML", "Epub", "make_epub", "xhtml_page"]


@dataclass(frozen=True, slots=True)
class Parsed:
    package: Package
    book: Book
    counts: tuple[tuple[str, int], ...]  # blocks per spine document, after the book's titles


def _navigation(package: Package, book: Book, budget: WorkBudget) -> list[Block]:
    """The blocks of the navigation the spine does not hold: the navigation document's units, `toc.ncx`'s labels."""
    found: list[Block] = []
    if book.nav is not None and book.nav not in book.spine:
        found += [unit.block for unit in units(package.xml(book.nav, budget))]
    if book.ncx is not None:
        found += [
            Block(BlockKind.PARAGRAPH, plain(text.text or ""))
            for text in epub_ncx.labels(package.xml(book.ncx, budget))
        ]
    return found


class Epub:
    kind = "epub"

    def read(self, data: bytes, caps: Limits) -> Source:
        package = Package(data, caps, "EPUB")
        budget = WorkBudget.for_input(len(data), caps, "EPUB")
        book = read_book(package, budget)
        blocks = [Block(BlockKind.TITLE, title) for title in book.titles]
        counts = []
        for name in book.spine:
            found = units(package.xml(name, budget))
            counts.append((name, len(found)))
            blocks += [unit.block for unit in found]
        if not counts:
            raise FormatError(Reason.UNPARSABLE, "the EPUB's spine holds no XHTML document")
        known = {block.text for block in blocks}
        for block in _navigation(package, book, budget):
            if block.text not in known:
                known.add(block.text)
                blocks.append(block)
        document = Document(tuple(blocks), ("", *(["\n\n"] * len(blocks))), self.kind)
        return Source(self.kind, data, document, Parsed(package, book, tuple(counts)))

    def bilingual(self, source: Source, result: BilingualDocument) -> BilingualDocument:
        return dataclasses.replace(result, format=self.kind)

    def write(self, source: Source, result: BilingualDocument, layout: Layout, suffix: str) -> bytes:
        parsed: Parsed = source.state
        package, book = parsed.package, parsed.book
        english: dict[str, BilingualBlock] = {}
        for block, done in zip(source.document.blocks, result.blocks, strict=True):
            english.setdefault(block.text, done)
        stylesheet = None
        if layout != Layout.ENGLISH:
            stylesheet = unused_name(package, posixpath.join(posixpath.dirname(book.opf), "bitext.css"))
        replaced = {}
        start = len(book.titles)
        for name, count in parsed.counts:
            root = package.xml(name)
            found = zip(units(root), result.blocks[start : start + count], strict=True)
            place_all([(unit, done) for unit, done in found if done.translated], layout)
            start += count
            replaced[name] = _finish(root, name, english, layout, stylesheet)
        if book.nav is not None and book.nav not in replaced:
            root = package.xml(book.nav)
            known = [(unit, english.get(unit.block.text)) for unit in units(root)]
            place_all([(unit, done) for unit, done in known if done is not None and done.translated], layout)
            replaced[book.nav] = _finish(root, book.nav, english, layout, stylesheet)
        titled = list(result.blocks[: len(book.titles)])
        identifier = output_identifier(book, layout)
        if book.ncx is not None:
            root = package.xml(book.ncx)
            main = book_title(titled[0], layout) if titled and titled[0].translated else None
            epub_ncx.rewrite(root, english, layout, main, identifier)
            replaced[book.ncx] = serialize(root)
        root = package.xml(book.opf)
        rewrite(root, book, layout, titled, stylesheet)
        replaced[book.opf] = serialize(root)
        added = [(stylesheet, STYLESHEET.encode())] if stylesheet is not None else []
        return package.write(replaced, added)


def _finish(
    root: etree._Element,
    name: str,
    english: Mapping[str, BilingualBlock],
    layout: Layout,
    stylesheet: str | None,
) -> bytes:
    """A rewritten XHTML document: its `<title>` translated when the book holds its text, the English
    layout's language, the bilingual layouts' stylesheet linked."""
    for title in titles(root):
        found = english.get(plain(title.text or ""))
        if found is not None and found.translated:
            title.text = label(found, layout)
    set_language(root, layout)
    if stylesheet is not None:
        link_stylesheet(root, name, stylesheet)
    return serialize(root)


_CONTAINER_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<container version="1.0" '
    'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
    '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>'
)


def xhtml_page(title: str, body: str, lang: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n'
        f'<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="{lang}" '
        f'xml:lang="{lang}"><head><meta charset="utf-8"/><title>{escape(title)}</title></head>'
        f"<body>{body}</body></html>"
    )


def make_epub(
    title: str,
    chapters: Sequence[tuple[str, str]],
    lang: str = "fr",
    resources: Sequence[tuple[str, str, bytes]] = (),
) -> bytes:
    """A valid EPUB 3: `chapters` are (title, XHTML body markup) pairs; `resources` (name, media type, bytes)
    sit beside them (images)."""
    import io
    import zipfile
    from datetime import UTC, datetime

    out = io.BytesIO()
    modified = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    items = "".join(
        f'<item id="c{i}" href="c{i}.xhtml" media-type="application/xhtml+xml"/>' for i in range(len(chapters))
    )
    items += "".join(
        f'<item id="r{i}" href="{escape(name)}" media-type="{media}"/>' for i, (name, media, _) in enumerate(resources)
    )
    spine = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
    opf = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
        f'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:identifier id="id">urn:uuid:{uuid.uuid4()}</dc:identifier><dc:title>{escape(title)}</dc:title>'
        f'<dc:language>{lang}</dc:language><meta property="dcterms:modified">{modified}</meta></metadata>'
        f'<manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>{items}'
        f"</manifest><spine>{spine}</spine></package>"
    )
    toc = "".join(f'<li><a href="c{i}.xhtml">{escape(name)}</a></li>' for i, (name, _) in enumerate(chapters))
    nav = xhtml_page(title, f'<nav epub:type="toc" id="toc"><h1>{escape(title)}</h1><ol>{toc}</ol></nav>', lang)
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip", zipfile.ZIP_STORED)
        archive.writestr("META-INF/container.xml", _CONTAINER_XML, zipfile.ZIP_DEFLATED)
        archive.writestr("OEBPS/content.opf", opf, zipfile.ZIP_DEFLATED)
        archive.writestr("OEBPS/nav.xhtml", nav, zipfile.ZIP_DEFLATED)
        for i, (name, body) in enumerate(chapters):
            archive.writestr(f"OEBPS/c{i}.xhtml", xhtml_page(name, body, lang), zipfile.ZIP_DEFLATED)
        for name, _, data in resources:
            archive.writestr(f"OEBPS/{name}", data, zipfile.ZIP_DEFLATED)
    return out.getvalue()
