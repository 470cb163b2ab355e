"""Inline markup inside a sentence: links, emphasis and code, carried across translation.

The model never sees markup. A block's text is read into an `Inline`: its `plain` text (what a
reader sees) and its `elements` (a link's URL, `**strong**`, `*em*`, a code span), each over a
range of `plain`. The model translates the plain text with every code span swapped for a
placeholder it copies (`QZ1`, as `models.glossary` protects terms); links and emphasis are put
back on the English words they translate, found by word alignment (`models.align`); code spans
come back where the model put their placeholder, byte for byte.

When alignment cannot place an element cleanly (it would cross another, land on no word, or a
link would end up inside a link), the sentence falls back to an order-preserving placement
(each top-level element gets its own consecutive share of the English words) and is flagged
`markup_unplaced`: markup is never dropped and the result is always well formed.

Both readers are hand-written scanners, linear in the input (no backtracking regex); anything
they cannot read as markup is kept as literal text. Only `http(s)`, `mailto` and relative URLs
make links: `javascript:`, `data:`, other schemes and scheme-relative `//host` stay text (markdown)
or lose their `href` (HTML).
"""

from __future__ import annotations

import html as html_escape
import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

FLAG_MARKUP_UNPLACED = "markup_unplaced"

MARKDOWN = "markdown"
HTML = "html"

# Kinds of element: where the reader found them and how they are written back.
LINK, IMAGE, STRONG, EM, CODE, SPAN = "link", "image", "strong", "em", "code", "span"
HTML_KINDS = {"a": LINK, "b": STRONG, "strong": STRONG, "i": EM, "em": EM, "code": CODE, "span": SPAN}
_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_SAFE_SCHEMES = ("http", "https", "mailto")
MAX_URL = 4096


# Alignment: for each target token, (source start, source end, target start, target end).
Pair = tuple[int, int, int, int]
Alignment = tuple[Pair, ...]


def safe_url(url: str) -> bool:
    """http(s), mailto, or a path on the page's own site; never javascript:, data:, vbscript: or other
    schemes, nor another host without a scheme (`//host`, `\\\\host`, `/\\host`).

    Judged as it will be read: by a browser (the WHATWG URL parser drops tabs and newlines anywhere and
    controls and spaces at the ends, reads `\\` as `/`, and takes `//host` for another host: from a page
    saved to disk, `file://host`, a network share) and by a markdown renderer (CommonMark decodes
    backslash escapes and character references in a link destination: `javascript&colon;`). The URL
    must be safe as written and in each of those readings; any whitespace or control character in
    one of them refuses it outright.
    """
    if not url or len(url) > MAX_URL:
        return False
    readings = {url, html_escape.unescape(url), html_escape.unescape(_MARKDOWN_ESCAPE.sub(r"\1", url))}
    return all(_safe_reading(reading) for reading in readings)


_MARKDOWN_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark: a backslash before ASCII punctuation


def _safe_reading(url: str) -> bool:
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 0x7F for ch in url):
        return False
    normal = url.replace("\\", "/")  # as browsers read it in http(s) pages
    if normal.startswith("//"):  # scheme-relative: another host
        return False
    head = normal.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if ":" not in head:
        return True
    return head.split(":", 1)[0].lower() in _SAFE_SCHEMES


@dataclass(frozen=True, slots=True)
class Element:
    """One piece of markup over `plain[start:end]`; `raw_start:raw_end` is it in the source."""

    kind: str
    start: int
    end: int
    raw_start: int
    raw_end: int
    url: str | None = None
    tag: str = ""  # HTML: the element's own tag name
    attrs: tuple[tuple[str, str], ...] = ()  # HTML: its attributes, kept
    fence: str = ""  # markdown code: the backtick run
    pad: bool = False  # markdown code: one space inside each fence


@dataclass(frozen=True, slots=True)
class Inline:
    """A block's text read as markup: `plain[i]` came from `raw[offsets[i]]`."""

    raw: str
    plain: str
    elements: tuple[Element, ...]  # sorted by start, outer elements first
    offsets: tuple[int, ...]  # one per plain character, then len(raw)
    markup: str = MARKDOWN
    ends: tuple[int, ...] = ()  # where each plain character ends in raw; default offsets[i] + 1

    def raw_end(self, index: int) -> int:
        """Where plain character `index` ends in `raw`."""
        return self.ends[index] if self.ends else self.offsets[index] + 1


