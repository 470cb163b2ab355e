"""ODT side by side: what sits in a column (a picture, a table of fixed width) scaled down to fit it.

LibreOffice fits a table without a width of its own to its cell, but keeps a frame's `svg:width`
and a table style's `style:width` whatever the cell: a picture as wide as the page runs across the
English column and past the margin. Each frame (and each nested table whose style gives it a
width) wider than a column is scaled to the column's width, its height in proportion; a table
style shared with tables outside the column is copied, not changed. The page's text width is
read from the page layout of the first master page (`styles.xml`); without one, A4 less 2 cm
margins (LibreOffice's default).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass

from lxml import etree

from service.formats.odt_names import q

SVG_NS = "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
FO_NS = "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
SVG_WIDTH, SVG_HEIGHT = f"{{{SVG_NS}}}width", f"{{{SVG_NS}}}height"
POINTS = {"pt": 1.0, "pc": 12.0, "in": 72.0, "cm": 72 / 2.54, "mm": 72 / 25.4, "px": 0.75}
_LENGTH = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(pt|pc|in|cm|mm|px)\s*$")
DEFAULT_TEXT_WIDTH = (21.0 - 4.0) * POINTS["cm"]
CELL_PADDING = 0.1 * POINTS["cm"]  # what LibreOffice leaves inside a cell, each side


def points(length: str | None) -> float | None:
    """An ODF length (`16cm`, `6in`, `300pt`) in points, or None when it is not one."""
    found = _LENGTH.match(length or "")
    return float(found.group(1)) * POINTS[found.group(2)] if found else None


def _cm(value: float) -> str:
    return f"{value / POINTS['cm']:.3f}cm"


@dataclass(frozen=True, slots=True)
class Page:
    text_width: float  # points

    @property
    def inside(self) -> float:
        """What one of two equal columns holds, less its cell padding."""
        return self.text_width / 2 - 2 * CELL_PADDING


def page_of(styles: etree._Element | None) -> Page:
    """The text width of the first master page's layout: the page less its left and right margins."""
    if styles is None:
        return Page(DEFAULT_TEXT_WIDTH)
    master = next(styles.iter(q("style:master-page")), None)
    wanted = master.get(q("style:page-layout-name")) if master is not None else None
    for layout in styles.iter(q("style:page-layout")):
        if wanted is not None and layout.get(q("style:name")) != wanted:
            continue
        props = layout.find(q("style:page-layout-properties"))
        if props is None:
            break
        width = points(props.get(f"{{{FO_NS}}}page-width"))
        left = points(props.get(f"{{{FO_NS}}}margin-left")) or 0.0
        right = points(props.get(f"{{{FO_NS}}}margin-right")) or 0.0
        if width:
            return Page(max(width - left - right, 72.0))
        break
    return Page(DEFAULT_TEXT_WIDTH)


class Fitter:
    """Scales frames and fixed-width tables under a column's width; copies table styles it must change."""

    def __init__(self, content: etree._Element, page: Page) -> None:
        self.page = page
        self.automatic = content.find(q("office:automatic-styles"))
        self.tables = {
            s.get(q("style:name")): s
            for s in (self.automatic if self.automatic is not None else ())
            if s.get(q("style:family")) == "table"
        }
        self.copies = 0

    def fit(self, element: etree._Element) -> None:
        width = self.page.inside
        for frame in element.iter(q("draw:frame")):
            self._frame(frame, width)
        for table in element.iter(q("table:table")):
            self._table(table, width)

    def _frame(self, frame: etree._Element, width: float) -> None:
        have = points(frame.get(SVG_WIDTH))
        if have is None or have <= width:
            return
        scale = width / have
        frame.set(SVG_WIDTH, _cm(width))
        height = points(frame.get(SVG_HEIGHT))
        if height is not None:
            frame.set(SVG_HEIGHT, _cm(height * scale))

    def _table(self, table: etree._Element, width: float) -> None:
        style = self.tables.get(table.get(q("table:style-name")) or "")
        props = style.find(q("style:table-properties")) if style is not None else None
        have = points(props.get(q("style:width"))) if props is not None else None
        if style is None or have is None or have <= width or self.automatic is None:
            return
        self.copies += 1
        twin = copy.deepcopy(style)
        name = f"{style.get(q('style:name'))}-fit{self.copies}"
        twin.set(q("style:name"), name)
        found = twin.find(q("style:table-properties"))
        assert found is not None
        found.set(q("style:width"), _cm(width))
        found.set(q("table:align"), "margins")
        self.automatic.append(twin)
        table.set(q("table:style-name"), name)
