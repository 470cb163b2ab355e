"""Inline codes of XLIFF 2.0 segments: a sentence's markup written as `<pc>` codes, and a segment's text
read with its codes taken out.

translate-toolkit (`translate.storage.xliff2`) holds the file, its units and segments; it reads a
segment's text as the XPath string of its `<source>` or `<target>` and its rich placeables are
XLIFF 1.2's (`<g>`, `<x>`, `<bx>`, `<ex>`), so XLIFF 2.0's inline codes are handled here, over the
lxml elements the toolkit already holds (nothing is parsed twice; the file went through the
hardened parse first).

Export: each mark of a sentence (`fr_marks` over its plain French, `en_marks` over its plain
English) becomes a `<pc>` around the text it covers, nested as the marks are (outer first): strong
and em as `type="fmt"` with `subType="xlf:b"` / `"xlf:i"`, a link (`dispStart` = its URL) and an
image as `type="link"` / `"image"`, code as `type="fmt" subType="bitext:code"`. A target code has
the id of the source code of the same element (paired by kind and URL, in order). The text itself
is never markdown or HTML: `**`, `[…](…)` and `<a href>` are not written.

Import: the text of `<pc>` and `<mrk>` is kept; `<ph>`, `<sc>`, `<ec>` (codes with no text:
a tag, a variable, an image) are dropped, with one of the spaces around them when both sides had
one, a line or page break (`subType="xlf:lb"`, `"xlf:pb"`) between two words read as a space;
`<sm>`/`<em>` markers are dropped; `<cp hex>` is its character when XML may carry it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from lxml import etree
from translate.misc.xml_helpers import getXMLspaceInherited

from models.document import Mark

NAMESPACE = "urn:oasis:names:tc:xliff:document:2.0"
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")  # what XML 1.0 text cannot hold
_XML_SPACE = re.compile("[ \t\r\n]+")
_DROPPED, _BREAK = "\x00", "\x01"  # stand-ins for a removed code; XML text cannot hold either


class InlineTag(StrEnum):
    """XLIFF 2.0's inline elements, by local name."""

    PC = "pc"  # paired code around text
    PH = "ph"  # a standalone code
    SC = "sc"  # start of a code that may span segments or cross others
    EC = "ec"  # its end
    MRK = "mrk"  # an annotation around text
    SM = "sm"  # an annotation's start marker
    EM = "em"  # its end marker
    CP = "cp"  # a code point XML cannot hold as text


_CODES = (InlineTag.PH, InlineTag.SC, InlineTag.EC)
_BREAKS = ("xlf:lb", "xlf:pb")
# A mark's kind (models.markup.elements) → the <pc>'s type and subType.
_TYPES: dict[str, tuple[str, str | None]] = {
    "strong": ("fmt", "xlf:b"),
    "em": ("fmt", "xlf:i"),
    "code": ("fmt", "bitext:code"),
    "link": ("link", None),
    "image": ("image", None),
    "span": ("fmt", None),
}


@dataclass(frozen=True, slots=True)
class Coded:
    """A text and its marks, each with the id its `<pc>` gets (marks over `text[start:end]`)."""

    text: str
    marks: Sequence[Mark] = ()
    ids: Sequence[str] = ()

    def only(self, ids: set[str]) -> Coded:
        """The same text with only the marks whose id is among `ids` (the source codes actually written)."""
        kept = [(mark, ident) for mark, ident in zip(self.marks, self.ids, strict=True) if ident in ids]
        return Coded(self.text, [mark for mark, _ in kept], [ident for _, ident in kept])


def source_and_target(
    french: str, fr_marks: Sequence[Mark], english: str, en_marks: Sequence[Mark]
) -> tuple[Coded, Coded]:
    """The French with ids 1…n for its marks, and the English with each mark given its French partner's id
    (the first unpaired French mark of the same kind and URL); an English mark with no partner is left out."""
    ids = [str(n) for n in range(1, len(fr_marks) + 1)]
    free = list(zip(fr_marks, ids, strict=True))
    kept: list[Mark] = []
    kept_ids: list[str] = []
    for mark in en_marks:
        partner = next((k for k, (f, _) in enumerate(free) if (f.kind, f.url) == (mark.kind, mark.url)), None)
        if partner is not None:
            kept.append(mark)
            kept_ids.append(free.pop(partner)[1])
    return Coded(french, fr_marks, ids), Coded(english, kept, kept_ids)


