"""PDF: the text layer read with pypdf, paragraphs rebuilt from its lines; written back as HTML or EPUB.

A PDF is never written back as a PDF: its layout cannot take a second language. The bilingual
document is an HTML page (the default) or an EPUB, in the three layouts.

Paragraphs are rebuilt from the geometry of pypdf's lines (positions, font sizes) by the rules
of `service.formats.pdf_layout`: gaps larger than the usual line spacing, indents, size changes
and moves up the page (columns) start paragraphs; running headers and footers are kept apart,
verbatim. A short paragraph in a font clearly larger than the body's is a heading. Pages are
read in order; within a page, text comes in the order the PDF draws it.

Bounded: at most `Limits.max_pdf_pages` pages (the page tree's count is checked before any page
is read) and `Limits.max_pdf_chars` characters of text; a page's content is checked for size
before its text is extracted, and pypdf caps every stream it expands. Past a bound the PDF is
refused with the reason, not cut short.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from models.document import BilingualBlock, BilingualDocument, Block, BlockKind, Document
from service.formats.base import FormatError, Layout, Source
from service.formats.pdf_layout import LETTER, Line, Paragraph, build
from service.formats.pdf_work import Meter
from service.formats.work import OutOfWork, WorkBudget
from service.jobs.limits import Limits
from service.jobs.reasons import Reason

# a page's content may take this many bytes per character of the text cap (text operators, positions, fonts)
CONTENT_BYTES_PER_CHAR = 8
HEADING_RATIO = 1.2  # a heading's font is at least this much larger than the body's
HEADING_MAX_CHARS = 200
# a piece of text drawn on a line's row further right than the line's characters can reach (each at most
# `WIDEST_CHAR` of the font size wide), by `COLUMN_GAP` font sizes, starts another column's line
WIDEST_CHAR = 0.7
COLUMN_GAP = 2.0


@dataclass(frozen=True, slots=True)
class Parsed:
    title: str
    pages: tuple[int, ...]  # the page (from 1) each block starts on


def _open(data: bytes) -> Any:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        try:  # an owner password only (printing, copying restricted): anyone may read it
            opened = reader.decrypt("")
        except Exception as error:  # noqa: BLE001 - a cipher pypdf cannot use here (AES without cryptography)
            raise FormatError(
                Reason.ENCRYPTED, f"the PDF is encrypted ({type(error).__name__}: {error})"[:300]
            ) from None
        if not opened:
            raise FormatError(Reason.ENCRYPTED, "the PDF is encrypted with a password")
    return reader


def _declared_pages(reader: Any) -> int | None:
    """The page tree's /Count, read without walking the tree (it may lie: the walk is checked again)."""
    try:
        count = reader.trailer["/Root"]["/Pages"]["/Count"]
        return int(count)
    except Exception:  # noqa: BLE001 - a missing or odd count: the walk decides
        return None


def _lines(page: Any, content_cap: int, meter: Meter) -> tuple[list[Line], int]:
    """The page's lines, as pypdf breaks them, each placed where its first text is drawn; and the content size."""
    contents = page.get_contents()
    content_bytes = len(contents.get_data()) if contents is not None else 0
    if content_bytes > content_cap:
        raise FormatError(
            Reason.TOO_MUCH_TEXT, f"a page's content is {content_bytes} bytes (the document may hold {content_cap})"
        )
    pieces: list[tuple[str, float, float, float]] = []

    def visit(text: str, cm: Sequence[float], tm: Sequence[float], font: Any, font_size: float) -> None:
        if text:
            a, b, c, d, e, f = _multiply(tm, cm)
            scale = abs(a * d - b * c) ** 0.5 or 1.0
            pieces.append((text, e, f, font_size * scale))

    meter.page(page, content_bytes)
    page.extract_text(visitor_text=visit, visitor_operand_before=meter.before, visitor_operand_after=meter.after)
    lines: list[Line] = []
    current: list[str] = []
    where: tuple[float, float, float] | None = None
    reach = 0.0  # how far right the current line's text may go (an estimate from its characters)
    for text, x, y, font_size in pieces:
        if where is not None and text.strip() and abs(y - where[1]) < 0.5 * font_size and x > reach:
            lines.append(Line("".join(current), *where))  # far right on the same row: another column's line
            current, where = [], None
        parts = text.split("\n")
        for number, part in enumerate(parts):
            if number:  # pypdf's line break
                if where is not None:
                    lines.append(Line("".join(current), *where))
                current, where = [], None
            if part:
                current.append(part)
                if where is None and part.strip():
                    where = (x, y, font_size)
        reach = x + font_size * (WIDEST_CHAR * len(parts[-1]) + COLUMN_GAP)
    if where is not None:
        lines.append(Line("".join(current), *where))
    return [line for line in lines if line.text.strip()], content_bytes


