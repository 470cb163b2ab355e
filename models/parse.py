"""Input → `Document`: plain text, a markdown article, HTML, or a structured JSON article.

Layout rule, the same for text and markdown: if the input has blank lines, blank lines separate
paragraphs and a paragraph's single line breaks stay inside it; if it has none (pasted articles
usually come one paragraph per line), every line is a paragraph. Nothing is dropped: markup
around translatable text is kept in the block's `prefix`/`suffix`, lines without letters are
kept as verbatim blocks, and `Document.render()` gives the text input back exactly.
"""

from __future__ import annotations

import html as html_lib
import importlib
import re
from collections.abc import Iterator, Mapping
from typing import Any

from models import strictjson
from models.document import Block, BlockKind, Document
from models.markup import HTML, MARKDOWN, safe_url
from models.tables import cell_spans, table_length

FORMATS = ("auto", "text", "markdown", "html", "json")
TEXT, CODE, TABLE = "text", "code", "table"  # kinds of span `_units` finds

# The alt text stops at any bracket, so a search from each `![` in "![![![…" ends at the next one.
_IMAGE = re.compile(r"!\[(?P<alt>[^\[\]\n]*)\]\((?P<url>[^)\s]+)(?P<title>\s+\"[^\"\n]*\")?\)")
_LINE = re.compile(r"[^\n]*(?:\n|$)")
_HEADING_MARKS = re.compile(r"#{1,6}[ \t]+")
_LIST_OR_QUOTE = re.compile(r"(?:[-*+][ \t]+|\d{1,3}[.)][ \t]+|>[ \t]?)+")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")
# `[^\]\n]`: an unclosed `![` scans to the end of its line, never on through the following ones (quadratic).
_MARKDOWN_HINT = re.compile(r"^(?:!\[[^\]\n]*\]\(|#{1,6}[ \t]|[-*+][ \t]|```|~~~|>[ \t])", re.MULTILINE)
_HTML_HINT = re.compile(
    r"^\s*(?:<!doctype html|<html|<head|<body|<article|<main|<div|<p[\s>]|<h[1-6][\s>])", re.IGNORECASE
)
_SENTENCE_END = (".", "!", "?", "…", ":", ";", ",")
# Words a publisher's name may hold in lower case ("Le Journal de Montréal").
_NAME_PARTICLES = {"de", "du", "des", "la", "le", "les", "et", "d'", "l'", "à", "en", "sur", "par", "au", "aux"}


class ParseError(ValueError):
    """The input cannot be read as the format it claims; the message says why."""


def detect_format(text: str) -> str:
    """Guess the format of a text body: html, markdown or text (JSON is chosen by the caller)."""
    if _HTML_HINT.match(text):
        return "html"
    if _MARKDOWN_HINT.search(text):
        return "markdown"
    return "text"


def parse(text: str, format: str = "auto") -> Document:
    """Parse `text` as `format` (see FORMATS); `auto` detects it."""
    if format not in FORMATS:
        raise ParseError(f"unknown format {format!r}: choose one of {', '.join(FORMATS)}")
    if format == "auto":
        format = detect_format(text)
    if format == "json":
        try:
            value = strictjson.loads(text)
        except strictjson.JsonError as error:
            raise ParseError(f"not valid JSON: {error}") from None
        return parse_article(value.get("article", value) if isinstance(value, dict) else value)
    if format == "html":
        return parse_html(text)
    return _parse_lines(text, markdown=format == "markdown", format=format)