def write_coded(element: etree._Element, coded: Coded) -> set[str]:
    """Replace `element`'s content by `coded`'s text with a `<pc>` per mark, nested outer first; a mark that
    would cross another (never made by placement) or falls outside the text is left out, its text kept.
    The ids of the codes written."""
    for child in list(element):
        element.remove(child)
    element.text = None
    text = coded.text
    order = sorted(range(len(coded.marks)), key=lambda k: (coded.marks[k].start, -coded.marks[k].end))
    stack: list[tuple[etree._Element, int]] = [(element, len(text))]  # open elements and where each ends
    position = 0
    written: set[str] = set()

    def put(upto: int) -> None:
        nonlocal position
        if upto > position:
            _append_text(stack[-1][0], text[position:upto])
            position = upto

    for k in order:
        mark, ident = coded.marks[k], coded.ids[k]
        if not 0 <= mark.start <= mark.end <= len(text) or mark.start < position:
            continue
        while mark.start >= stack[-1][1] and len(stack) > 1:
            put(stack[-1][1])
            stack.pop()
        if mark.end > stack[-1][1]:
            continue  # crosses the open code
        put(mark.start)
        kind, sub = _TYPES.get(mark.kind, ("other", None))
        pc = etree.SubElement(stack[-1][0], f"{{{NAMESPACE}}}pc", id=ident, type=kind)
        if sub:
            pc.set("subType", sub)
        if mark.url is not None:
            pc.set("dispStart", mark.url)
        stack.append((pc, mark.end))
        written.add(ident)
    while len(stack) > 1:
        put(stack[-1][1])
        stack.pop()
    put(len(text))
    return written


def _append_text(parent: etree._Element, text: str) -> None:
    """`text` after what `parent` already holds (its text, or its last child's tail)."""
    if len(parent):
        last = parent[-1]
        last.tail = (last.tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def read_coded(element: etree._Element | None) -> str:
    """The text of a `<source>` or `<target>` with its inline codes taken out (see the module's docstring);
    with `xml:space` not `preserve`, white space runs are one space and the ends are trimmed (as the toolkit
    reads it)."""
    if element is None:
        return ""
    pieces: list[str] = []
    _walk(element, pieces, top=True)
    text = "".join(pieces)
    if _DROPPED in text or _BREAK in text:
        text = re.sub(f"(?<=\\S){_BREAK}(?=\\S)", " ", text).replace(_BREAK, _DROPPED)
        text = re.sub(f"(?:(?<= )|^){_DROPPED}+ ", "", text)  # "a <ph/> b" → "a b", "<ph/> b" → "b"
        text = re.sub(f" {_DROPPED}+$", "", text).replace(_DROPPED, "")
    if getXMLspaceInherited(element, "default") != "preserve":
        text = _XML_SPACE.sub(" ", text).strip(" ")  # XML's white space only: a no-break space stays
    return text


def _walk(element: etree._Element, pieces: list[str], top: bool = False) -> None:
    name = etree.QName(element).localname if isinstance(element.tag, str) else ""
    if not top and name in _CODES:
        pieces.append(_BREAK if element.get("subType") in _BREAKS else _DROPPED)
    elif not top and name == InlineTag.CP:
        try:
            character = chr(int(element.get("hex", ""), 16))
        except (ValueError, OverflowError):
            character = ""
        pieces.append(_DROPPED if not character or NOT_XML.match(character) else character)
    elif top or name not in (InlineTag.SM, InlineTag.EM) and isinstance(element.tag, str):
        pieces.append(element.text or "")
        for child in element:
            _walk(child, pieces)
    if not top:
        pieces.append(element.tail or "")