def _multiply(m: Sequence[float], n: Sequence[float]) -> tuple[float, float, float, float, float, float]:
    return (
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    )


def read_paragraphs(data: bytes, caps: Limits) -> tuple[list[Paragraph], str, list[str]]:
    """The PDF's paragraphs in reading order, its title (metadata) and the warnings (pages without text)."""
    from pypdf.errors import LimitReachedError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pypdf warns about every oddity it repairs; a broken PDF raises below
        previous_level = _quiet()
        try:
            return _read(data, caps)
        except FormatError:
            raise
        except LimitReachedError as error:
            raise FormatError(
                Reason.TOO_MUCH_TEXT, f"a stream of the PDF expands past pypdf's limit ({error})"[:300]
            ) from None
        except RecursionError:
            raise FormatError(Reason.UNPARSABLE, "the PDF's objects are nested too deeply") from None
        except Exception as error:  # noqa: BLE001 - pypdf raises many kinds on a broken file
            raise FormatError(
                Reason.UNPARSABLE, f"not a readable PDF ({type(error).__name__}: {error})"[:300]
            ) from None
        finally:
            logging.getLogger("pypdf").setLevel(previous_level)


def _quiet() -> int:
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR)
    return level


def _read(data: bytes, caps: Limits) -> tuple[list[Paragraph], str, list[str]]:
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise FormatError(Reason.UNPARSABLE, "not a PDF (no %PDF header)")
    budget = WorkBudget.for_input(len(data), caps, "PDF")
    from pypdf import Configuration, apply_configuration  # a context variable: this thread's reads only

    defaults = Configuration()
    streams = {name: min(getattr(defaults, name), max(budget.allowed, 1)) for name in _STREAM_CAPS}
    with apply_configuration(**streams):
        return _read_within(data, caps, budget)


# pypdf's caps on what one stream may expand to; each is lowered to the document's work budget
_STREAM_CAPS = (
    "zlib_maximum_output_length",
    "lzw_maximum_output_length",
    "run_length_maximum_output_length",
    "jbig2_maximum_output_length",
    "array_based_stream_maximum_output_length",
)


def _read_within(data: bytes, caps: Limits, budget: WorkBudget) -> tuple[list[Paragraph], str, list[str]]:
    reader = _open(data)
    declared = _declared_pages(reader)
    if declared is not None and declared > caps.max_pdf_pages:
        raise FormatError(
            Reason.TOO_MANY_PAGES, f"the PDF declares {declared} pages; the limit is {caps.max_pdf_pages}"
        )
    count = len(reader.pages)
    if count > caps.max_pdf_pages:
        raise FormatError(Reason.TOO_MANY_PAGES, f"the PDF has {count} pages; the limit is {caps.max_pdf_pages}")
    content_cap = caps.max_pdf_chars * CONTENT_BYTES_PER_CHAR
    meter = Meter(budget)
    pages: list[list[Line]] = []
    chars = 0
    for page in reader.pages:
        try:
            lines, size = _lines(page, content_cap, meter)
        except OutOfWork as stop:
            raise stop.error from None
        content_cap -= size
        chars += sum(len(line.text) for line in lines)
        if chars > caps.max_pdf_chars:
            raise FormatError(Reason.TOO_MUCH_TEXT, f"the PDF holds more than {caps.max_pdf_chars} characters of text")
        pages.append(lines)
    found, blank = build(pages)
    if not any(LETTER.search(p.text) for p in found):
        raise FormatError(Reason.NO_TEXT_LAYER, f"the PDF's {count} page(s) have no text layer (scanned images?)")
    title = _title(reader)
    notes = [f"pdf: page(s) {_ranges(blank)} have no text layer (images?); they are not translated"] if blank else []
    return found, title, notes


def _title(reader: Any) -> str:
    try:
        title = reader.metadata.title if reader.metadata is not None else None
    except Exception:  # noqa: BLE001 - a broken info dictionary has no title
        title = None
    return " ".join(str(title).split())[:200] if title else ""


def _ranges(numbers: list[int]) -> str:
    spans: list[list[int]] = []
    for number in numbers:
        if spans and spans[-1][1] == number - 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)


def _kinds(paragraphs: list[Paragraph]) -> list[BlockKind]:
    weights: dict[float, int] = {}
    for p in paragraphs:
        if not p.running:
            weights[round(p.size, 1)] = weights.get(round(p.size, 1), 0) + len(p.text)
    body = max(weights, key=lambda size: weights[size]) if weights else 0.0
    return [
        BlockKind.VERBATIM
        if p.running
        else BlockKind.HEADING
        if p.size >= HEADING_RATIO * body and len(p.text) <= HEADING_MAX_CHARS and not p.text.endswith(".")
        else BlockKind.PARAGRAPH
        for p in paragraphs
    ]


