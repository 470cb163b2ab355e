"""An EPUB 2 table of contents (`toc.ncx`), which EPUB 3 books often carry too: its labels translated in place.

Every `navLabel` (the navigation map, page list, navigation lists) and the book's title (`docTitle`) are
written in the layout, as the navigation document's are; `dtb:uid` becomes the output's identifier, which
it must equal.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from lxml import etree

from models.document import BilingualBlock
from service.formats.base import Layout
from service.formats.epub_xhtml import LETTER, XML_LANG, label, plain

NCX = "http://www.daisy.org/z3986/2005/ncx/"


def n(tag: str) -> str:
    return f"{{{NCX}}}{tag}"


def labels(root: etree._Element) -> Iterator[etree._Element]:
    """The `<text>` of every label, and of the title, that has words."""
    for parent in (*root.iter(n("navLabel")), *root.iter(n("docTitle"))):
        for text in parent.iter(n("text")):
            if LETTER.search(text.text or ""):
                yield text


def rewrite(
    root: etree._Element, english: Mapping[str, BilingualBlock], layout: Layout, title: str | None, identifier: str
) -> None:
    """The labels in `layout` (each from the block of the same French), `title` as the book's, the new uid."""
    for text in labels(root):
        parent = text.getparent()
        if title is not None and parent is not None and parent.tag == n("docTitle"):
            text.text = title
        elif (block := english.get(plain(text.text or ""))) is not None and block.translated:
            text.text = label(block, layout)
    for meta in root.iter(n("meta")):
        if meta.get("name") == "dtb:uid":
            meta.set("content", identifier)
    if layout == Layout.ENGLISH and root.get(XML_LANG):
        root.set(XML_LANG, "en")
