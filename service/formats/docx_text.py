"""DOCX paragraphs in WordprocessingML: finding them, their text and emphasis as markdown, and the English
written back as runs (a copy of a paragraph, or in its place). The handler is `service.formats.docx`.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Protocol

from lxml import etree

from models import markup
from models.document import BilingualBlock, Block, BlockKind
from service.formats.package import Package

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
    """Paragraphs with words, in document order (not a drawing's compatibility fallback copy); one walk
    of the tree, so nesting costs nothing more than the elements it holds."""
    found = []
    stack: list[tuple[etree._Element, bool]] = [(root, False)]
    while stack:
        node, fallback = stack.pop()
        fallback = fallback or node.tag == MC_FALLBACK
        if node.tag == P and not fallback and _LETTER.search(text_of(node)):
            found.append(node)
        stack.extend((child, fallback) for child in reversed(node))
    return found


def _own(p: etree._Element) -> list[etree._Element]:
    """The elements of `p` that are its own (not inside a nested paragraph: a text box), in document order."""
    out: list[etree._Element] = []
    stack = list(reversed(p))
    while stack:
        node = stack.pop()
        if node.tag == P:
            continue
        out.append(node)
        stack.extend(reversed(node))
    return out


def _piece(node: etree._Element) -> str:
    return node.text or "" if node.tag == T else _SPACES.get(node.tag, "")


def text_of(p: etree._Element) -> str:
    return "".join(_piece(node) for node in _own(p))


def _kind(p: etree._Element) -> BlockKind:
    style = p.find(f"{PPR}/{w('pStyle')}")
    name = (style.get(w("val")) or "").lower() if style is not None else ""
    if name == "title" or name == "titre":
        return BlockKind.TITLE
    if name.startswith(("heading", "titre")) or p.find(f"{PPR}/{w('outlineLvl')}") is not None:
        return BlockKind.HEADING
    return BlockKind.PARAGRAPH


_EMPHASIS = (w("b"), w("bCs"), w("i"), w("iCs"))
_OFF = frozenset({"0", "false", "off"})
_MARKUP_CHARS = frozenset("*`[")


def _on(props: etree._Element | None, tag: str) -> bool:
    found = props.find(w(tag)) if props is not None else None
    return found is not None and (found.get(w("val")) or "true").lower() not in _OFF


def _text_runs(p: etree._Element) -> list[tuple[str, bool, bool]]:
    """The paragraph's text, run by run, with each run's bold and italic: each piece of text belongs to
    its nearest run (runs nested in runs, which Word never writes, neither repeat nor reorder text)."""
    pieces: list[tuple[etree._Element, list[str]]] = []
    stack: list[tuple[etree._Element, etree._Element | None]] = [(child, None) for child in reversed(p)]
    while stack:
        node, run = stack.pop()
        if node.tag == P:
            continue
        if node.tag == R:
            run = node
        elif run is not None and (piece := _piece(node)):
            if pieces and pieces[-1][0] is run:
                pieces[-1][1].append(piece)
            else:
                pieces.append((run, [piece]))
        stack.extend((child, run) for child in reversed(node))
    runs: list[tuple[str, bool, bool]] = []
    for run, texts in pieces:
        props = run.find(RPR)
        runs.append(("".join(texts), _on(props, "b"), _on(props, "i")))
    return runs


def markdown_of(p: etree._Element) -> str | None:
    """The paragraph as markdown when its runs differ in bold or italic (bold italic counts as bold);
    None when that is not needed or cannot be said unambiguously (its text then stays plain)."""
    runs = [(text, bold, italic and not bold) for text, bold, italic in _text_runs(p)]
    if len({(bold, italic) for text, bold, italic in runs if text.strip()}) < 2:
        return None
    plain = "".join(text for text, _, _ in runs)
    if _MARKUP_CHARS & set(plain):
        return None
    grouped: list[tuple[list[str], bool, bool]] = []  # runs of one style, joined once (not copied per run)
    for text, bold, italic in runs:
        if grouped and (grouped[-1][1], grouped[-1][2]) == (bold, italic):
            grouped[-1][0].append(text)
        else:
            grouped.append(([text], bold, italic))
    merged = [("".join(texts), bold, italic) for texts, bold, italic in grouped]
    out: list[str] = []
    for text, bold, italic in merged:
        core = text.strip()
        if not (bold or italic) or not core:
            out.append(text)
            continue
        fence = "**" if bold else "*"
        lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
        out.append(f"{lead}{fence}{core}{fence}{trail}")
    written = "".join(out)
    parsed = markup.parse_markdown(written)
    emphasized = sum(1 for text, bold, italic in merged if (bold or italic) and text.strip())
    if parsed.plain != plain or len(parsed.elements) != emphasized:  # adjacent fences read otherwise
        return None
    return written


def _segments(block: BilingualBlock) -> list[tuple[str, bool, bool]]:
    """The English as (text, bold, italic) pieces: its markdown's emphasis, or one plain piece."""
    if block.markup != markup.MARKDOWN:
        return [(block.en, False, False)]
    inline = markup.parse_markdown(block.en)
    text = inline.plain
    # How many strong / em elements cover each character: +1 where one starts, -1 where it ends, so
    # nested elements cost O(1) each rather than a pass over their text.
    bold, italic = [0] * (len(text) + 1), [0] * (len(text) + 1)
    for element in inline.elements:
        counts = bold if element.kind == markup.STRONG else italic if element.kind == markup.EM else None
        if counts is not None and element.end > element.start:
            counts[element.start] += 1
            counts[element.end] -= 1
    pieces: list[tuple[str, bool, bool]] = []
    start = covered_bold = covered_italic = 0
    style = (False, False)
    for i in range(len(text)):
        covered_bold += bold[i]
        covered_italic += italic[i]
        here = (covered_bold > 0, covered_italic > 0)
        if i and here != style:
            pieces.append((text[start:i], *style))  # one slice per run, never a copy per character
            start = i
        style = here
    if text:
        pieces.append((text[start:], *style))
    return pieces or [("", False, False)]


def _runs(p: etree._Element, block: BilingualBlock) -> list[etree._Element]:
    """New runs holding the English, in the style of `p`'s first run, bold or italic where it says."""
    first = next((r for r in _own(p) if r.tag == R and r.find(T) is not None), None)
    base = first.find(RPR) if first is not None else None
    pieces = _segments(block)
    emphasis = block.markup == markup.MARKDOWN
    runs = []
    for text, bold, italic in pieces:
        run = etree.Element(R)
        if base is not None or bold or italic:
            props = copy.deepcopy(base) if base is not None else etree.Element(RPR)
            if emphasis:  # the markdown says where the emphasis is, not the first run
                for found in [child for child in props if child.tag in _EMPHASIS]:
                    props.remove(found)
                _emphasize(props, bold, italic)
            if len(props) or props.attrib:
                run.append(props)
        node = etree.SubElement(run, T)
        node.text = text
        node.set(XML_SPACE, "preserve")
        runs.append(run)
    return runs


# the schema's order of a run's properties, as far as emphasis goes: rStyle, rFonts, b, bCs, i, iCs, …
_BEFORE_EMPHASIS = frozenset({w("rStyle"), w("rFonts")})


def _emphasize(props: etree._Element, bold: bool, italic: bool) -> None:
    at = sum(1 for child in props if child.tag in _BEFORE_EMPHASIS)
    for tag in [t for t, on in (("b", bold), ("bCs", bold), ("i", italic), ("iCs", italic)) if on]:
        props.insert(at, etree.Element(w(tag)))
        at += 1


class StyleMarker(Protocol):
    """What gives an English paragraph its own style (`service.formats.docx_styles.TranslationStyles`)."""

    def mark(self, props: etree._Element) -> None: ...


def english_copy(p: etree._Element, block: BilingualBlock, styles: StyleMarker | None = None) -> etree._Element:
    """A new paragraph in `p`'s paragraph style and first run's style, holding the English; no numbering,
    bookmarks, notes or section break are copied (they belong to the French). With `styles`, the paragraph
    takes the English's own style (`Translation …`, based on the French paragraph's)."""
    new = etree.Element(P)
    props = p.find(PPR)
    props = copy.deepcopy(props) if props is not None else etree.Element(PPR) if styles is not None else None
    if props is not None:
        for tag in ("numPr", "sectPr"):
            for found in props.findall(w(tag)):
                props.remove(found)
        if styles is not None:
            styles.mark(props)
        new.append(props)
    new.extend(_runs(p, block))
    return new


def set_text(p: etree._Element, block: BilingualBlock) -> None:
    """`p` holding the English in place of its first text run; its other runs keep images, notes and links,
    not text."""
    texts = [node for node in _own(p) if node.tag == T]
    for node in texts:
        node.text = ""
    if not texts:
        return
    first = texts[0].getparent()
    for run in _runs(p, block):
        first.addprevious(run)


def block_of(p: etree._Element) -> Block:
    written = markdown_of(p)
    if written is None:
        return Block(_kind(p), text_of(p))
    return Block(_kind(p), written, markup=markup.MARKDOWN)
