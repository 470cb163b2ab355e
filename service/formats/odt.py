"""ODT: paragraphs, headings, list items, table cells, text boxes, footnotes and endnotes; written back as ODT.

Only `content.xml` is rewritten; every other part (styles, meta, pictures, the manifest) is copied
byte for byte, and `mimetype` stays the first part, stored uncompressed (the ODF rule). Headers
and footers (in `styles.xml`) and comments are not translated. A paragraph's text is its own text:
spans, links and spaces (`text:s`, tabs, line breaks) inside it; a note's paragraphs, a text
box's paragraphs are blocks of their own. In this version the English paragraph is plain text
in the paragraph's style and its first span's style (emphasis inside a paragraph stays on the French).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass

from lxml import etree

from models.document import BilingualDocument, Block, BlockKind
from service.formats.base import FormatError, Layout
from service.formats.odt_layout import Fitter, page_of
from service.formats.odt_names import q
from service.formats.odt_styles import TranslationStyles
from service.formats.office import PackagedText, place
from service.formats.package import Package, own_text, serialize
from service.formats.work import WorkBudget
from service.jobs.reasons import Reason

CONTENT = "content.xml"
STYLES = "styles.xml"
MANIFEST = "META-INF/manifest.xml"
MIMETYPES = ("application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.text-template")
_LETTER = re.compile(r"[^\W\d_]")


P, H, SPAN, NOTE = q("text:p"), q("text:h"), q("text:span"), q("text:note")
STYLE_NAME = q("text:style-name")
ANNOTATION = q("office:annotation")
TEXT_BODY = q("office:text")
# inside a paragraph, these hold no text of the paragraph's own: blocks of their own, or none at all
_STOP = frozenset(
    {P, H, NOTE, ANNOTATION, q("office:annotation-end"), q("draw:frame"), q("draw:a"), q("draw:custom-shape")}
    | {q("draw:rect"), q("draw:g"), q("text:tracked-changes"), q("text:deletion")}
)
# kept when a paragraph's text is replaced by the English: anchors, notes, frames, marks
_KEEP = _STOP | frozenset(
    q(f"text:{tag}")
    for tag in (
        "bookmark",
        "bookmark-start",
        "bookmark-end",
        "reference-mark",
        "reference-mark-start",
        "reference-mark-end",
        "soft-page-break",
        "change-start",
        "change-end",
        "change",
        "alphabetical-index-mark",
        "toc-mark",
    )
)
# what stands for whitespace in a paragraph (text:s for spaces, however many: folded by text_of)
_MARKS = {q("text:tab"): "\t", q("text:line-break"): "\n", q("text:s"): " "}
# a body element that can sit in a table cell: wrapped in the side-by-side table
_PAIRED = frozenset({P, H, q("text:list"), q("table:table"), q("text:section"), q("text:numbered-paragraph")})
# in a copy, names and ids that must stay unique get a suffix
_UNIQUE = tuple(q(n) for n in ("xml:id", "text:id", "table:name", "draw:name", "text:name"))
_NO_COPY = frozenset({q("xml:id"), q("text:id")})


@dataclass(frozen=True, slots=True)
class Parsed:
    package: Package


def text_of(element: etree._Element) -> str:
    """The paragraph's own text, whitespace folded: spans and links in, notes, frames and comments out."""
    return " ".join(own_text(element, _STOP, marks=_MARKS).split())


def paragraphs(root: etree._Element) -> list[etree._Element]:
    """The body's paragraphs and headings with words, in document order (none inside a comment)."""
    body = root.find(f"{q('office:body')}/{TEXT_BODY}")
    if body is None:
        raise FormatError(Reason.UNPARSABLE, "not an ODF text document: content.xml has no office:text")
    found = []
    for element in body.iter(P, H):
        if any(a.tag == ANNOTATION for a in element.iterancestors()):
            continue
        if _LETTER.search(text_of(element)):
            found.append(element)
    return found


