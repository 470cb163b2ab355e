"""DOCX side by side: the body as one table of two fixed, equal columns of the page's text width, and
what sits in a column (a table with fixed widths, a picture) scaled down to fit it.

Word and LibreOffice keep a table's `gridCol`/`tcW` widths and a picture's extent whatever the cell
that holds them: a table of python-docx's default widths (the page's full text width) in a
half-page cell runs under the next column and past the margin. Here every nested table is scaled
to its cell's width (its grid, its cells' widths, its own width and indent), then what its cells
hold to theirs, and every picture (`wp:extent`, `a:ext`) to the width of the cell it sits in.
Widths are twentieths of a point (twips); a picture's extent is in EMU (635 a twip).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from lxml import etree

from models.document import BilingualBlock
from service.formats.base import FormatError
from service.formats.docx_styles import TranslationStyles
from service.formats.docx_text import BODY, SECTPR, TBL, P, english_copy, set_text, w
from service.jobs.reasons import Reason

WP_NS = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
EMU_PER_TWIP = 635
CELL_MARGIN = 108  # twips left and right inside each cell of the side-by-side table (Word's default)
# a page with no size or margins in its section: Letter with one-inch margins
DEFAULT_PAGE, DEFAULT_MARGIN = 12240, 1440
TC, TR, TCPR, TBLPR, GRID = w("tc"), w("tr"), w("tcPr"), w("tblPr"), w("tblGrid")
EXTENT, XFRM_EXT = f"{{{WP_NS}}}extent", f"{{{A_NS}}}ext"
DRAWING = w("drawing")
BOOKMARKS = frozenset({w("bookmarkStart"), w("bookmarkEnd")})


@dataclass(frozen=True, slots=True)
class Columns:
    """The side-by-side table's geometry, in twips."""

    text_width: int

    @property
    def column(self) -> int:
        return self.text_width // 2

    @property
    def inside(self) -> int:
        """What a column holds: its width less the cell margins."""
        return self.column - 2 * CELL_MARGIN


def _twips(element: etree._Element | None, attribute: str, default: int) -> int:
    value = element.get(w(attribute)) if element is not None else None
    try:
        return int(float(value)) if value is not None else default
    except ValueError:
        return default


def columns_of(body: etree._Element) -> Columns:
    """The columns for the page of the body's (last) section: its width less its left and right margins."""
    section = body.find(SECTPR)
    size = section.find(w("pgSz")) if section is not None else None
    margins = section.find(w("pgMar")) if section is not None else None
    width = _twips(size, "w", DEFAULT_PAGE)
    text = width - _twips(margins, "left", DEFAULT_MARGIN) - _twips(margins, "right", DEFAULT_MARGIN)
    return Columns(max(text, 2 * (2 * CELL_MARGIN + 144)))


def _set(parent: etree._Element, tag: str, **values: str) -> etree._Element:
    """`parent`'s `tag` child (made if missing) with `values` as its attributes, and no others."""
    found = parent.find(w(tag))
    if found is None:
        found = etree.SubElement(parent, w(tag))
    found.attrib.clear()
    for name, value in values.items():
        found.set(w(name), value)
    return found


def two_column_table(columns: Columns) -> etree._Element:
    """An empty table of two fixed columns, each half the page's text width."""
    table = etree.Element(TBL)
    props = etree.SubElement(table, TBLPR)
    etree.SubElement(props, w("tblW"), {w("w"): str(2 * columns.column), w("type"): "dxa"})
    etree.SubElement(props, w("tblLayout"), {w("type"): "fixed"})
    margins = etree.SubElement(props, w("tblCellMar"))
    for side in ("left", "right"):
        etree.SubElement(margins, w(side), {w("w"): str(CELL_MARGIN), w("type"): "dxa"})
    grid = etree.SubElement(table, GRID)
    for _ in range(2):
        etree.SubElement(grid, w("gridCol"), {w("w"): str(columns.column)})
    return table


def cell(children: list[etree._Element], columns: Columns) -> etree._Element:
    """A cell of the side-by-side table holding `children`, what they hold scaled to fit it."""
    made = etree.Element(TC)
    props = etree.SubElement(made, TCPR)
    etree.SubElement(props, w("tcW"), {w("w"): str(columns.column), w("type"): "dxa"})
    for child in children:
        for section in child.iter(SECTPR):  # a section break cannot sit in a table cell
            section.getparent().remove(section)
        made.append(child)
        fit(child, columns.inside)
    if not len(children) or children[-1].tag != P:  # a cell ends with a paragraph
        made.append(etree.Element(w("p")))
    return made


def fit(element: etree._Element, width: int) -> None:
    """Tables and pictures in `element` (or `element` itself, a table) no wider than `width` twips;
    a nested table's cells are fitted in turn to their own (scaled) widths."""
    if element.tag == TBL:
        _fit_table(element, width)
        return
    for table in _outermost(element, TBL):
        _fit_table(table, width)
    for drawing in _outermost(element, DRAWING):
        _fit_picture(drawing, width)


def _outermost(element: etree._Element, tag: str) -> list[etree._Element]:
    """The `tag` descendants of `element` that are not inside a nested table of `element` (nor in another `tag`)."""
    found = []
    stack = list(reversed(element))
    while stack:
        node = stack.pop()
        if node.tag == tag:
            found.append(node)
        elif node.tag != TBL:
            stack.extend(reversed(node))
    return found