def _has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def _units(text: str, markdown: bool) -> Iterator[tuple[int, int, str]]:
    """Yield (start, end, kind) of each block's span, kind `text`, `code` or `table` (markdown);
    spans exclude surrounding whitespace."""
    lines = [(m.start(), m.end()) for m in _LINE.finditer(text) if m.end() > m.start()]
    by_blank = any(not text[s:e].strip() for s, e in lines) and len(text.strip().splitlines()) > 1
    bare = [text[s:e].rstrip("\n") for s, e in lines] if markdown else []
    group: list[tuple[int, int]] = []
    in_fence = False

    def flush() -> Iterator[tuple[int, int, str]]:
        if group:
            start, end = group[0][0], group[-1][1]
            chunk = text[start:end]
            lead = len(chunk) - len(chunk.lstrip())
            yield start + lead, start + len(chunk.rstrip()), TEXT
            group.clear()

    fence_start = 0
    index = 0
    while index < len(lines):
        start, end = lines[index]
        index += 1
        line = text[start:end]
        if markdown and _FENCE.match(line):
            if in_fence:
                in_fence = False
                yield fence_start, start + len(line.rstrip()), CODE
                continue
            yield from flush()
            in_fence, fence_start = True, start + len(line) - len(line.lstrip())
            continue
        if in_fence:
            continue
        if not line.strip():
            yield from flush()
            continue
        if markdown and (rows := table_length(bare, index - 1)):
            yield from flush()
            last = lines[index - 2 + rows]
            yield start, last[0] + len(text[last[0] : last[1]].rstrip()), TABLE
            index += rows - 1
            continue
        standalone = markdown and (_IMAGE.fullmatch(line.strip()) or _heading(line.strip()))
        if standalone or not by_blank:
            yield from flush()
            group.append((start, end))
            yield from flush()
        else:
            group.append((start, end))
    if in_fence:  # an unclosed fence runs to the end, kept verbatim
        yield fence_start, len(text.rstrip()), CODE
    else:
        yield from flush()


def _heading(line: str) -> tuple[str, str, str] | None:
    """An ATX heading as (marks, text, closing marks), or None.

    Done with str methods rather than one regex: `text.*?` followed by an optional `[ \t]+#+`
    backtracks over every run of blanks, which made a 40,000-character heading take seconds.
    """
    marks = _HEADING_MARKS.match(line)
    if marks is None:
        return None
    text = line[marks.end() :]
    close = ""
    unhashed = text.rstrip("#")
    if len(unhashed) < len(text):
        trimmed = unhashed.rstrip(" \t")
        if len(trimmed) < len(unhashed):  # closing hashes count only after a blank
            text, close = trimmed, text[len(trimmed) :]
    return marks.group(), text, close


def _block_from(raw: str, markdown: bool, is_code: bool) -> Block:
    if is_code:
        return Block(BlockKind.VERBATIM, raw, translate=False)
    if markdown:
        if image := _IMAGE.fullmatch(raw):
            alt = image["alt"]
            return Block(
                BlockKind.IMAGE,
                alt,
                translate=_has_letters(alt),
                prefix="![",
                suffix=raw[image.end("alt") :],
                url=image["url"],
            )
        if heading := _heading(raw):
            marks, text, close = heading
            return Block(
                BlockKind.HEADING, text, translate=_has_letters(text), prefix=marks, suffix=close, markup=MARKDOWN
            )
        if marker := _LIST_OR_QUOTE.match(raw):
            body = raw[marker.end() :]
            if _has_letters(body):
                return Block(BlockKind.PARAGRAPH, body, prefix=marker.group(), markup=MARKDOWN)
    if not _has_letters(raw):
        return Block(BlockKind.VERBATIM, raw, translate=False)
    return Block(BlockKind.PARAGRAPH, raw, markup=MARKDOWN if markdown else "")


def _looks_like_title(block: Block) -> bool:
    text = block.text.strip()
    return (
        block.kind in (BlockKind.PARAGRAPH, BlockKind.HEADING)
        and not block.prefix.startswith(("-", "*", "+", ">"))
        and len(text) <= 200
        and not text.endswith(_SENTENCE_END)
        and "\n" not in text
    )


def _looks_like_publisher(block: Block) -> bool:
    """A short line of capitalised words right under the title: `Le Journal de Montréal`, `AFP`."""
    words = block.text.split()
    if block.kind is not BlockKind.PARAGRAPH or block.prefix or not 1 <= len(words) <= 6 or len(block.text) > 60:
        return False
    if block.text.rstrip().endswith(_SENTENCE_END) or any(ch.isdigit() for ch in block.text):
        return False
    return all(word[0].isupper() or word.lower() in _NAME_PARTICLES for word in words)


def _assign_roles(blocks: list[Block]) -> list[Block]:
    """The first text block of an article is its title; a name line right under it, its source."""
    first_text = next((i for i, b in enumerate(blocks) if b.kind in (BlockKind.PARAGRAPH, BlockKind.HEADING)), None)
    if first_text is None or any(b.kind is BlockKind.PARAGRAPH for b in blocks[:first_text]):
        return blocks
    title = blocks[first_text]
    if not _looks_like_title(title) or len(blocks) == 1:
        return blocks
    blocks[first_text] = Block(
        BlockKind.TITLE, title.text, prefix=title.prefix, suffix=title.suffix, markup=title.markup
    )
    after = first_text + 1
    if after < len(blocks) - 1 and _looks_like_publisher(blocks[after]):
        blocks[after] = Block(BlockKind.SOURCE, blocks[after].text, translate=False)
    return blocks


