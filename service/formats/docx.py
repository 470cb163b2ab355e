"""DOCX: paragraphs, headings, list items, table cells, footnotes and endnotes; written back as DOCX.

Only `word/document.xml`, `word/footnotes.xml` and `word/endnotes.xml` are rewritten; every other
part (styles, images, numbering, relationships) is copied byte for byte. A paragraph's text is
its runs' text; in this version the English paragraph is one run in the style of the French
paragraph's first run (emphasis inside a paragraph is not carried over: it stays plain text).
"""

from __future__ import annotations

import copy
import dataclasses
import re
from dataclasses import dataclass

from lxml import etree

from models.document import BilingualDocument, Block, BlockKind, Document
from service.formats.base import FormatError, Source
from service.formats.package import Package, serialize
from service.jobs import limits
from service.jobs.limits import Limits

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
PARTS = ("word/document.xml", "word/footnotes.xml", "word/endnotes.xml")
_LETTER = re.compile(r"[^\W\d_]")


def w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


P, R, T, PPR, RPR, BODY, TBL, SECTPR = (w(t) for t in ("p", "r", "t", "pPr", "rPr", "body", "tbl", "sectPr"))
_SPACES = {w("tab"): "\t", w("br"): " ", w("cr"): " ", w("noBreakHyphen"): "-"}


@dataclass(frozen=True, slots=True)
class Parsed:
    package: Package
    counts: tuple[tuple[str, int], ...]  # blocks per part, in order


def paragraphs(root: etree._Element) -> list[etree._Element]:
    """Paragraphs with words, in document order (not a drawing's compatibility fallback copy)."""
    found = []
    for p in root.iter(P):
        if any(a.tag == MC_FALLBACK for a in p.iterancestors()):
            continue
        if _LETTER.search(text_of(p)):
            found.append(p)
    return found


def _own(p: etree._Element) -> list[etree._Element]:
    """The elements of `p` that are its own (not inside a nested paragraph: a text box)."""
    out: list[etree._Element] = []
    stack = list(reversed(p))
    while stack:
        node = stack.pop()
        if node.tag == P:
            continue
        out.append(node)
        stack.extend(reversed(node))
    return out


def text_of(p: etree._Element) -> str:
    return "".join(node.text or "" if node.tag == T else _SPACES.get(node.tag, "") for node in _own(p))


def _kind(p: etree._Element) -> BlockKind:
    style = p.find(f"{PPR}/{w('pStyle')}")
    name = (style.get(w("val")) or "").lower() if style is not None else ""
    if name == "title" or name == "titre":
        return BlockKind.TITLE
    if name.startswith(("heading", "titre")) or p.find(f"{PPR}/{w('outlineLvl')}") is not None:
        return BlockKind.HEADING
    return BlockKind.PARAGRAPH


def english_copy(p: etree._Element, english: str) -> etree._Element:
    """A new paragraph in `p`'s paragraph style and first run's style, holding `english`; no numbering,
    bookmarks, notes or section break are copied (they belong to the French)."""
    new = etree.Element(P)
    props = p.find(PPR)
    if props is not None:
        props = copy.deepcopy(props)
        for tag in ("numPr", "sectPr"):
            for found in props.findall(w(tag)):
                props.remove(found)
        new.append(props)
    run = etree.SubElement(new, R)
    first = next((r for r in _own(p) if r.tag == R and r.find(T) is not None), None)
    if first is not None and (run_props := first.find(RPR)) is not None:
        run.append(copy.deepcopy(run_props))
    text = etree.SubElement(run, T)
    text.text = english
    text.set(XML_SPACE, "preserve")
    return new


def set_text(p: etree._Element, english: str) -> None:
    """`p` holding `english` in its first text run; its other runs keep images, notes and links, not text."""
    texts = [node for node in _own(p) if node.tag == T]
    for number, node in enumerate(texts):
        node.text = english if number == 0 else ""
        if number == 0:
            node.set(XML_SPACE, "preserve")


class Docx:
    suffixes: tuple[str, ...] = (".docx",)
    kind = "docx"

    def read(self, data: bytes, caps: Limits) -> Source:
        package = Package(data, caps, "DOCX")
        if "word/document.xml" not in package.parts:
            raise FormatError(limits.UNPARSABLE, "not a DOCX: no word/document.xml")
        blocks: list[Block] = []
        counts = []
        for part in PARTS:
            if part not in package.parts:
                continue
            found = paragraphs(package.xml(part))
            counts.append((part, len(found)))
            blocks += [Block(_kind(p), text_of(p)) for p in found]
        document = Document(tuple(blocks), ("", *(["\n\n"] * len(blocks))), self.kind)
        return Source(self.kind, data, document, Parsed(package, tuple(counts)))

    def bilingual(self, source: Source, result: BilingualDocument) -> BilingualDocument:
        return dataclasses.replace(result, format=self.kind)

    def write(self, source: Source, result: BilingualDocument, layout: str, suffix: str) -> bytes:
        parsed: Parsed = source.state
        replaced = {}
        start = 0
        for part, count in parsed.counts:
            root = parsed.package.xml(part)
            found = paragraphs(root)
            english = {id(p): block.en for p, block in zip(found, result.blocks[start : start + count], strict=True)}
            start += count
            if layout == "side-by-side" and part == "word/document.xml":
                _side_by_side(root, english)
            else:
                for p in found:
                    if layout == "english":
                        set_text(p, english[id(p)])
                    else:
                        p.addnext(english_copy(p, english[id(p)]))
            replaced[part] = serialize(root, standalone=True)
        return parsed.package.write(replaced)


def _cell(children: list[etree._Element]) -> etree._Element:
    cell = etree.Element(w("tc"))
    props = etree.SubElement(cell, w("tcPr"))
    etree.SubElement(props, w("tcW"), {w("w"): "2500", w("type"): "pct"})
    for child in children:
        for section in child.iter(SECTPR):  # a section break cannot sit in a table cell
            section.getparent().remove(section)
        cell.append(child)
    if not len(children) or children[-1].tag != P:  # a cell ends with a paragraph
        cell.append(etree.Element(P))
    return cell


def _side_by_side(root: etree._Element, english: dict[int, str]) -> None:
    """The body as one two-column table: each element of the body beside its English."""
    body = root.find(BODY)
    if body is None:
        raise FormatError(limits.UNPARSABLE, "word/document.xml has no body")
    table = etree.Element(TBL)
    props = etree.SubElement(table, w("tblPr"))
    etree.SubElement(props, w("tblW"), {w("w"): "5000", w("type"): "pct"})
    etree.SubElement(props, w("tblLayout"), {w("type"): "fixed"})
    grid = etree.SubElement(table, w("tblGrid"))
    for _ in range(2):
        etree.SubElement(grid, w("gridCol"), {w("w"): "4675"})
    for child in list(body):
        if child.tag == SECTPR:
            continue
        body.remove(child)
        if child.tag == P:
            right = [english_copy(child, english[id(child)])] if id(child) in english else []
        else:  # a table, a content control: its copy with the English in place
            twin = copy.deepcopy(child)
            for original, copied in zip(child.iter(P), twin.iter(P), strict=True):
                if id(original) in english:
                    set_text(copied, english[id(original)])
            for bookmark in [*twin.iter(w("bookmarkStart")), *twin.iter(w("bookmarkEnd"))]:
                bookmark.getparent().remove(bookmark)
            right = [twin]
        row = etree.SubElement(table, w("tr"))
        row.append(_cell([child]))
        row.append(_cell(right))
    body.insert(0, table)