def _fit_table(table: etree._Element, width: int) -> None:
    grid = table.find(GRID)
    cols = [c for c in grid.findall(w("gridCol"))] if grid is not None else []
    widths = [_twips(c, "w", 0) for c in cols]
    total = sum(widths)
    if total <= 0:  # no grid to go by: the table takes its cell's width, its columns shared out by the renderer
        props = table.find(TBLPR)
        if props is None:
            props = etree.Element(TBLPR)
            table.insert(0, props)
        _set(props, "tblW", w="5000", type="pct")
        for row in table.iter(TR):
            for tc in row.findall(TC):
                fit(tc, width // max(len(row.findall(TC)), 1))
        return
    scale = min(1.0, width / total)
    if scale < 1.0:
        for col, value in zip(cols, widths, strict=True):
            col.set(w("w"), str(int(value * scale)))
        props = table.find(TBLPR)
        if props is not None:
            table_width = props.find(w("tblW"))
            if table_width is not None and table_width.get(w("type")) == "dxa":
                _set(props, "tblW", w=str(min(width, int(_twips(table_width, "w", 0) * scale))), type="dxa")
            indent = props.find(w("tblInd"))
            if indent is not None and indent.get(w("type")) in (None, "dxa"):
                _set(props, "tblInd", w=str(int(_twips(indent, "w", 0) * scale)), type="dxa")
    scaled = [int(value * scale) for value in widths]
    for row in table.findall(TR):
        column = 0
        for tc in row.findall(TC):
            props = tc.find(TCPR)
            span = _twips(props.find(w("gridSpan")) if props is not None else None, "val", 1)
            own = sum(scaled[column : column + span]) or width
            column += span
            if props is not None:
                found = props.find(w("tcW"))
                if found is not None and found.get(w("type")) in (None, "dxa"):
                    found.set(w("w"), str(min(own, int(_twips(found, "w", 0) * scale))))
            for child in tc:
                fit(child, max(own - 2 * CELL_MARGIN, 1))


def _fit_picture(drawing: etree._Element, width: int) -> None:
    extent = drawing.find(f".//{EXTENT}")
    if extent is None:
        return
    try:
        cx, cy = int(extent.get("cx", "0")), int(extent.get("cy", "0"))
    except ValueError:
        return
    limit = width * EMU_PER_TWIP
    if cx <= limit or cx <= 0:
        return
    scale = limit / cx
    extent.set("cx", str(limit))
    extent.set("cy", str(int(cy * scale)))
    for ext in drawing.iter(XFRM_EXT):
        try:
            ext.set("cx", str(int(int(ext.get("cx", "0")) * scale)))
            ext.set("cy", str(int(int(ext.get("cy", "0")) * scale)))
        except ValueError:
            continue


def _props(p: etree._Element) -> etree._Element:
    """The paragraph's `w:pPr`, made (first, as the schema wants) when it has none."""
    props = p.find(w("pPr"))
    if props is None:
        props = etree.Element(w("pPr"))
        p.insert(0, props)
    return props


def side_by_side(root: etree._Element, english: dict[int, BilingualBlock], styles: TranslationStyles | None) -> None:
    """The body as one two-column table: each element of the body beside its English. A bookmark that
    stands alone in the body (pandoc's) goes into the French cell of the next row, not a row of its own;
    an empty paragraph follows the table (a body does not end with a table)."""
    body = root.find(BODY)
    if body is None:
        raise FormatError(Reason.UNPARSABLE, "word/document.xml has no body")
    columns = columns_of(body)
    table = two_column_table(columns)
    pending: list[etree._Element] = []
    for child in list(body):
        if child.tag == SECTPR:
            continue
        body.remove(child)
        if child.tag in BOOKMARKS:
            pending.append(child)
            continue
        if child.tag == P:
            right = [english_copy(child, english[id(child)], styles)] if id(child) in english else []
        else:  # a table, a content control: its copy with the English in place
            twin = copy.deepcopy(child)
            for original, copied in zip(child.iter(P), twin.iter(P), strict=True):
                if id(original) in english:
                    set_text(copied, english[id(original)])
                    if styles is not None:  # a cell's English in the English's style, as outside tables
                        styles.mark(_props(copied))
            for bookmark in [*twin.iter(w("bookmarkStart")), *twin.iter(w("bookmarkEnd"))]:
                bookmark.getparent().remove(bookmark)
            right = [twin]
        row = etree.SubElement(table, TR)
        row.append(cell([child], columns))
        row.append(cell(right, columns))
        _mark_ranges(row, pending)
        pending = []
    if pending:  # bookmarks after the last element: in the last row (or a row of their own in an empty body)
        rows = table.findall(TR)
        if rows:
            _mark_ranges(rows[-1], pending)
        else:
            row = etree.SubElement(table, TR)
            row.append(cell([], columns))
            row.append(cell([], columns))
            _mark_ranges(row, pending)
    body.insert(0, table)
    table.addnext(etree.Element(P))


def _mark_ranges(row: etree._Element, bookmarks: list[etree._Element]) -> None:
    """`bookmarks` at the start of the row's French cell (after its properties), in their order."""
    left = row.find(TC)
    assert left is not None
    at = 1 if left.find(TCPR) is not None else 0
    for offset, bookmark in enumerate(bookmarks):
        left.insert(at + offset, bookmark)