def _parse_lines(text: str, markdown: bool, format: str) -> Document:
    blocks: list[Block] = []
    separators: list[str] = []
    cursor = 0
    tables = 0
    for start, end, kind in _units(text, markdown):
        if kind == TABLE:
            for cell_start, cell_end, cell in _table_cells(text, start, end, tables):
                separators.append(text[cursor:cell_start])
                raw = text[cell_start:cell_end]
                blocks.append(Block(BlockKind.CELL, raw, translate=_has_letters(raw), markup=MARKDOWN, cell=cell))
                cursor = cell_end
            tables += 1
            continue
        separators.append(text[cursor:start])
        blocks.append(_block_from(text[start:end], markdown, kind == CODE))
        cursor = end
    separators.append(text[cursor:])
    return Document(tuple(_assign_roles(blocks)), tuple(separators), format)


def _table_cells(text: str, start: int, end: int, table: int) -> Iterator[tuple[int, int, tuple[int, int, int]]]:
    """Each non-empty cell of the markdown table text[start:end]: its span and (table, row, column).
    The delimiter row and the pipes stay in the separators, byte for byte."""
    row = 0
    for number, match in enumerate(_LINE.finditer(text, start, end)):
        line = match.group().rstrip("\n")
        if number == 1 or not line:  # the delimiter row
            continue
        for column, (a, b) in enumerate(cell_spans(line)):
            if b > a:
                yield match.start() + a, match.start() + b, (table, row, column)
        row += 1


def parse_article(article: Any) -> Document:
    """A structured article: `title`, `source`, `image` {url, alt}, `paragraphs` [str]."""
    if not isinstance(article, Mapping):
        raise ParseError("an article must be a JSON object with 'title' and/or 'paragraphs'")
    unknown = set(article) - {"title", "source", "image", "paragraphs"}
    if unknown:
        raise ParseError(f"unknown article fields: {', '.join(sorted(unknown))}")
    blocks: list[Block] = []
    image = article.get("image")
    if image is not None:
        if not isinstance(image, Mapping) or not isinstance(image.get("url"), str):
            raise ParseError("article.image must be an object with a string 'url' (and optional 'alt')")
        alt = image.get("alt") or ""
        if not isinstance(alt, str):
            raise ParseError("article.image.alt must be a string")
        blocks.append(
            Block(
                BlockKind.IMAGE,
                alt,
                translate=_has_letters(alt),
                prefix="![",
                suffix=f"]({image['url']})",
                url=image["url"],
            )
        )
    for field, kind in (("title", BlockKind.TITLE), ("source", BlockKind.SOURCE)):
        value = article.get(field)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ParseError(f"article.{field} must be a string")
        if value.strip():
            blocks.append(Block(kind, value, translate=kind is BlockKind.TITLE and _has_letters(value)))
    paragraphs = article.get("paragraphs", [])
    if not isinstance(paragraphs, list) or not all(isinstance(p, str) for p in paragraphs):
        raise ParseError("article.paragraphs must be a list of strings")
    for paragraph in paragraphs:
        kind = BlockKind.PARAGRAPH if _has_letters(paragraph) else BlockKind.VERBATIM
        blocks.append(Block(kind, paragraph, translate=kind is BlockKind.PARAGRAPH))
    if not blocks:
        raise ParseError("the article has no title, image or paragraphs")
    return Document(tuple(blocks), ("",) + ("\n",) * (len(blocks) - 1) + ("",), "json")


class MissingDependency(RuntimeError):
    """A library HTML input needs is not installed; the message says which and how to get it."""


def check_dependencies() -> None:
    """Import what HTML input needs now, so a broken install fails at start-up, not at the first page.

    trafilatura is imported lazily by `parse_html` (it is slow to import and the CLI on plain text
    never needs it); a server calls this before it reports ready.
    """
    for module, package in (("lxml.html.clean", "lxml_html_clean"), ("trafilatura", "trafilatura")):
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise MissingDependency(
                f"{module} cannot be imported ({error}); HTML input needs it: pip install {package} "
                "(or reinstall bitext with its dependencies)"
            ) from error