def plain_inline(raw: str, markup: str = "") -> Inline:
    return Inline(raw, raw, (), tuple(range(len(raw) + 1)), markup or MARKDOWN)


def _sorted(elements: list[Element]) -> tuple[Element, ...]:
    return tuple(sorted(elements, key=lambda e: (e.raw_start, -e.raw_end)))


def _build(
    raw: str, dropped: list[tuple[int, int]], elements_raw: list[tuple[Element, int, int]], markup: str
) -> Inline:
    """Plain text = `raw` without the `dropped` ranges; elements get plain offsets from their content's raw range."""
    dropped.sort()
    keep_before = [0] * (len(raw) + 1)  # plain position of each raw position
    offsets: list[int] = []
    pieces: list[str] = []
    cursor = 0
    count = 0
    for start, end in dropped + [(len(raw), len(raw))]:
        if start < cursor:
            start = cursor
        for i in range(cursor, start):
            keep_before[i] = count
            offsets.append(i)
            count += 1
        pieces.append(raw[cursor:start])
        for i in range(start, max(start, end)):
            keep_before[i] = count
        cursor = max(cursor, end)
    keep_before[len(raw)] = count
    offsets.append(len(raw))
    elements = [
        Element(
            e.kind,
            keep_before[content_start],
            keep_before[content_end],
            e.raw_start,
            e.raw_end,
            e.url,
            e.tag,
            e.attrs,
            e.fence,
            e.pad,
        )
        for e, content_start, content_end in elements_raw
    ]
    return Inline(raw, "".join(pieces), _sorted(elements), tuple(offsets), markup)


# -- markdown ------------------------------------------------------------------------------------


def _next_index(text: str, char: str) -> list[int]:
    """For each position, the next position holding `char` (len(text) if none): one backward pass."""
    out = [len(text)] * (len(text) + 1)
    following = len(text)
    for i in range(len(text) - 1, -1, -1):
        if text[i] == char:
            following = i
        out[i] = following
    return out