def _parents(root: etree._Element) -> dict[str, str]:
    """Automatic paragraph styles → the style they derive from (P1 → Title)."""
    out = {}
    for style in root.iter(q("style:style")):
        name, parent = style.get(q("style:name")), style.get(q("style:parent-style-name"))
        if name and parent:
            out[name] = parent
    return out


def _kind(element: etree._Element, parents: dict[str, str]) -> BlockKind:
    if element.tag == H:
        return BlockKind.HEADING
    style = element.get(STYLE_NAME) or ""
    names = {style.lower(), parents.get(style, "").lower()}
    if names & {"title", "titre"}:
        return BlockKind.TITLE
    if any(name.startswith(("heading", "titre")) for name in names):
        return BlockKind.HEADING
    return BlockKind.PARAGRAPH


def _first_span_style(element: etree._Element) -> str | None:
    """The character style of the paragraph's first text, when that text sits in a span."""
    if (element.text or "").strip():
        return None
    for node in element.iter():
        if node is element:
            continue
        if node.tag in _STOP:
            return None
        if (node.text or "").strip():
            return node.get(STYLE_NAME) if node.tag == SPAN else None
        if (node.tail or "").strip() and node.getparent() is element:
            return None
    return None


def _english_content(element: etree._Element, english: str) -> list[etree._Element] | str:
    style = _first_span_style(element)
    if style is None:
        return english
    span = etree.Element(SPAN, {STYLE_NAME: style})
    span.text = english
    return [span]


def english_copy(element: etree._Element, english: str, style: str | None = None) -> etree._Element:
    """A new paragraph (or heading, unnumbered) in `element`'s styles holding `english`: no notes, frames,
    bookmarks or ids (they belong to the French). With `style`, the paragraph takes that style instead
    (the English's own)."""
    twin = etree.Element(element.tag, {k: v for k, v in element.attrib.items() if k not in _NO_COPY})
    if style is not None:
        twin.set(STYLE_NAME, style)
    if element.tag == H:
        twin.set(q("text:is-list-header"), "true")
    content = _english_content(element, english)
    if isinstance(content, str):
        twin.text = content
    else:
        twin.extend(content)
    return twin


def set_text(element: etree._Element, english: str) -> None:
    """`element` holding `english`, then what it anchors (notes, frames, bookmarks) without their tails."""
    content = _english_content(element, english)
    kept = _kept(element)
    for child in list(element):
        element.remove(child)
    element.text = content if isinstance(content, str) else None
    if not isinstance(content, str):
        element.extend(content)
    for node in kept:
        node.tail = None
        element.append(node)


def _kept(element: etree._Element) -> list[etree._Element]:
    kept: list[etree._Element] = []
    stack = list(reversed(element))
    while stack:
        node = stack.pop()
        if isinstance(node.tag, str) and node.tag in _KEEP:
            kept.append(node)
        elif isinstance(node.tag, str):
            stack.extend(reversed(node))
    return kept


class Odt(PackagedText):
    kind = "odt"
    label = "ODT"

    def parse(self, package: Package, budget: WorkBudget) -> tuple[list[Block], Parsed]:
        declared = package.read("mimetype")[:200] if "mimetype" in package.by_name else b""
        mimetype = declared.strip().decode("ascii", "replace")
        if mimetype and mimetype not in MIMETYPES:
            raise FormatError(Reason.UNPARSABLE, f"not an ODF text document (mimetype {mimetype[:80]!r})")
        if MANIFEST in package.by_name and b"encryption-data" in package.read(MANIFEST):
            if package.xml(MANIFEST, budget).find(f".//{q('manifest:encryption-data')}") is not None:
                raise FormatError(Reason.ENCRYPTED, "the ODT is encrypted with a password")
        root = package.xml(CONTENT, budget)
        parents = _parents(root)
        return [Block(_kind(p, parents), text_of(p)) for p in paragraphs(root)], Parsed(package)

    def rewrite(self, parsed: Parsed, result: BilingualDocument, layout: Layout) -> dict[str, bytes]:
        root = parsed.package.xml(CONTENT)
        found = paragraphs(root)
        english = {id(p): block.en for p, block in zip(found, result.blocks, strict=True) if block.translated}
        if layout == Layout.ENGLISH:
            place(found, english, layout, set_text, english_copy)
            return {CONTENT: serialize(root)}
        styles_root = parsed.package.xml(STYLES) if STYLES in parsed.package.by_name else None
        styles = TranslationStyles(root, styles_root)
        if layout == Layout.SIDE_BY_SIDE:
            _side_by_side(root, english, styles, Fitter(root, page_of(styles_root)))
        else:
            place(
                found,
                english,
                layout,
                set_text,
                lambda p, en: english_copy(p, en, styles.for_source(p.get(STYLE_NAME))),
            )
        replaced = {CONTENT: serialize(root)}
        if styles.styles_changed and styles_root is not None:
            replaced[STYLES] = serialize(styles_root)
        return replaced