def _block(kind: BlockKind, paragraph: Paragraph) -> Block:
    """A running header or footer is kept verbatim (not translated); the rest is translated."""
    return Block(kind, paragraph.text, translate=kind != BlockKind.VERBATIM)


class Pdf:
    kind = "pdf"

    def read(self, data: bytes, caps: Limits) -> Source:
        paragraphs, title, notes = read_paragraphs(data, caps)
        blocks = tuple(_block(kind, p) for kind, p in zip(_kinds(paragraphs), paragraphs, strict=True))
        document = Document(blocks, ("", *(["\n\n"] * len(blocks))), self.kind)
        body_texts = [b.text for b in blocks if b.kind != BlockKind.VERBATIM] or [blocks[0].text]
        title = title or next((b.text for b in blocks if b.kind == BlockKind.HEADING), "") or body_texts[0]
        state = Parsed(title[:200], tuple(p.page for p in paragraphs))
        return Source(self.kind, data, document, state, tuple(notes))

    def bilingual(self, source: Source, result: BilingualDocument) -> BilingualDocument:
        return dataclasses.replace(result, format=self.kind)

    def write(self, source: Source, result: BilingualDocument, layout: Layout, suffix: str) -> bytes:
        parsed: Parsed = source.state
        if suffix == ".epub":
            return _epub(parsed, result.blocks, layout)
        return html_page(parsed.title, body(result.blocks, layout), layout).encode("utf-8")


def _tag(block: BilingualBlock) -> str:
    return "h2" if block.kind in (BlockKind.HEADING, BlockKind.TITLE) else "p"


def body(blocks: Sequence[BilingualBlock], layout: str, xhtml: bool = False) -> str:
    """The blocks as HTML (or XHTML) markup in `layout`: escaped text, `lang` on every element."""
    out: list[str] = []
    fr_lang, en_lang = ('lang="fr" xml:lang="fr"', 'lang="en" xml:lang="en"') if xhtml else ('lang="fr"', 'lang="en"')
    for block in blocks:
        if block.kind == BlockKind.VERBATIM and not block.translated:  # a running header or footer: once, as is
            running = f'<p {fr_lang} class="running">{escape(block.fr)}</p>'
            out.append(f'<tr><td colspan="2">{running}</td></tr>' if layout == Layout.SIDE_BY_SIDE else running)
            continue
        tag = _tag(block)
        fr = f"<{tag} {fr_lang}>{escape(block.fr)}</{tag}>"
        en = f'<{tag} {en_lang} class="en">{escape(block.en)}</{tag}>'
        if layout == Layout.ENGLISH:
            out.append(en)
        elif layout == Layout.SIDE_BY_SIDE:
            out.append(f"<tr><td {fr_lang}>{fr}</td><td {en_lang}>{en}</td></tr>")
        else:
            out += [fr, en]
    if layout == Layout.SIDE_BY_SIDE:
        return f'<table class="bitext-pair">{"".join(out)}</table>'
    return "\n".join(out)


_STYLE = (
    "body{font-family:Georgia,serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.5}"
    ".en{color:#1a4f8b}.running{color:#777;font-size:.8em;text-align:center}"
    "table{border-collapse:collapse;width:100%}td{vertical-align:top;width:50%;padding:0 .6em}"
)


def html_page(title: str, markup: str, layout: str) -> str:
    lang = "en" if layout == Layout.ENGLISH else "fr"
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>\n<body>\n{markup}\n</body></html>\n"
    )


CHAPTER_BLOCKS = 200


def _chapters(parsed: Parsed, blocks: Sequence[BilingualBlock]) -> list[tuple[str, list[BilingualBlock]]]:
    """Blocks cut into chapters: before each heading (once a chapter holds something), and every 200 blocks."""
    chapters: list[tuple[str, list[BilingualBlock]]] = []
    for block, page in zip(blocks, parsed.pages, strict=True):
        heading = block.kind in (BlockKind.HEADING, BlockKind.TITLE)
        if not chapters or (heading and chapters[-1][1]) or len(chapters[-1][1]) >= CHAPTER_BLOCKS:
            name = block.fr if heading else f"Page {page}"
            chapters.append((" ".join(name.split())[:120], []))
        chapters[-1][1].append(block)
    return chapters


def _epub(parsed: Parsed, blocks: Sequence[BilingualBlock], layout: str) -> bytes:
    from service.formats.epub import make_epub

    lang = "en" if layout == Layout.ENGLISH else "fr"
    chapters = [(name, body(part, layout, xhtml=True)) for name, part in _chapters(parsed, blocks)]
    return make_epub(parsed.title or "PDF", chapters, lang)
