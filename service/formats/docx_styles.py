"""The English paragraphs' own styles in a DOCX: `Translation` (based on the default paragraph style) and
`Translation <style>` for each style the French uses (`Translation heading 1`, based on `heading 1`).

Each is defined once in `word/styles.xml`, based on the French paragraph's style, so it looks like
it (a heading stays a heading: its outline level is kept) with the English's own character:
italic, in a colour. A style the document already defines under that id is used as it is, so a
reader who edits `Translation` in Word or LibreOffice and translates again keeps their choice.
"""

from __future__ import annotations

from lxml import etree

from service.formats.docx_text import w
from service.formats.package import serialize

STYLES = "word/styles.xml"
PREFIX = "Translation"
COLOR = "1A4F8B"  # the same blue as the PDF's HTML page gives its English
STYLE, STYLE_ID, TYPE = w("style"), w("styleId"), w("type")


class TranslationStyles:
    """The styles part and the `Translation …` styles added to it as the English paragraphs ask for them."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.by_id = {s.get(STYLE_ID): s for s in root.iter(STYLE) if s.get(TYPE) == "paragraph" and s.get(STYLE_ID)}
        self.default = next(
            (i for i, s in self.by_id.items() if (s.get(w("default")) or "").lower() in ("1", "true", "on")), None
        )
        self.added = 0

    def for_source(self, style_id: str | None) -> str:
        """The id of the English's style for a French paragraph of style `style_id` (None: the default style)."""
        base = style_id if style_id in self.by_id else self.default
        english = PREFIX if base is None or base == self.default else f"{PREFIX}{base}"
        if english not in self.by_id:
            self.by_id[english] = self._define(english, base)
        return english

    def _define(self, style_id: str, base: str | None) -> etree._Element:
        style = etree.SubElement(self.root, STYLE, {TYPE: "paragraph", w("customStyle"): "1", STYLE_ID: style_id})
        name = PREFIX
        if base is not None and base != self.default:
            source = self.by_id[base].find(w("name"))
            name = f"{PREFIX} {source.get(w('val')) if source is not None else base}"
        etree.SubElement(style, w("name"), {w("val"): name})
        if base is not None:
            etree.SubElement(style, w("basedOn"), {w("val"): base})
        etree.SubElement(style, w("qFormat"))
        level = self._outline_level(base)
        if level is not None:
            props = etree.SubElement(style, w("pPr"))
            etree.SubElement(props, w("outlineLvl"), {w("val"): level})
        run = etree.SubElement(style, w("rPr"))
        if self._inherited(base, f"{w('rPr')}/{w('i')}") is None:  # italic toggles: on an italic style it would undo it
            for tag in ("i", "iCs"):
                etree.SubElement(run, w(tag))
        etree.SubElement(run, w("color"), {w("val"): COLOR})
        self.added += 1
        return style

    def _outline_level(self, style_id: str | None) -> str | None:
        """The outline level `style_id` has or inherits (a heading's), or None."""
        level = self._inherited(style_id, f"{w('pPr')}/{w('outlineLvl')}", toggle=False)
        return level.get(w("val")) if level is not None else None

    def _inherited(self, style_id: str | None, path: str, toggle: bool = True) -> etree._Element | None:
        """The element at `path` in `style_id` or the nearest style it is based on that has one; a `toggle`
        (on/off) property such as `w:i` is None where it says off (`w:val` 0, false or off)."""
        seen: set[str] = set()
        while style_id is not None and style_id in self.by_id and style_id not in seen:
            seen.add(style_id)
            style = self.by_id[style_id]
            found = style.find(path)
            if found is not None:
                off = toggle and (found.get(w("val")) or "").lower() in ("0", "false", "off")
                return None if off else found
            based = style.find(w("basedOn"))
            style_id = based.get(w("val")) if based is not None else None
        return None

    def mark(self, props: etree._Element) -> None:
        """`props` (an English paragraph's `w:pPr`, copied from the French) naming the English's style."""
        found = props.find(w("pStyle"))
        english = self.for_source(found.get(w("val")) if found is not None else None)
        if found is None:
            found = etree.Element(w("pStyle"))
            props.insert(0, found)  # pStyle comes first in a pPr
        found.set(w("val"), english)

    def part(self) -> bytes:
        return serialize(self.root, standalone=True)