def parse_markdown(raw: str) -> Inline:
    """Links `[text](url)`, images `![alt](url)`, `**strong**`, `*em*` and `` `code` `` in one paragraph."""
    n = len(raw)
    escaped = [False] * (n + 1)
    i = 0
    while i < n:
        if raw[i] == "\\" and i + 1 < n and raw[i + 1] in _ASCII_PUNCT:
            escaped[i + 1] = True
            i += 2
        else:
            i += 1
    inside = [False] * (n + 1)  # in a code span or a link's `(url)`: not markup
    dropped: list[tuple[int, int]] = []
    found: list[tuple[Element, int, int]] = []

    # Code spans: a backtick run closes at the next run of the same length.
    runs: list[tuple[int, int]] = []
    i = 0
    while i < n:
        if raw[i] == "`" and not escaped[i]:
            j = i
            while j < n and raw[j] == "`":
                j += 1
            runs.append((i, j - i))
            i = j
        else:
            i += 1
    by_length: dict[int, list[int]] = {}
    for start, length in runs:
        by_length.setdefault(length, []).append(start)
    covered = 0
    for start, length in runs:
        if start < covered:
            continue
        same = by_length[length]
        k = bisect_right(same, start)
        if k >= len(same):
            continue
        close = same[k]
        content_start, content_end = start + length, close
        body = raw[content_start:content_end]
        pad = len(body) >= 2 and body[0] == " " and body[-1] == " " and body.strip(" ") != ""
        if pad:
            content_start, content_end = content_start + 1, content_end - 1
        if content_end <= content_start:
            continue
        covered = close + length
        for p in range(start, covered):
            inside[p] = True
        dropped += [(start, content_start), (content_end, covered)]
        element = Element(CODE, 0, 0, start, covered, fence="`" * length, pad=pad)
        found.append((element, content_start, content_end))

    # Links: brackets paired with a stack, then `](url)` right after the closing one.
    next_close = _next_index(raw, ")")
    pairs: list[tuple[int, int]] = []
    stack: list[int] = []
    for i, char in enumerate(raw):
        if inside[i] or escaped[i]:
            continue
        if char == "[":
            stack.append(i)
        elif char == "]" and stack:
            pairs.append((stack.pop(), i))
    pairs.sort()
    links: list[tuple[int, int]] = []  # link text ranges, the scopes of their emphasis
    taken = -1
    for open_, close in pairs:
        if open_ < taken or close + 1 >= n or raw[close + 1] != "(" or inside[close + 1]:
            continue
        url_start = close + 2
        url_end = next_close[url_start]
        if url_end >= n:
            continue
        url = raw[url_start:url_end]
        if "(" in url:  # one level of parentheses, as in Wikipedia addresses
            url_end = next_close[url_end + 1] if url_end + 1 <= n else n
            if url_end >= n:
                continue
            url = raw[url_start:url_end]
        if not safe_url(url) or any(ch in url for ch in '`<>"[]') or url.count("(") > 1:
            continue
        if any(inside[p] for p in (open_, close, url_end)):
            continue
        image = open_ > 0 and raw[open_ - 1] == "!" and not escaped[open_ - 1] and not inside[open_ - 1]
        start = open_ - 1 if image else open_
        if start < taken:
            continue
        if any(inside[p] for p in range(close + 1, url_end + 1)):
            continue
        for p in range(close + 1, url_end + 1):
            inside[p] = True
        dropped += [(start, open_ + 1), (close, url_end + 1)]
        found.append((Element(IMAGE if image else LINK, 0, 0, start, url_end + 1, url=url), open_ + 1, close))
        links.append((open_ + 1, close))
        taken = url_end + 1

    # Emphasis: `*` / `**` runs, paired within the top level or one link's text.
    delimiters: list[tuple[int, int]] = []
    i = 0
    while i < n:
        if raw[i] == "*" and not escaped[i] and not inside[i]:
            j = i
            while j < n and raw[j] == "*" and not inside[j]:
                j += 1
            delimiters.append((i, j - i))
            i = j
        else:
            i += 1
    link_starts = [start for start, _ in links]

    def scope(position: int) -> int:
        k = bisect_right(link_starts, position) - 1
        return k if k >= 0 and position < links[k][1] else -1

    openers: dict[tuple[int, int], list[int]] = {}  # (scope, length) → opener positions
    for position, length in delimiters:
        if length > 2:
            continue
        where = scope(position)
        before = raw[position - 1] if position > 0 else " "
        after = raw[position + length] if position + length < n else " "
        if where >= 0 and (position + length > links[where][1]):
            continue
        stack_same = openers.setdefault((where, length), [])
        if not before.isspace() and stack_same:
            opener = stack_same.pop()
            other = openers.setdefault((where, 3 - length), [])
            while other and other[-1] > opener:  # crossing openers become text
                other.pop()
            kind = STRONG if length == 2 else EM
            dropped += [(opener, opener + length), (position, position + length)]
            found.append((Element(kind, 0, 0, opener, position + length), opener + length, position))
        elif not after.isspace():
            stack_same.append(position)
    return _build(raw, dropped, found, MARKDOWN)


def render_markdown(text: str, placed: Sequence[tuple[Element, int, int]]) -> str:
    """`text` with each element written back as markdown over its [start, end)."""

    def open_(element: Element) -> str:
        if element.kind == CODE:
            return element.fence + (" " if element.pad else "")
        return {LINK: "[", IMAGE: "![", STRONG: "**", EM: "*"}.get(element.kind, "")

    def close(element: Element) -> str:
        if element.kind == CODE:
            return (" " if element.pad else "") + element.fence
        if element.kind in (LINK, IMAGE):
            return f"]({element.url})"
        return {STRONG: "**", EM: "*"}.get(element.kind, "")

    return _render(text, placed, open_, close, lambda s: s)


# -- HTML ----------------------------------------------------------------------------------------


def start_tag(tag: str, attrs: Sequence[tuple[str, str]]) -> str:
    parts = [tag] + [f'{name}="{html_escape.escape(value, quote=True)}"' for name, value in attrs]
    return "<" + " ".join(parts) + ">"


