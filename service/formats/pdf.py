"""PDF: the text layer read with pypdf, paragraphs rebuilt from its lines; written back as HTML or EPUB.

A PDF is never written back as a PDF: its layout cannot take a second language. The bilingual
document is an HTML page (the default) or an EPUB, in the three layouts.

Paragraphs are rebuilt from pypdf's lines with a few documented rules (`_paragraphs`): a new
paragraph starts where the font size changes, where the gap to the previous line is larger than
1.5 times the font size and 1.3 times the document's usual line spacing, where a line is
indented past the one above it, or where the text moves up the page (a new column or box). A
line ending in a hyphen after a letter joins the next one without a space, and without the
hyphen when the next line starts in lower case ("gouverne-" "ment"; "franco-" "Ontarien" keeps
it). A paragraph that does not end a sentence continues on the next page when that page starts
in lower case. A short paragraph in a font clearly larger than the body's is a heading. Pages
are read in order; within a page, text comes in the order the PDF draws it.

Bounded: at most `Limits.max_pdf_pages` pages (the page tree's count is checked before any page
is read) and `Limits.max_pdf_chars` characters of text; a page's content is checked for size
before its text is extracted, and pypdf caps every stream it expands. Past a bound the PDF is
refused with the reason, not cut short.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import re
import statistics
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from models.document import BilingualBlock, BilingualDocument, Block, BlockKind, Document
from service.formats.base import FormatError, Layout, Source
from service.formats.pdf_work import Meter
from service.formats.work import OutOfWork, WorkBudget
from service.jobs import limits
from service.jobs.limits import Limits

_LETTER = re.compile(r"[^\W\d_]")
_ENDS_SENTENCE = re.compile(r"[.!?…:;»\"”)]$")
# a page's content may take this many bytes per character of the text cap (text operators, positions, fonts)
CONTENT_BYTES_PER_CHAR = 8
HEADING_RATIO = 1.2  # a heading's font is at least this much larger than the body's
HEADING_MAX_CHARS = 200


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    x: float
    y: float
    size: float


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: str
    size: float
    page: int


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
                limits.ENCRYPTED, f"the PDF is encrypted ({type(error).__name__}: {error})"[:300]
            ) from None
        if not opened:
            raise FormatError(limits.ENCRYPTED, "the PDF is encrypted with a password")
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
            TOO_MUCH_TEXT, f"a page's content is {content_bytes} bytes (the document may hold {content_cap})"
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
    for text, x, y, font_size in pieces:
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


def _extend(parts: list[str], line: str) -> None:
    """Add `line` to a paragraph held as `parts`: after a space, or glued to a hyphenated line end
    ("rénova-" "tion"; "franco-" "Ontarien" keeps its hyphen). Only the last part is looked at, so a
    paragraph of n lines costs O(n), however long it grows."""
    right = line.strip()
    if not right:
        return
    if parts:
        parts[-1] = parts[-1].rstrip().removesuffix("\xad")
        if not parts[-1]:
            parts.pop()
    if not parts:
        parts.append(right)
        return
    last = parts[-1]
    before = last[-2] if len(last) > 1 else parts[-2][-1:] if len(parts) > 1 else ""
    if last.endswith("-") and before.isalpha() and right[:1].isalpha():
        if right[:1].islower():
            parts[-1] = last[:-1]
        parts.append(right)
    else:
        parts.append(" " + right)


def _leading(pages: list[list[Line]]) -> float:
    """The document's usual line spacing: the median drop between consecutive lines of one size."""
    gaps = [
        a.y - b.y
        for lines in pages
        for a, b in zip(lines, lines[1:], strict=False)
        if 0 < a.y - b.y and abs(a.size - b.size) < 0.5
    ]
    return statistics.median(gaps) if gaps else 0.0


@dataclass(slots=True)
class _Draft:
    """A paragraph being built: its text as parts (`_extend`), joined once at the end."""

    parts: list[str]
    size: float
    page: int

    def done(self) -> Paragraph:
        return Paragraph(" ".join("".join(self.parts).split()), self.size, self.page)


