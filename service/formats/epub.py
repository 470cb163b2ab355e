"""EPUB: the spine's XHTML documents in order; headings, paragraphs, list items, captions, cells,
footnotes (an `<aside>`'s paragraphs) and image alt text; written back as EPUB.

Only the spine's documents are rewritten; the package document, navigation, styles, fonts and
images are copied byte for byte. Inline markup inside a translated paragraph (emphasis, links)
is kept on the French; the English copy is plain text in this version. `make_epub` builds a new
EPUB 3 from chapters of XHTML (a PDF's bilingual e-book, the tests, the bench).
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from lxml import etree

from models.document import BilingualBlock, BilingualDocument, Block, BlockKind, Document
from service.formats.base import FormatError, Layout, Source
from service.formats.package import Package, own_text, serialize, set_own_text
from service.formats.work import WorkBudget
from service.jobs import limits
from service.jobs.limits import Limits

XHTML = "http://www.w3.org/1999/xhtml"
OPF = "http://www.idpf.org/2007/opf"
CONTAINER = "urn:oasis:names:tc:opendocument:xmlns:container"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_LETTER = re.compile(r"[^\W\d_]")


def h(tag: str) -> str:
    return f"{{{XHTML}}}{tag}"


HEADINGS = frozenset(h(f"h{n}") for n in range(1, 7))
BLOCKS = HEADINGS | frozenset(
    h(t) for t in ("p", "li", "dt", "dd", "figcaption", "td", "th", "caption", "blockquote", "div")
)
IMG = h("img")
_STOP = BLOCKS | {IMG}
_IN_CELL = frozenset(h(t) for t in ("td", "th", "caption", "figcaption"))  # one per parent: English inside
# a block here may be wrapped in a table (side-by-side): flow content
_FLOW = frozenset(h(t) for t in ("body", "section", "article", "aside", "div", "main", "header", "footer", "nav"))


@dataclass(frozen=True, slots=True)
class Parsed:
    package: Package
    counts: tuple[tuple[str, int], ...]  # blocks per spine document


def _spine(package: Package, budget: WorkBudget) -> list[str]:
    container = package.xml("META-INF/container.xml", budget)
    rootfile = container.find(f".//{{{CONTAINER}}}rootfile")
    if rootfile is None or not rootfile.get("full-path"):
        raise FormatError(limits.UNPARSABLE, "META-INF/container.xml names no package document")
    opf_name = rootfile.get("full-path", "")
    opf = package.xml(opf_name, budget)
    base = posixpath.dirname(opf_name)
    items = {}
    for item in opf.iter(f"{{{OPF}}}item"):
        href = posixpath.normpath(posixpath.join(base, item.get("href", "")))
        if item.get("media-type") == "application/xhtml+xml" and not href.startswith(".."):
            items[item.get("id")] = href
    spine = [items[ref.get("idref")] for ref in opf.iter(f"{{{OPF}}}itemref") if ref.get("idref") in items]
    return [name for name in dict.fromkeys(spine) if name in package.by_name]


def _units(root: etree._Element) -> list[tuple[etree._Element, Block]]:
    """The translatable elements of one XHTML document, in order, each with its block."""
    body = root.find(h("body"))
    found: list[tuple[etree._Element, Block]] = []
    for element in body.iter(*_STOP) if body is not None else ():
        if element.tag == IMG:
            alt = element.get("alt") or ""
            if _LETTER.search(alt):
                found.append((element, Block(BlockKind.IMAGE, alt, url=element.get("src"))))
            continue
        text = " ".join(own_text(element, _STOP).split())
        if _LETTER.search(text):
            kind = BlockKind.HEADING if element.tag in HEADINGS else BlockKind.PARAGRAPH
            found.append((element, Block(kind, text)))
    return found


def _english(element: etree._Element, text: str) -> etree._Element:
    """A sibling for `element`: same tag and class, no id, `text` in English."""
    twin = etree.Element(element.tag)
    for name in ("class", "dir"):
        if element.get(name):
            twin.set(name, element.get(name, ""))
    twin.set("lang", "en")
    twin.set(XML_LANG, "en")
    twin.text = text
    return twin


def _interleave(element: etree._Element, block: BilingualBlock) -> None:
    if element.tag == IMG:
        element.set("alt", f"{block.fr} — {block.en}")
    elif element.tag in _IN_CELL:  # a cell cannot have a sibling cell added: the English goes inside it
        element.append(etree.Element(h("br")))
        span = etree.SubElement(element, h("span"), {"lang": "en", XML_LANG: "en"})
        span.text = block.en
    else:
        element.addnext(_english(element, block.en))


def _pair(element: etree._Element, block: BilingualBlock) -> None:
    parent = element.getparent()
    if element.tag == IMG or parent is None or parent.tag not in _FLOW or element.tag in _IN_CELL:
        _interleave(element, block)
        return
    table = etree.Element(h("table"), {"class": "bitext-pair"})
    row = etree.SubElement(table, h("tr"))
    left = etree.SubElement(row, h("td"), {"lang": "fr", XML_LANG: "fr"})
    right = etree.SubElement(row, h("td"), {"lang": "en", XML_LANG: "en"})
    table.tail, element.tail = element.tail, None
    parent.replace(element, table)
    left.append(element)
    right.append(_english(element, block.en))


class Epub:
    kind = "epub"

    def read(self, data: bytes, caps: Limits) -> Source:
        package = Package(data, caps, "EPUB")
        budget = WorkBudget.for_input(len(data), caps, "EPUB")
        blocks: list[Block] = []
        counts = []
        for name in _spine(package, budget):
            units = _units(package.xml(name, budget))
            counts.append((name, len(units)))
            blocks += [block for _, block in units]
        if not counts:
            raise FormatError(limits.UNPARSABLE, "the EPUB's spine holds no XHTML document")
        document = Document(tuple(blocks), ("", *(["\n\n"] * len(blocks))), self.kind)
        return Source(self.kind, data, document, Parsed(package, tuple(counts)))

    def bilingual(self, source: Source, result: BilingualDocument) -> BilingualDocument:
        return dataclasses.replace(result, format=self.kind)

    def write(self, source: Source, result: BilingualDocument, layout: Layout, suffix: str) -> bytes:
        parsed: Parsed = source.state
        replaced = {}
        start = 0
        for name, count in parsed.counts:
            root = parsed.package.xml(name)
            units = _units(root)
            for (element, _), block in zip(units, result.blocks[start : start + count], strict=True):
                if not block.translated:
                    continue
                if layout == Layout.ENGLISH:
                    if element.tag == IMG:
                        element.set("alt", block.en)
                    else:
                        set_own_text(element, block.en, _STOP)
                elif layout == Layout.SIDE_BY_SIDE:
                    _pair(element, block)
                else:
                    _interleave(element, block)
            start += count
            if layout == Layout.ENGLISH:
                root.set("lang", "en")
                root.set(XML_LANG, "en")
            replaced[name] = serialize(root)
        return parsed.package.write(replaced)


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