def html_attrs(tag: str, attrs: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The attributes an element keeps: all but an unsafe link's `href` and event handlers."""
    kept = []
    for name, value in attrs:
        lowered = name.lower()
        if lowered.startswith("on") or not lowered.replace("-", "").replace("_", "").isalnum():
            continue
        if lowered in ("href", "src") and not safe_url(value.strip()):
            continue
        kept.append((lowered, value))
    return tuple(kept)


def parse_html_inline(raw: str) -> Inline:
    """A fragment of inline HTML (`a`, `b`, `strong`, `i`, `em`, `code`, `span`), as written by `serialize`.

    Anything else, or tags that do not balance, and the whole fragment is read as plain text
    with its entities decoded and tags kept literally.
    """
    n = len(raw)
    pieces: list[tuple[int, int, str]] = []  # raw range → the plain text it stands for
    found: list[tuple[Element, int, int]] = []
    stack: list[tuple[str, tuple[tuple[str, str], ...], int, int]] = []
    i = 0
    ok = True
    while i < n:
        char = raw[i]
        if char == "<":
            end = raw.find(">", i)
            tag = _read_tag(raw[i + 1 : end]) if end > 0 else None
            if tag is None:
                ok = False
                break
            name, attrs, closing = tag
            if name not in HTML_KINDS:
                ok = False
                break
            if closing:
                if not stack or stack[-1][0] != name:
                    ok = False
                    break
                open_name, open_attrs, raw_start, content_start = stack.pop()
                element = Element(HTML_KINDS[name], 0, 0, raw_start, end + 1, tag=name, attrs=open_attrs)
                if name == "a":
                    element = Element(
                        LINK, 0, 0, raw_start, end + 1, url=dict(open_attrs).get("href"), tag="a", attrs=open_attrs
                    )
                found.append((element, content_start, i))
            else:
                stack.append((name, attrs, i, end + 1))
            pieces.append((i, end + 1, ""))
            i = end + 1
        elif char == "&":
            end = raw.find(";", i, i + 12)
            value = html_escape.unescape(raw[i : end + 1]) if end > 0 else "&"
            if end < 0 or len(value) != 1:
                pieces.append((i, i + 1, "&"))
                i += 1
            else:
                pieces.append((i, end + 1, value))
                i = end + 1
        else:
            j = i
            while j < n and raw[j] not in "<&":
                j += 1
            pieces.append((i, j, raw[i:j]))
            i = j
    if not ok or stack:
        text = html_escape.unescape(raw)
        spread = _text_offsets(raw, text)
        return Inline(
            raw, text, (), spread, HTML, tuple(max(a + 1, b) for a, b in zip(spread, spread[1:], strict=False))
        )
    offsets: list[int] = []
    ends: list[int] = []
    position_of: dict[int, int] = {}
    plain: list[str] = []
    for start, _end, value in pieces:
        position_of[start] = len(offsets)
        if value and len(value) == 1 and _end - start > 1:  # an entity: one character from several
            offsets.append(start)
            ends.append(_end)
        else:
            offsets.extend(range(start, start + len(value)))
            ends.extend(range(start + 1, start + len(value) + 1))
        plain.append(value)
    position_of[n] = len(offsets)
    offsets.append(n)
    text = "".join(plain)
    elements = []
    for element, content_start, content_end in found:
        start = position_of.get(content_start, _plain_at(offsets, content_start))
        end = position_of.get(content_end, _plain_at(offsets, content_end))
        elements.append(
            Element(
                element.kind, start, end, element.raw_start, element.raw_end, element.url, element.tag, element.attrs
            )
        )
    return Inline(raw, text, _sorted(elements), tuple(offsets), HTML, tuple(ends))


def _plain_at(offsets: Sequence[int], raw_position: int) -> int:
    return bisect_left(offsets, raw_position)


def _text_offsets(raw: str, text: str) -> tuple[int, ...]:
    """Offsets for a fragment read as text: proportional, monotonic, inside `raw`."""
    if not text:
        return (len(raw),)
    return tuple(min(len(raw) - 1, i * len(raw) // len(text)) for i in range(len(text))) + (len(raw),)


def _read_tag(inner: str) -> tuple[str, tuple[tuple[str, str], ...], bool] | None:
    """`tag a="1" b="2"` or `/tag`, as `serialize` writes them; None for anything else."""
    closing = inner.startswith("/")
    body = inner[1:] if closing else inner
    name, _, rest = body.partition(" ")
    if not name.isalnum() or name.lower() != name:
        return None
    attrs: list[tuple[str, str]] = []
    rest = rest.strip()
    while rest:
        key, eq, tail = rest.partition('="')
        value, quote, rest = tail.partition('"')
        if not eq or not quote or not key or " " in key:
            return None
        attrs.append((key, html_escape.unescape(value)))
        rest = rest.strip()
    if closing and attrs:
        return None
    return name, tuple(attrs), closing


def render_html(text: str, placed: Sequence[tuple[Element, int, int]]) -> str:
    """`text` (escaped) with each element written back as its HTML tag over its [start, end)."""
    return _render(
        text,
        placed,
        lambda e: start_tag(e.tag or "span", e.attrs),
        lambda e: f"</{e.tag or 'span'}>",
        lambda s: html_escape.escape(s, quote=False),
    )


def _render(
    text: str,
    placed: Sequence[tuple[Element, int, int]],
    open_: object,
    close: object,
    escape: object,
) -> str:
    assert callable(open_) and callable(close) and callable(escape)
    order = sorted(range(len(placed)), key=lambda k: (placed[k][1], -placed[k][2], placed[k][0].kind == CODE, k))
    out: list[str] = []
    stack: list[int] = []
    cursor = 0
    for k in order:
        element, start, end = placed[k]
        while stack and placed[stack[-1]][2] <= start:
            top = stack.pop()
            out += [escape(text[cursor : placed[top][2]]), close(placed[top][0])]
            cursor = placed[top][2]
        out += [escape(text[cursor:start]), open_(element)]
        cursor = start
        stack.append(k)
    while stack:
        top = stack.pop()
        out += [escape(text[cursor : placed[top][2]]), close(placed[top][0])]
        cursor = placed[top][2]
    out.append(escape(text[cursor:]))
    return "".join(out)


def render(markup: str, text: str, placed: Sequence[tuple[Element, int, int]]) -> str:
    return render_html(text, placed) if markup == HTML else render_markdown(text, placed)


def parse_inline(raw: str, markup: str) -> Inline:
    if markup == MARKDOWN:
        return parse_markdown(raw)
    if markup == HTML:
        return parse_html_inline(raw)
    return plain_inline(raw)


# -- one sentence: what the model sees, and its markup put back ----------------------------------


@dataclass(frozen=True, slots=True)
class SentenceMarkup:
    """The elements of one sentence, in offsets of its plain text; `source` is what the model gets."""

    markup: str
    plain: str
    elements: tuple[Element, ...]
    source: str  # plain with every code span replaced by its placeholder
    codes: tuple[tuple[str, Element], ...] = field(default=())  # (placeholder, code element)


_PREFIXES = ("QZ", "ZQ", "QJ", "JQ", "KZ", "ZK")


def sentence_markup(inline: Inline, start: int, end: int) -> SentenceMarkup:
    """The elements inside plain[start:end], shifted to the sentence; code spans → placeholders."""
    plain = inline.plain[start:end]
    elements = tuple(
        Element(e.kind, e.start - start, e.end - start, e.raw_start, e.raw_end, e.url, e.tag, e.attrs, e.fence, e.pad)
        for e in inline.elements
        if start <= e.start and e.end <= end
    )
    codes = [e for e in elements if e.kind == CODE]
    outer_codes = [
        c
        for c in codes
        if not any(o is not c and o.kind == CODE and o.start <= c.start and c.end <= o.end for o in codes)
    ]
    lowered = plain.casefold()
    prefix = next((p for p in _PREFIXES if p.casefold() not in lowered), None)
    if prefix is None or not outer_codes:
        return SentenceMarkup(inline.markup, plain, elements, plain)
    pieces: list[str] = []
    slots: list[tuple[str, Element]] = []
    cursor = 0
    for number, code in enumerate(sorted(outer_codes, key=lambda c: c.start), start=1):
        placeholder = f"{prefix}{number}"
        pieces += [plain[cursor : code.start], placeholder]
        slots.append((placeholder, code))
        cursor = code.end
    pieces.append(plain[cursor:])
    return SentenceMarkup(inline.markup, plain, elements, "".join(pieces), tuple(slots))


def _placeholder_spans(text: str, placeholder: str) -> list[tuple[int, int]]:
    from models.glossary import placeholder_pattern

    return [m.span() for m in placeholder_pattern(placeholder).finditer(text)]


def restore_codes(english: str, markup: SentenceMarkup) -> tuple[str, dict[int, tuple[int, int]], bool]:
    """The English with each code placeholder replaced by its code; where each code landed.

    A placeholder the model lost is appended at the end; one it doubled keeps its first copy.
    Returns (text, {index of the code element: (start, end)}, all in place).
    """
    if not markup.codes:
        return english, {}, True
    spans: list[tuple[int, int, int]] = []  # (start, end, code number); end == start: removal only
    missing: list[int] = []
    for number, (placeholder, _code) in enumerate(markup.codes):
        found = _placeholder_spans(english, placeholder)
        if not found:
            missing.append(number)
            continue
        spans.append((found[0][0], found[0][1], number))
        spans += [(s, e, -1) for s, e in found[1:]]
    spans.sort()
    out: list[str] = []
    where: dict[int, tuple[int, int]] = {}
    cursor = length = 0
    for start, end, number in spans:
        if start < cursor:
            continue
        chunk = english[cursor:start]
        out.append(chunk)
        length += len(chunk)
        if number >= 0:
            code = markup.codes[number][1]
            value = markup.plain[code.start : code.end]
            where[number] = (length, length + len(value))
            out.append(value)
            length += len(value)
        cursor = end
    tail = english[cursor:]
    out.append(tail)
    length += len(tail)
    for number in missing:
        code = markup.codes[number][1]
        value = markup.plain[code.start : code.end]
        out.append(" ")
        where[number] = (length + 1, length + 1 + len(value))
        out.append(value)
        length += 1 + len(value)
    return "".join(out), where, not missing and len(spans) == len(markup.codes)


def words(text: str) -> list[tuple[int, int]]:
    """Runs of non-space characters, as (start, end): what alignments and placement count as words."""
    out: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        j = i
        while j < n and not text[j].isspace():
            j += 1
        out.append((i, j))
        i = j
    return out


def _valid(placed: Sequence[tuple[Element, int, int]], text: str) -> bool:
    """Non-empty, laminar (no two ranges cross), no link inside a link, nothing inside code."""
    order = sorted(placed, key=lambda p: (p[1], -p[2], p[0].kind == CODE))
    stack: list[tuple[Element, int, int]] = []
    for element, start, end in order:
        if not 0 <= start < end <= len(text) or not text[start:end].strip():
            return False
        while stack and stack[-1][2] <= start:
            stack.pop()
        if stack and end > stack[-1][2]:
            return False
        if element.kind in (LINK, IMAGE) and any(e.kind in (LINK, IMAGE) for e, _, _ in stack):
            return False
        if stack and stack[-1][0].kind == CODE:
            return False
        stack.append((element, start, end))
    return True


def _snap(text: str, words: list[tuple[int, int]], start: int, end: int) -> tuple[int, int]:
    """A target range widened to whole words and trimmed of surrounding spaces."""
    for word_start, word_end in words:
        if word_start <= start < word_end:
            start = word_start
        if word_start < end <= word_end:
            end = word_end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


_TRAILING = frozenset(".,;:!?)»”\"'")
_LEADING = frozenset("(«“\"'")


def place(
    markup: SentenceMarkup, english: str, code_spans: dict[int, tuple[int, int]], alignment: Alignment
) -> list[tuple[Element, int, int]] | None:
    """Each element's range in `english`, from the alignment; None if the result is not clean."""
    english_words = words(english)
    code_index = {id(code): number for number, (_p, code) in enumerate(markup.codes)}
    placed: list[tuple[Element, int, int]] = []
    for element in markup.elements:
        if element.kind == CODE:
            number = code_index.get(id(element))
            if number is None:  # a code span inside another: it travels inside its parent
                continue
            placed.append((element, *code_spans[number]))
            continue
        hits = [(ts, te) for ss, se, ts, te in alignment if ss < element.end and se > element.start and te > ts]
        for number, (_p, code) in enumerate(markup.codes):  # a code span inside: its parent must hold it
            if element.start <= code.start and code.end <= element.end:
                hits.append(code_spans[number])
        if not hits:
            return None
        start, end = _snap(english, english_words, min(s for s, _ in hits), max(e for _, e in hits))
        source_text = markup.plain[element.start : element.end]
        while end - start > 1 and english[end - 1] in _TRAILING and not source_text.endswith(english[end - 1]):
            end -= 1
        while end - start > 1 and english[start] in _LEADING and not source_text.startswith(english[start]):
            start += 1
        placed.append((element, start, end))
    return placed if _valid(placed, english) else None


def place_in_order(
    markup: SentenceMarkup, english: str, code_spans: dict[int, tuple[int, int]]
) -> tuple[str, list[tuple[Element, int, int]]]:
    """The safe placement: top-level elements share the English words in source order.

    Code spans stay where they landed; every other element wraps a consecutive run of words
    (the whole sentence when it is alone); its children wrap the same run. An element left
    without a word of its own (more links than words) is appended after the sentence with its
    source text. Always well formed, nothing dropped. Returns the (possibly longer) English.
    """
    code_index = {id(code): number for number, (_p, code) in enumerate(markup.codes)}
    codes = sorted(code_spans.values())
    code_starts = [c[0] for c in codes]
    units: list[tuple[int, int]] = []  # words; the words of one code span are one unit
    unit_code: list[int] = []
    for word_start, word_end in words(english):
        k = bisect_right(code_starts, word_end - 1) - 1
        code = k if k >= 0 and codes[k][1] > word_start else -1
        if code >= 0 and unit_code and unit_code[-1] == code:
            units[-1] = (units[-1][0], word_end)
            continue
        units.append((word_start, word_end))
        unit_code.append(code)
    top = [e for e in markup.elements if e.kind != CODE and not _has_parent(e, markup.elements)]
    placed: list[tuple[Element, int, int]] = [(code, *code_spans[n]) for n, (_p, code) in enumerate(markup.codes)]
    extra: list[Element] = []
    share = len(units) // len(top) if top else 0
    for k, element in enumerate(top):
        if share == 0:
            extra.append(element)
            continue
        first = k * share
        last = len(units) - 1 if k == len(top) - 1 else first + share - 1
        placed += _with_children(element, markup, code_index, units[first][0], units[last][1])
    text = english
    for element in extra:
        label = markup.plain[element.start : element.end].strip() or (element.url or "")
        label = label or "link"
        start = len(text) + (1 if text else 0)
        text = (text + " " if text else "") + label
        placed += _with_children(element, markup, code_index, start, len(text))
    if _valid(placed, text):
        return text, placed
    return text, _laminar(placed, text)


def _with_children(
    element: Element,
    markup: SentenceMarkup,
    code_index: dict[int, int],
    start: int,
    end: int,
) -> list[tuple[Element, int, int]]:
    out = [(element, start, end)]
    for child in markup.elements:
        if child is element or child.kind in (LINK, IMAGE, CODE):
            continue
        if element.start <= child.start and child.end <= element.end:
            out.append((child, start, end))
    return out


def _laminar(placed: list[tuple[Element, int, int]], english: str) -> list[tuple[Element, int, int]]:
    """Keep what nests; an element that cannot is widened to the whole sentence when that nests."""
    kept: list[tuple[Element, int, int]] = []
    english_words = words(english)
    for item in sorted(placed, key=lambda p: p[0].kind != CODE):
        if _valid(kept + [item], english):
            kept.append(item)
        elif english_words and _valid(kept + [(item[0], english_words[0][0], english_words[-1][1])], english):
            kept.append((item[0], english_words[0][0], english_words[-1][1]))
    return kept


def _has_parent(element: Element, elements: Sequence[Element]) -> bool:
    return any(
        other is not element and other.raw_start <= element.raw_start and element.raw_end <= other.raw_end
        for other in elements
    )
