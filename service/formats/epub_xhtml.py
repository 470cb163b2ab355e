"""An EPUB's XHTML documents: what is translated in one (its units) and how the English is placed in each
`Layout`, the stylesheet the bilingual layouts link, and navigation labels (`<nav>`) written in place.

A unit is a block element (heading, paragraph, list item, caption, cell…), an image's alt text, or a
navigation label: the `<a>`/`<span>` of a `<nav>`'s list item, or the `<nav>`'s own heading. Labels are
translated where they stand, so the navigation keeps its links and the structure EPUB requires
(`nav > h? > ol > li > a`): in English the label is the English, in a bilingual layout "French / English".
"""

from __future__ import annotations

import copy
import posixpath
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from lxml import etree

from models.document import BilingualBlock, Block, BlockKind
from service.formats.base import Layout
from service.formats.package import own_text, set_own_text

XHTML = "http://www.w3.org/1999/xhtml"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
LETTER = re.compile(r"[^\W\d_]")


def h(tag: str) -> str:
    return f"{{{XHTML}}}{tag}"


HEADINGS = frozenset(h(f"h{n}") for n in range(1, 7))
BLOCKS = HEADINGS | frozenset(
    h(t) for t in ("p", "li", "dt", "dd", "figcaption", "td", "th", "caption", "blockquote", "div")
)
IMG = h("img")
NAV = h("nav")
STOP = BLOCKS | {IMG}
_LABELS = frozenset((h("a"), h("span")))
_IN_CELL = frozenset(h(t) for t in ("td", "th", "caption", "figcaption"))  # one per parent: English inside
# a block here may be wrapped in a table (side-by-side): flow content (not a `<nav>`: its structure is fixed)
_FLOW = frozenset(h(t) for t in ("body", "section", "article", "aside", "div", "main", "header", "footer"))
# side by side, what stands whole in each column: a list, a table, a figure, with its English copy beside it
_GROUPS = frozenset(h(t) for t in ("ul", "ol", "dl", "table", "figure"))
# attributes a copy cannot keep: ids must be unique, and what refers to ids would then point at the French
_REFERENCES = ("id", "headers", "aria-labelledby", "aria-describedby")

TRANSLATION = "translation"  # the class of every English copy: the stylesheet sets it apart
STYLESHEET = """/* bitext: French and English together */
.translation { color: #1a4f8b; font-style: italic; }
table.bitext-pair { table-layout: fixed; width: 100%; border-collapse: collapse; margin: 0 0 1em 0; }
table.bitext-pair col, table.bitext-pair td.bitext-fr, table.bitext-pair td.bitext-en { width: 50%; }
table.bitext-pair td { vertical-align: top; padding: 0 0.6em; overflow-wrap: break-word; }
table.bitext-pair td > :first-child { margin-top: 0; }
table.bitext-pair td > :last-child { margin-bottom: 0; }
table.bitext-pair td.bitext-en { border-left: 1px solid #c5d2e0; }
table.bitext-pair td .translation { font-style: normal; }
table.bitext-pair img { max-width: 100%; height: auto; }
"""


class Role(StrEnum):
    CONTENT = "content"  # laid out in the layout: the English after, beside or instead of the French
    LABEL = "label"  # a navigation label: translated in place


@dataclass(frozen=True, slots=True)
class Unit:
    element: etree._Element
    block: Block
    role: Role


def plain(text: str) -> str:
    """A text as blocks hold it: runs of whitespace as one space."""
    return " ".join(text.split())


def _navigation(body: etree._Element) -> tuple[set[etree._Element], set[etree._Element]]:
    """The labels of every `<nav>` (a heading of its own, each item's `<a>`/`<span>`) and its list items."""
    labels: set[etree._Element] = set()
    items: set[etree._Element] = set()
    for nav in body.iter(NAV):
        labels.update(child for child in nav if child.tag in HEADINGS)
        for item in nav.iter(h("li")):
            items.add(item)
            labels.update(child for child in item if child.tag in _LABELS)
    return labels, items


def units(root: etree._Element) -> list[Unit]:
    """The translatable elements of one XHTML document, in order, each with its block."""
    body = root.find(h("body"))
    if body is None:
        return []
    labels, items = _navigation(body)
    found: list[Unit] = []
    for element in body.iter(*STOP, *_LABELS):
        if element.tag == IMG:
            alt = element.get("alt") or ""
            if LETTER.search(alt):
                found.append(Unit(element, Block(BlockKind.IMAGE, alt, url=element.get("src")), Role.CONTENT))
            continue
        if element in items or (element.tag in _LABELS and element not in labels):
            continue
        text = plain(own_text(element, STOP))
        if LETTER.search(text):
            kind = BlockKind.HEADING if element.tag in HEADINGS else BlockKind.PARAGRAPH
            found.append(Unit(element, Block(kind, text), Role.LABEL if element in labels else Role.CONTENT))
    return found


def label(block: BilingualBlock, layout: Layout) -> str:
    """A label (a navigation entry, a title) in `layout`: the English, or "French / English"."""
    if layout == Layout.ENGLISH:
        return block.en
    return block.fr if block.en in ("", block.fr) else f"{block.fr} / {block.en}"