def _paragraphs(lines: list[Line], page: int, leading: float) -> Iterator[_Draft]:
    """One page's lines grouped into paragraphs by the rules in the module's docstring."""
    draft: _Draft | None = None
    previous: Line | None = None
    for line in lines:
        if previous is not None and draft is not None:
            size = max(line.size, previous.size)
            drop = previous.y - line.y
            new = (
                abs(line.size - previous.size) > 0.15 * size
                or drop < -0.3 * size
                or drop > max(1.5 * size, 1.3 * leading)
                or line.x > previous.x + line.size
            )
            if new:
                if "".join(draft.parts).strip():
                    yield draft
                draft = None
        if draft is None:
            draft = _Draft([], line.size, page)
        _extend(draft.parts, line.text)
        previous = line
    if draft is not None and draft.parts:
        yield draft


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
                TOO_MUCH_TEXT, f"a stream of the PDF expands past pypdf's limit ({error})"[:300]
            ) from None
        except RecursionError:
            raise FormatError(limits.UNPARSABLE, "the PDF's objects are nested too deeply") from None
        except Exception as error:  # noqa: BLE001 - pypdf raises many kinds on a broken file
            raise FormatError(
                limits.UNPARSABLE, f"not a readable PDF ({type(error).__name__}: {error})"[:300]
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
        raise FormatError(limits.UNPARSABLE, "not a PDF (no %PDF header)")
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
        raise FormatError(TOO_MANY_PAGES, f"the PDF declares {declared} pages; the limit is {caps.max_pdf_pages}")
    count = len(reader.pages)
    if count > caps.max_pdf_pages:
        raise FormatError(TOO_MANY_PAGES, f"the PDF has {count} pages; the limit is {caps.max_pdf_pages}")
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
            raise FormatError(TOO_MUCH_TEXT, f"the PDF holds more than {caps.max_pdf_chars} characters of text")
        pages.append(lines)
    leading = _leading(pages)
    drafts: list[_Draft] = []
    blank: list[int] = []
    for number, lines in enumerate(pages, 1):
        paragraphs = list(_paragraphs(lines, number, leading))
        if not any(_LETTER.search(part) for p in paragraphs for part in p.parts):
            blank.append(number)
            continue
        if drafts and _continues(drafts[-1], paragraphs[0]):  # the paragraph goes on over the page break
            first, *rest = paragraphs.pop(0).parts
            _extend(drafts[-1].parts, first)
            drafts[-1].parts += rest
        drafts += paragraphs
    found = [draft.done() for draft in drafts]
    if not any(_LETTER.search(p.text) for p in found):
        raise FormatError(NO_TEXT_LAYER, f"the PDF's {count} page(s) have no text layer (scanned images?)")
    title = _title(reader)
    notes = [f"pdf: page(s) {_ranges(blank)} have no text layer (images?); they are not translated"] if blank else []
    return found, title, notes


def _continues(last: _Draft, first: _Draft) -> bool:
    end, start = last.parts[-1].rstrip()[-1:], first.parts[0].lstrip()[:1]
    return not _ENDS_SENTENCE.search(end) and start.islower() and abs(last.size - first.size) < 0.5


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


# Reason codes of a refused PDF (`service.jobs.limits` lists them as skips: a rerun would refuse it again).
NO_TEXT_LAYER = limits.NO_TEXT_LAYER
TOO_MANY_PAGES = limits.TOO_MANY_PAGES
TOO_MUCH_TEXT = limits.TOO_MUCH_TEXT
TOO_MUCH_WORK = limits.TOO_MUCH_WORK


def _kinds(paragraphs: list[Paragraph]) -> list[BlockKind]:
    weights: dict[float, int] = {}
    for p in paragraphs:
        weights[round(p.size, 1)] = weights.get(round(p.size, 1), 0) + len(p.text)
    body = max(weights, key=lambda size: weights[size]) if weights else 0.0
    return [
        BlockKind.HEADING
        if p.size >= HEADING_RATIO * body and len(p.text) <= HEADING_MAX_CHARS and not p.text.endswith(".")
        else BlockKind.PARAGRAPH
        for p in paragraphs
    ]


class Pdf:
    kind = "pdf"

    def read(self, data: bytes, caps: Limits) -> Source:
        paragraphs, title, notes = read_paragraphs(data, caps)
        blocks = tuple(Block(kind, p.text) for kind, p in zip(_kinds(paragraphs), paragraphs, strict=True))
        document = Document(blocks, ("", *(["\n\n"] * len(blocks))), self.kind)
        title = title or next((b.text for b in blocks if b.kind == BlockKind.HEADING), "") or blocks[0].text
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
    ".en{color:#1a4f8b}table{border-collapse:collapse;width:100%}td{vertical-align:top;width:50%;padding:0 .6em}"
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
