"""The English paragraphs' own styles in an ODT: `Translation` (based on the default paragraph style) and
`Translation <style>` for each style the French uses (`Translation Heading 1`, based on `Heading 1`).

Each is a common style of `styles.xml`, so a reader sees it in LibreOffice's style list and may
change it; one the document already defines is used as it is. A French paragraph in an automatic
style (direct formatting: `P1` derived from `Heading 1`) gets an automatic copy (`P1-en`) derived
from the English's style instead, so its direct formatting is kept. Headings keep their outline
level (`text:h` keeps its own; the style inherits its parent's default level). A document without
`styles.xml` gets the styles as automatic ones in `content.xml`.
"""

from __future__ import annotations

import copy

from lxml import etree

from service.formats.odt_names import q

FO_NS = "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
PREFIX = "Translation"
COLOR = "#1a4f8b"
NAME, PARENT, FAMILY, DISPLAY = (
    q("style:name"),
    q("style:parent-style-name"),
    q("style:family"),
    q("style:display-name"),
)
STYLE = q("style:style")


def _paragraph_styles(parent: etree._Element | None) -> dict[str, etree._Element]:
    if parent is None:
        return {}
    return {s.get(NAME): s for s in parent.findall(STYLE) if s.get(FAMILY) == "paragraph" and s.get(NAME)}


def _holder(root: etree._Element, tag: str) -> etree._Element:
    found = root.find(q(tag))
    if found is None:
        found = etree.Element(q(tag))
        root.insert(0, found)
    return found


class TranslationStyles:
    """The styles the English paragraphs are given, added to `styles.xml` (or `content.xml`) as asked for."""

    def __init__(self, content: etree._Element, styles: etree._Element | None) -> None:
        self.automatic_parent = _holder(content, "office:automatic-styles")
        self.common_parent = _holder(styles, "office:styles") if styles is not None else self.automatic_parent
        self.automatic = _paragraph_styles(self.automatic_parent)
        self.common = _paragraph_styles(self.common_parent)
        self.styles_changed = False
        self.styles = styles

    def _master_page(self) -> None:
        """A default master page where `styles.xml` has none (odfpy writes none): without one, LibreOffice
        does not derive a common style from its parent (`Translation Heading 1` would lose the heading's size).
        Its page layout says nothing, so the page stays LibreOffice's default, as it was."""
        if self.styles is None or self.styles.find(q("office:master-styles")) is not None:
            return
        automatic = self.styles.find(q("office:automatic-styles"))
        if automatic is None:
            automatic = etree.SubElement(self.styles, q("office:automatic-styles"))
        etree.SubElement(automatic, q("style:page-layout"), {NAME: "bitext-page"})
        masters = etree.SubElement(self.styles, q("office:master-styles"))
        etree.SubElement(
            masters, q("style:master-page"), {NAME: "Standard", q("style:page-layout-name"): "bitext-page"}
        )

    def for_source(self, name: str | None) -> str:
        """The English's style name for a French paragraph in style `name` (None: the default style)."""
        if name is not None and name in self.automatic:
            return self._automatic(name)
        return self._common(name)

    def _common(self, base: str | None) -> str:
        base = None if base == "Standard" else base
        name = PREFIX if base is None else f"{PREFIX}_20_{base}"
        if name in self.common:
            return name
        style = etree.SubElement(self.common_parent, STYLE, {NAME: name, FAMILY: "paragraph"})
        if base is not None:  # a style of styles.xml, or one LibreOffice defines (`Heading_20_1`, `Text_20_body`)
            source = self.common.get(base)
            shown = source.get(DISPLAY) if source is not None else None
            style.set(DISPLAY, f"{PREFIX} {shown or base.replace('_20_', ' ')}")
            style.set(PARENT, base)
            for attribute in ("style:default-outline-level", "style:class"):
                if source is not None and source.get(q(attribute)) is not None:
                    style.set(q(attribute), source.get(q(attribute)) or "")
        elif "Standard" in self.common:
            style.set(PARENT, "Standard")
        etree.SubElement(
            style,
            q("style:text-properties"),
            {
                f"{{{FO_NS}}}font-style": "italic",
                q("style:font-style-asian"): "italic",
                q("style:font-style-complex"): "italic",
                f"{{{FO_NS}}}color": COLOR,
            },
        )
        self.common[name] = style
        if self.common_parent is not self.automatic_parent and not self.styles_changed:
            self.styles_changed = True
            self._master_page()
        return name

    def _automatic(self, name: str) -> str:
        english = f"{name}-en"
        if english in self.automatic:
            return english
        source = self.automatic[name]
        twin = copy.deepcopy(source)
        twin.set(NAME, english)
        twin.set(PARENT, self._common(source.get(PARENT)))
        source.addnext(twin)
        self.automatic[english] = twin
        return english