def place_all(placed: Sequence[tuple[Unit, BilingualBlock]], layout: Layout) -> None:
    """The English of each unit of one document put in `layout`. Side by side, the units of one list,
    table or figure go beside it together, as a copy of it in English."""
    if layout != Layout.SIDE_BY_SIDE:
        for unit, block in placed:
            place(unit, block, layout)
        return
    groups: dict[etree._Element, list[tuple[Unit, BilingualBlock]]] = {}
    for unit, block in placed:
        group = _group(unit.element) if unit.role == Role.CONTENT else None
        if group is None:
            place(unit, block, layout)
        else:
            groups.setdefault(group, []).append((unit, block))
    for group, members in groups.items():
        _pair_group(group, members)


def _group(element: etree._Element) -> etree._Element | None:
    """The outermost list, table or figure around `element` that can stand in a column, if any."""
    found = None
    for ancestor in element.iterancestors():
        if ancestor.tag == NAV:  # a navigation list stays one list
            return None
        if ancestor.tag in _GROUPS:
            found = ancestor
    parent = found.getparent() if found is not None else None
    return found if parent is not None and parent.tag in _FLOW else None


def place(unit: Unit, block: BilingualBlock, layout: Layout) -> None:
    """The English of `unit` put in its document in `layout`."""
    element = unit.element
    if unit.role == Role.LABEL:
        set_own_text(element, label(block, layout), STOP)
    elif element.tag == IMG:
        element.set("alt", block.en if layout == Layout.ENGLISH else f"{block.fr} — {block.en}")
    elif layout == Layout.ENGLISH:
        set_own_text(element, block.en, STOP)
    elif layout == Layout.SIDE_BY_SIDE:
        _pair(element, block)
    else:
        _interleave(element, block)


def _english(element: etree._Element, text: str) -> etree._Element:
    """A sibling for `element`: same tag, its class and `translation`, no id, `text` in English."""
    twin = etree.Element(element.tag)
    twin.set("class", " ".join((*(element.get("class") or "").split(), TRANSLATION)))
    if element.get("dir"):
        twin.set("dir", element.get("dir", ""))
    twin.set("lang", "en")
    twin.set(XML_LANG, "en")
    twin.text = text
    return twin


def _interleave(element: etree._Element, block: BilingualBlock) -> None:
    if element.tag in _IN_CELL:  # a cell cannot have a sibling cell added: the English goes inside it
        element.append(etree.Element(h("br")))
        span = etree.SubElement(element, h("span"), {"class": TRANSLATION, "lang": "en", XML_LANG: "en"})
        span.text = block.en
    else:
        element.addnext(_english(element, block.en))


def _pair(element: etree._Element, block: BilingualBlock) -> None:
    parent = element.getparent()
    if parent is None or parent.tag not in _FLOW or element.tag in _IN_CELL:
        _interleave(element, block)
    else:
        _columns(element, _english(element, block.en))


def _pair_group(group: etree._Element, members: Sequence[tuple[Unit, BilingualBlock]]) -> None:
    """A list, table or figure beside its copy, in which each translated unit holds its English."""
    english = copy.deepcopy(group)
    twin = dict(zip(group.iter(), english.iter(), strict=True))
    for unit, block in members:
        target = twin[unit.element]
        if target.tag == IMG:
            target.set("alt", block.en)
            continue
        set_own_text(target, block.en, STOP)
        target.set("class", " ".join((*(target.get("class") or "").split(), TRANSLATION)))
        target.set("lang", "en")
        target.set(XML_LANG, "en")
    for element in english.iter():
        for name in _REFERENCES:
            element.attrib.pop(name, None)
    _columns(group, english)


def _columns(french: etree._Element, english: etree._Element) -> None:
    """`french` and `english` as one row of a two-column table of fixed, equal columns, where `french` was."""
    parent = french.getparent()
    assert parent is not None
    table = etree.Element(h("table"), {"class": "bitext-pair"})
    columns = etree.SubElement(table, h("colgroup"))
    etree.SubElement(columns, h("col"), {"class": "bitext-fr"})
    etree.SubElement(columns, h("col"), {"class": "bitext-en"})
    row = etree.SubElement(table, h("tr"))
    left = etree.SubElement(row, h("td"), {"class": "bitext-fr", "lang": "fr", XML_LANG: "fr"})
    right = etree.SubElement(row, h("td"), {"class": "bitext-en", "lang": "en", XML_LANG: "en"})
    table.tail, french.tail, english.tail = french.tail, None, None
    parent.replace(french, table)
    left.append(french)
    right.append(english)


def link_stylesheet(root: etree._Element, document: str, stylesheet: str) -> None:
    """`<link>` to `stylesheet` (a path in the package) at the end of the head of `document`."""
    head = root.find(h("head"))
    if head is None:
        head = etree.Element(h("head"))
        root.insert(0, head)
    href = posixpath.relpath(stylesheet, posixpath.dirname(document) or ".")
    etree.SubElement(head, h("link"), {"rel": "stylesheet", "type": "text/css", "href": href})


def titles(root: etree._Element) -> Iterator[etree._Element]:
    """The document's `<title>`, if it has one."""
    head = root.find(h("head"))
    if head is not None:
        yield from head.iter(h("title"))


def set_language(root: etree._Element, layout: Layout) -> None:
    if layout == Layout.ENGLISH:
        root.set("lang", "en")
        root.set(XML_LANG, "en")