def _style(element: etree._Element) -> str | None:
    return element.get(STYLE_NAME)


def _renamed(element: etree._Element) -> None:
    """A copy's ids and names made unique again (suffix `-en`)."""
    for node in element.iter():
        if not isinstance(node.tag, str):
            continue
        for name in _UNIQUE:
            if node.get(name):
                node.set(name, f"{node.get(name)}-en")


def _side_by_side(root: etree._Element, english: dict[int, str], styles: TranslationStyles, fitter: Fitter) -> None:
    """Each run of body elements as a two-column table of equal, fixed columns as wide as the page's text:
    the French element left, its English copy right (the copy holds the English in place, notes and
    cells included, in the English's styles); pictures and tables in a column scaled to fit it."""
    body = root.find(f"{q('office:body')}/{TEXT_BODY}")
    assert body is not None  # paragraphs() checked
    _pair_styles(root, fitter.page.text_width)
    table: etree._Element | None = None
    count = 0
    for child in list(body):
        if child.tag not in _PAIRED:
            table = None  # declarations, forms, page breaks stay where they are, between tables
            continue
        if table is None:
            count += 1
            table = etree.Element(q("table:table"), {q("table:name"): f"bitext{count}", STYLE_TABLE: PAIR})
            etree.SubElement(
                table, q("table:table-column"), {q("table:number-columns-repeated"): "2", STYLE_TABLE: PAIR_COLUMN}
            )
            child.addprevious(table)
        twin = copy.deepcopy(child)
        for original, copied in zip(list(child.iter(P, H)), list(twin.iter(P, H)), strict=True):
            if id(original) in english:
                set_text(copied, english[id(original)])
                copied.set(STYLE_NAME, styles.for_source(original.get(STYLE_NAME)))
        _renamed(twin)
        fitter.fit(child)
        fitter.fit(twin)
        row = etree.SubElement(table, q("table:table-row"))
        for side in (child, twin):
            cell = etree.SubElement(row, q("table:table-cell"), {q("office:value-type"): "string"})
            cell.append(side)


STYLE_TABLE = q("table:style-name")
PAIR, PAIR_COLUMN = "bitext-pair", "bitext-pair.A"


def _pair_styles(root: etree._Element, text_width: float) -> None:
    """The side-by-side tables' automatic styles: as wide as the text, two columns of half its width."""
    automatic = root.find(q("office:automatic-styles"))
    if automatic is None:
        automatic = etree.Element(q("office:automatic-styles"))
        root.insert(0, automatic)
    if any(style.get(q("style:name")) == PAIR for style in automatic):  # a bilingual file translated again
        return
    half = f"{text_width / 2 / (72 / 2.54):.3f}cm"
    table = etree.SubElement(automatic, q("style:style"), {q("style:name"): PAIR, q("style:family"): "table"})
    etree.SubElement(
        table,
        q("style:table-properties"),
        {q("style:width"): f"{text_width / (72 / 2.54):.3f}cm", q("table:align"): "margins"},
    )
    column = etree.SubElement(
        automatic, q("style:style"), {q("style:name"): PAIR_COLUMN, q("style:family"): "table-column"}
    )
    etree.SubElement(
        column, q("style:table-column-properties"), {q("style:column-width"): half, q("style:rel-column-width"): "1*"}
    )
