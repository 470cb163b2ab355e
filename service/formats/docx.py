"""DOCX: paragraphs, headings, list items, table cells, footnotes and endnotes; written back as DOCX.

Only `word/document.xml`, `word/footnotes.xml` and `word/endnotes.xml` are rewritten; every other
part (styles, images, numbering, relationships) is copied byte for byte. A paragraph's text is
its runs' text. Where its runs differ in bold or italic (direct formatting), the block is markdown
(`**bold**`, `*italic*`) and the pipeline places the emphasis on the aligned English words; the
English paragraph is rebuilt as runs in the style of the French paragraph's first run, bold or
italic where its markdown says. A paragraph whose text holds `*`, `` ` `` or `[` (they would read
as markup), or whose emphasis cannot be written as markdown unambiguously, stays plain text.
"""

from __future__ import annotations

from models.document import BilingualDocument, Block
from service.formats import docx_layout
from service.formats.base import FormatError, Layout
from service.formats.docx_styles import STYLES, TranslationStyles
from service.formats.docx_text import PARTS, Parsed, block_of, english_copy, paragraphs, set_text
from service.formats.office import PackagedText, place
from service.formats.package import Package, serialize
from service.formats.work import WorkBudget
from service.jobs.reasons import Reason


class Docx(PackagedText):
    kind = "docx"
    label = "DOCX"

    def parse(self, package: Package, budget: WorkBudget) -> tuple[list[Block], Parsed]:
        if "word/document.xml" not in package.by_name:
            raise FormatError(Reason.UNPARSABLE, "not a DOCX: no word/document.xml")
        blocks: list[Block] = []
        counts = []
        for part in PARTS:
            if part not in package.by_name:
                continue
            found = paragraphs(package.xml(part, budget))
            counts.append((part, len(found)))
            blocks += [block_of(p) for p in found]
        return blocks, Parsed(package, tuple(counts))

    def rewrite(self, parsed: Parsed, result: BilingualDocument, layout: Layout) -> dict[str, bytes]:
        replaced = {}
        start = 0
        has_styles = layout != Layout.ENGLISH and STYLES in parsed.package.by_name
        styles = TranslationStyles(parsed.package.xml(STYLES)) if has_styles else None
        for part, count in parsed.counts:
            root = parsed.package.xml(part)
            found = paragraphs(root)
            english = {id(p): block for p, block in zip(found, result.blocks[start : start + count], strict=True)}
            start += count
            if layout == Layout.SIDE_BY_SIDE and part == "word/document.xml":
                docx_layout.side_by_side(root, english, styles)
            else:
                place(found, english, layout, set_text, lambda p, block: english_copy(p, block, styles))
            replaced[part] = serialize(root, standalone=True)
        if styles is not None and styles.added:
            replaced[STYLES] = styles.part()
        return replaced