def parse_html(html: str) -> Document:
    """The main article of an HTML page (trafilatura), as blocks: title, headings, paragraphs, table cells.

    Inline links, bold, italics and code are kept in each block's text as a small HTML fragment
    (`markup="html"`, see `models.markup`); every table cell is a block of its own (`cell`).
    """
    import lxml.html
    import trafilatura
    from lxml import etree

    from models.html_text import MAX_DEPTH, depth

    try:
        page = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        page = None  # trafilatura decides below: no article text
    if page is not None and depth(page) > MAX_DEPTH:  # libxml2 would drop the deeper text silently
        raise ParseError(f"the HTML is nested too deeply: more than {MAX_DEPTH} levels of elements")
    xml = trafilatura.extract(
        html,
        output_format="xml",
        include_comments=False,
        include_tables=True,
        include_links=True,
        include_formatting=True,
        with_metadata=True,
    )
    if not xml:
        raise ParseError("no article text could be found in this HTML")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)
    root = etree.fromstring(xml.encode("utf-8"), parser)
    if root is None:
        raise ParseError("no article text could be found in this HTML")
    title = (root.get("title") or "").strip()
    main = root.find("main")
    blocks: list[Block] = []
    if title:
        blocks.append(Block(BlockKind.TITLE, html_lib.escape(title, quote=False), markup=HTML))
    tables = 0
    for element in main.iter() if main is not None else ():
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in ("p", "head", "item") and not _inside(element, ("table", "p", "item", "head")):
            text = _inline_html(element, 0).strip()
            if not text:
                continue
            if blocks and tag == "head" and blocks[-1].kind is BlockKind.TITLE and html_lib.unescape(text) == title:
                continue
            kind = BlockKind.HEADING if tag == "head" else BlockKind.PARAGRAPH
            blocks.append(Block(kind, text, translate=_has_letters(text), markup=HTML))
        elif tag == "code" and not _inside(element, ("p", "item", "head", "table")):
            blocks.append(Block(BlockKind.VERBATIM, html_lib.escape("".join(element.itertext())), translate=False))
        elif tag == "table" and not _inside(element, ("table",)):
            for r, row in enumerate(element.iter("row")):
                for c, cell in enumerate(row.iter("cell")):
                    text = _inline_html(cell, 0).strip()
                    words = _has_letters(html_lib.unescape(text))
                    blocks.append(Block(BlockKind.CELL, text, translate=words, markup=HTML, cell=(tables, r, c)))
            tables += 1
    if not blocks or not any(block.translate for block in blocks):
        raise ParseError("no article text could be found in this HTML")
    return Document(tuple(blocks), ("",) + ("\n",) * (len(blocks) - 1) + ("",), "html")


_MAX_INLINE_DEPTH = 32
_HI = {"#b": "b", "#i": "i", "#t": "code", "#u": "span"}


def _inside(element: Any, tags: tuple[str, ...]) -> bool:
    parent = element.getparent()
    while parent is not None:
        if parent.tag in tags:
            return True
        parent = parent.getparent()
    return False


def _inline_html(element: Any, depth: int, in_link: bool = False) -> str:
    """The content of a trafilatura XML element as a fragment `models.markup.parse_html_inline` reads."""
    escape = lambda text: html_lib.escape(text or "", quote=False)  # noqa: E731
    out = [escape(element.text)]
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if depth >= _MAX_INLINE_DEPTH or tag in ("code",):
            inner = escape("".join(child.itertext()))
            out.append(f"<code>{inner}</code>" if tag == "code" and inner else inner)
        elif tag == "ref":
            target = (child.get("target") or "").strip()
            inner = _inline_html(child, depth + 1, True)
            if target and safe_url(target) and not in_link and inner.strip():
                out.append(f'<a href="{html_lib.escape(target, quote=True)}">{inner}</a>')
            else:
                out.append(inner)
        elif tag == "hi" and _HI.get(child.get("rend") or "") and (inner := _inline_html(child, depth + 1, in_link)):
            name = _HI[child.get("rend") or ""]
            out.append(
                f"<{name}>{inner}</{name}>" if name != "code" else f"<code>{escape(''.join(child.itertext()))}</code>"
            )
        elif tag == "lb":
            out.append("\n")
        elif tag:
            out.append(_inline_html(child, depth + 1, in_link))
        out.append(escape(child.tail))
    return "".join(out)
