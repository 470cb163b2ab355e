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
they cannot read as markup is kept as literal text. Placement is n·log n in the sentence's length
and its number of elements (sorted sweeps, bisection and range-minimum tables; never a scan of
every element or word per element), and polls `models.interrupt.checkpoint` as it goes, so a
request whose deadline passed or whose client left stops here too. Only `http(s)`, `mailto` and
relative URLs make links: `javascript:`, `data:`, other schemes and scheme-relative `//host` stay
text (markdown) or lose their `href` (HTML).
"""

from __future__ import annotations

import html as html_escape
import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

from models.interrupt import checkpoint

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
        # Past MAX_URL it is no link (`safe_url`): checked before slicing, or many `[a](` sharing one far
        # `)` would each copy the rest of the paragraph.
        if url_end >= n or url_end - url_start > MAX_URL:
            continue
        url = raw[url_start:url_end]
        if "(" in url:  # one level of parentheses, as in Wikipedia addresses
            url_end = next_close[url_end + 1] if url_end + 1 <= n else n
            if url_end >= n or url_end - url_start > MAX_URL:
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
    # Read by index: slicing off each attribute would copy the rest of the tag once per attribute.
    stop = len(rest.rstrip())
    at = len(rest) - len(rest.lstrip())
    while at < stop:
        eq = rest.find('="', at, stop)
        quote = rest.find('"', eq + 2, stop) if eq >= 0 else -1
        key = rest[at:eq]
        if quote < 0 or not key or " " in key:
            return None
        attrs.append((key, html_escape.unescape(rest[eq + 2 : quote])))
        at = quote + 1
        while at < stop and rest[at].isspace():
            at += 1
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


def sentence_markup(inline: Inline, start: int, end: int, among: Sequence[Element] | None = None) -> SentenceMarkup:
    """The elements inside plain[start:end], shifted to the sentence; code spans → placeholders.

    `among` (in `inline.elements` order) narrows the elements looked at: `sentence_markups` passes
    each sentence the few that start inside it, so a block is not rescanned once per sentence."""
    plain = inline.plain[start:end]
    elements = tuple(
        Element(e.kind, e.start - start, e.end - start, e.raw_start, e.raw_end, e.url, e.tag, e.attrs, e.fence, e.pad)
        for e in (inline.elements if among is None else among)
        if start <= e.start and e.end <= end
    )
    codes = [e for e in elements if e.kind == CODE]
    inner = _contained([(c.start, c.end) for c in codes])
    outer_codes = [c for c, nested in zip(codes, inner, strict=True) if not nested]
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


def sentence_markups(inline: Inline, ranges: Sequence[tuple[int, int]]) -> list[SentenceMarkup]:
    """`sentence_markup` for each of a block's sentences (plain ranges, in order): each sentence looks
    only at the elements that start inside it (bisection), so the block costs n·log n, not
    sentences × elements."""
    by_start = sorted(range(len(inline.elements)), key=lambda k: inline.elements[k].start)
    starts = [inline.elements[k].start for k in by_start]
    out: list[SentenceMarkup] = []
    for count, (start, end) in enumerate(ranges):
        checkpoint(count, 64)
        chosen = sorted(by_start[bisect_left(starts, start) : bisect_right(starts, end)])
        out.append(sentence_markup(inline, start, end, [inline.elements[k] for k in chosen]))
    return out


def _placeholder_spans(text: str, placeholder: str) -> list[tuple[int, int]]:
    from models.glossary import placeholder_pattern

    return [m.span() for m in placeholder_pattern(placeholder).finditer(text)]


def _all_placeholder_spans(text: str, markup: SentenceMarkup) -> list[list[tuple[int, int]]]:
    """Where the model put each code's placeholder (a list per code, in order), in one pass over `text`.

    One pattern for every number (`QZ` then any number), not one pass per code: a sentence of
    thousands of code spans is read once."""
    from models.glossary import numbered_placeholder_pattern

    found: list[list[tuple[int, int]]] = [[] for _ in markup.codes]
    prefix = markup.codes[0][0][:2]
    if any(placeholder != f"{prefix}{n}" for n, (placeholder, _) in enumerate(markup.codes, start=1)):
        return [_placeholder_spans(text, placeholder) for placeholder, _ in markup.codes]  # not numbered in order
    for match in numbered_placeholder_pattern(prefix).finditer(text):
        number = int(match.group("number"))
        if number <= len(found):
            found[number - 1].append(match.span())
    return found


def restore_codes(english: str, markup: SentenceMarkup) -> tuple[str, dict[int, tuple[int, int]], bool]:
    """The English with each code placeholder replaced by its code; where each code landed.

    A placeholder the model lost is appended at the end; one it doubled keeps its first copy.
    Returns (text, {index of the code element: (start, end)}, all in place).
    """
    if not markup.codes:
        return english, {}, True
    spans: list[tuple[int, int, int]] = []  # (start, end, code number); end == start: removal only
    missing: list[int] = []
    for number, found in enumerate(_all_placeholder_spans(english, markup)):
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


# -- placement helpers: each answers a question about a range in O(log n) ---------------------------


def _contained(ranges: Sequence[tuple[int, int]]) -> list[bool]:
    """For each (start, end), whether another range of the list holds it (starts no later, ends no
    earlier; an identical range counts): one sort and one sweep, not a scan of the list per range."""
    order = sorted(range(len(ranges)), key=lambda k: (ranges[k][0], -ranges[k][1]))
    out = [False] * len(ranges)
    furthest = -1  # the largest end of the ranges before this one in `order`: they start no later
    for position, k in enumerate(order):
        start, end = ranges[k]
        identical_next = position + 1 < len(order) and ranges[order[position + 1]] == (start, end)
        out[k] = furthest >= end or identical_next
        furthest = max(furthest, end)
    return out


class _RangeTable:
    """The minimum of `lows` and the maximum of `highs` over any index range [i, j), each in O(1)
    after an n·log n sparse-table set-up (C-speed `map`)."""

    def __init__(self, lows: list[int], highs: list[int]) -> None:
        self.lows, self.highs = [lows], [highs]
        span = 1
        while 2 * span <= len(lows):
            below_low, below_high = self.lows[-1], self.highs[-1]
            size = len(below_low) - span
            self.lows.append(list(map(min, below_low[:size], below_low[span:])))
            self.highs.append(list(map(max, below_high[:size], below_high[span:])))
            span *= 2

    def query(self, first: int, stop: int) -> tuple[int, int]:
        level = (stop - first).bit_length() - 1
        other = stop - (1 << level)
        lows, highs = self.lows[level], self.highs[level]
        return min(lows[first], lows[other]), max(highs[first], highs[other])


class _Hits:
    """Where a source range lands in the English: the smallest start and largest end of the target
    tokens aligned to a source token it overlaps, and of the code spans it holds.

    Source tokens are sorted once; an element's tokens are then one index range (bisection), and
    its target extent one `_RangeTable` query. Aligners give non-overlapping source tokens (words,
    sentencepiece pieces); were they to nest, a token's end counts as the largest end so far,
    which can only widen an element's range (and `_valid` still judges the result)."""

    def __init__(
        self, alignment: Alignment, codes: Sequence[tuple[str, Element]], code_spans: dict[int, tuple[int, int]]
    ) -> None:
        by_source: dict[tuple[int, int], tuple[int, int]] = {}
        for ss, se, ts, te in alignment:
            if te > ts:
                low, high = by_source.get((ss, se), (ts, te))
                by_source[(ss, se)] = (min(low, ts), max(high, te))
        tokens = sorted(by_source)
        self.token_starts = [ss for ss, _ in tokens]
        self.token_ends = _running_max([se for _, se in tokens])
        self.tokens = _RangeTable([by_source[t][0] for t in tokens], [by_source[t][1] for t in tokens])
        # Outer code spans are disjoint and numbered in source order.
        self.code_starts = [code.start for _, code in codes]
        self.code_ends = _running_max([code.end for _, code in codes])
        spans = [code_spans.get(number, (0, 0)) for number in range(len(codes))]
        self.codes = _RangeTable([s for s, _ in spans], [e for _, e in spans])

    def over(self, start: int, end: int) -> tuple[int, int] | None:
        """Tokens with source start < `end` and source end > `start`; codes inside [start, end]."""
        found: list[tuple[int, int]] = []
        first, stop = bisect_right(self.token_ends, start), bisect_left(self.token_starts, end)
        if first < stop:
            found.append(self.tokens.query(first, stop))
        first, stop = bisect_left(self.code_starts, start), bisect_right(self.code_ends, end)
        if first < stop:
            found.append(self.codes.query(first, stop))
        if not found:
            return None
        return min(low for low, _ in found), max(high for _, high in found)


def _running_max(values: list[int]) -> list[int]:
    out: list[int] = []
    best = -1
    for value in values:
        best = max(best, value)
        out.append(best)
    return out


class _Words:
    """A text's words (`words`) with their starts and ends, for bisection."""

    def __init__(self, text: str, spans: list[tuple[int, int]] | None = None) -> None:
        self.spans = words(text) if spans is None else spans
        self.starts = [s for s, _ in self.spans]
        self.ends = [e for _, e in self.spans]

    def holds_word(self, start: int, end: int) -> bool:
        """Whether text[start:end] has a non-space character (a word overlaps it)."""
        k = bisect_right(self.ends, start)
        return k < len(self.starts) and self.starts[k] < end

    def snap(self, start: int, end: int) -> tuple[int, int]:
        """A target range widened to whole words and trimmed of surrounding spaces."""
        starts, ends = self.starts, self.ends
        k = bisect_right(starts, start) - 1
        if k >= 0 and start < ends[k]:
            start = starts[k]
        k = bisect_left(starts, end) - 1
        if k >= 0 and end <= ends[k]:
            end = ends[k]
        if start < end:  # now at a word's start, or in spaces before the next word
            k = bisect_left(starts, start)
            start = min(starts[k], end) if k < len(starts) else end
        if end > start:  # now at a word's end, or in spaces after the previous word
            k = bisect_right(ends, end) - 1
            end = max(ends[k], start) if k >= 0 else start
        return start, end


_TRAILING = frozenset(".,;:!?)»”\"'")
_LEADING = frozenset("(«“\"'")


class _Trim:
    """Punctuation an element does not take: a run of `_TRAILING` before its end (or `_LEADING` after
    its start) that its source text does not end (start) with. Each (position, character) is
    worked out once, so nested elements ending on the same word do not walk the same run again."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.ends: dict[tuple[int, str], int] = {}
        self.starts: dict[tuple[int, str], int] = {}

    def end(self, end: int, keep: str) -> int:
        """The smallest e ≤ `end` with text[e:end] all trailing punctuation other than `keep`."""
        keep = keep if keep in _TRAILING else ""
        found = self.ends.get((end, keep))
        if found is None:
            found = end
            while found > 0 and self.text[found - 1] in _TRAILING and self.text[found - 1] != keep:
                found -= 1
            self.ends[(end, keep)] = found
        return found

    def start(self, start: int, keep: str) -> int:
        """The largest s ≥ `start` with text[start:s] all leading punctuation other than `keep`."""
        keep = keep if keep in _LEADING else ""
        found = self.starts.get((start, keep))
        if found is None:
            found = start
            while found < len(self.text) and self.text[found] in _LEADING and self.text[found] != keep:
                found += 1
            self.starts[(start, keep)] = found
        return found


def _order(placed: Sequence[tuple[Element, int, int]]) -> list[int]:
    """Indices of `placed` outer first: by start, longer first, a code inside an equal range, then list order."""
    return sorted(range(len(placed)), key=lambda k: (placed[k][1], -placed[k][2], placed[k][0].kind == CODE, k))


def _valid(placed: Sequence[tuple[Element, int, int]], text: str, spans: _Words | None = None) -> bool:
    """Non-empty, laminar (no two ranges cross), no link inside a link, nothing inside code."""
    spans = spans or _Words(text)
    stack: list[tuple[int, bool, bool]] = []  # (end, is code, is link) of the elements still open
    links = 0
    for count, k in enumerate(_order(placed)):
        checkpoint(count)
        element, start, end = placed[k]
        if not 0 <= start < end <= len(text) or not spans.holds_word(start, end):
            return False
        while stack and stack[-1][0] <= start:
            links -= stack.pop()[2]
        if stack and (end > stack[-1][0] or stack[-1][1]):
            return False
        link = element.kind in (LINK, IMAGE)
        if link and links:
            return False
        stack.append((end, element.kind == CODE, link))
        links += link
    return True


def place(
    markup: SentenceMarkup, english: str, code_spans: dict[int, tuple[int, int]], alignment: Alignment
) -> list[tuple[Element, int, int]] | None:
    """Each element's range in `english`, from the alignment; None if the result is not clean."""
    english_words = _Words(english)
    code_index = {id(code): number for number, (_p, code) in enumerate(markup.codes)}
    hits = _Hits(alignment, markup.codes, code_spans)
    trim = _Trim(english)
    plain = markup.plain
    placed: list[tuple[Element, int, int]] = []
    for count, element in enumerate(markup.elements):
        checkpoint(count)
        if element.kind == CODE:
            number = code_index.get(id(element))
            if number is None:  # a code span inside another: it travels inside its parent
                continue
            placed.append((element, *code_spans[number]))
            continue
        found = hits.over(element.start, element.end)  # a code span inside: its parent must hold it
        if found is None:
            return None
        start, end = english_words.snap(*found)
        has_text = element.end > element.start
        if end - start > 1:
            end = max(start + 1, trim.end(end, plain[element.end - 1] if has_text else ""))
        if end - start > 1:
            start = min(end - 1, trim.start(start, plain[element.start] if has_text else ""))
        placed.append((element, start, end))
    return placed if _valid(placed, english, english_words) else None


def place_in_order(
    markup: SentenceMarkup, english: str, code_spans: dict[int, tuple[int, int]]
) -> tuple[str, list[tuple[Element, int, int]]]:
    """The safe placement: top-level elements share the English words in source order.

    Code spans stay where they landed; every other element wraps a consecutive run of words
    (the whole sentence when it is alone); the elements inside it in the source wrap the same
    run. An element left without a word of its own (more links than words) is appended after the
    sentence with its source text. Always well formed, nothing dropped. Returns the (possibly
    longer) English.
    """
    codes = sorted(code_spans.values())
    code_starts = [c[0] for c in codes]
    units: list[tuple[int, int]] = []  # words; the words of one code span are one unit
    unit_code: list[int] = []
    for count, (word_start, word_end) in enumerate(words(english)):
        checkpoint(count)
        k = bisect_right(code_starts, word_end - 1) - 1
        code = k if k >= 0 and codes[k][1] > word_start else -1
        if code >= 0 and unit_code and unit_code[-1] == code:
            units[-1] = (units[-1][0], word_end)
            continue
        units.append((word_start, word_end))
        unit_code.append(code)
    elements = markup.elements
    nested = _contained([(e.raw_start, e.raw_end) for e in elements])
    top = [k for k, e in enumerate(elements) if e.kind != CODE and not nested[k]]
    children = _children(elements, top)
    placed: list[tuple[Element, int, int]] = [(code, *code_spans[n]) for n, (_p, code) in enumerate(markup.codes)]
    extra: list[int] = []
    share = len(units) // len(top) if top else 0
    for k, index in enumerate(top):
        checkpoint(k)
        if share == 0:
            extra.append(index)
            continue
        first = k * share
        last = len(units) - 1 if k == len(top) - 1 else first + share - 1
        placed += [(elements[i], units[first][0], units[last][1]) for i in children[index]]
    parts, length = [english], len(english)
    for count, index in enumerate(extra):
        checkpoint(count)
        element = elements[index]
        label = markup.plain[element.start : element.end].strip() or (element.url or "") or "link"
        if length:
            parts.append(" ")
            length += 1
        parts.append(label)
        placed += [(elements[i], length, length + len(label)) for i in children[index]]
        length += len(label)
    text = "".join(parts)
    if _valid(placed, text):
        return text, placed
    return text, _laminar(placed, text)


def _children(elements: Sequence[Element], top: Sequence[int]) -> dict[int, list[int]]:
    """Each top-level element (index) with the elements inside it in the source that travel with
    it (not links, images or code), itself first, all in `elements` order.

    Elements nest in the source, so what is inside a top-level element follows it in (raw start,
    longest first) order: one forward scan per top-level element, over its own descendants only."""
    order = sorted(range(len(elements)), key=lambda k: (elements[k].raw_start, -elements[k].raw_end, k))
    position = {k: p for p, k in enumerate(order)}
    out: dict[int, list[int]] = {}
    for index in top:
        parent = elements[index]
        inside = []
        p = position[index] + 1
        while p < len(order) and elements[order[p]].raw_start < parent.raw_end:
            child = elements[order[p]]
            if child.raw_end <= parent.raw_end and child.kind not in (LINK, IMAGE, CODE):
                inside.append(order[p])
            p += 1
        out[index] = [index, *sorted(inside)]
    return out


def _laminar(placed: list[tuple[Element, int, int]], english: str) -> list[tuple[Element, int, int]]:
    """Keep what nests; an element that cannot is widened to the whole sentence when that nests.

    Code spans are settled first: one that holds no word or overlaps an earlier one loses its
    markup (its text stays). Then the other elements, outer first in reading order: each is kept
    where it is when it nests among those kept so far (never inside code, never a link in a link,
    never across a code span), else set aside; those set aside get the whole sentence when that
    nests with everything kept. One sort and one sweep, then a check of the result."""
    spans = _Words(english)
    text_range = (spans.spans[0][0], spans.spans[-1][1]) if spans.spans else None
    order = _order(placed)

    def fits(start: int, end: int) -> bool:
        return 0 <= start < end <= len(english) and spans.holds_word(start, end)

    kept: dict[int, tuple[int, int]] = {}
    code_starts: list[int] = []
    code_ends: list[int] = []
    for count, k in enumerate(order):
        checkpoint(count)
        _, start, end = placed[k]
        if placed[k][0].kind == CODE and fits(start, end) and (not code_ends or start >= code_ends[-1]):
            kept[k] = (start, end)
            code_starts.append(start)
            code_ends.append(end)
    stack: list[tuple[int, bool, bool]] = []  # (end, is code, is link) of the kept elements still open
    links = 0
    aside: list[int] = []
    for count, k in enumerate(order):
        checkpoint(count)
        element, start, end = placed[k]
        code = element.kind == CODE
        if code and k not in kept:
            continue
        if not code and not fits(start, end):
            aside.append(k)
            continue
        while stack and stack[-1][0] <= start:
            links -= stack.pop()[2]
        link = element.kind in (LINK, IMAGE)
        if not code:
            nests = not stack or (end <= stack[-1][0] and not stack[-1][1])
            c = bisect_left(code_starts, end) - 1  # the last kept code starting before `end` must end by it
            crosses = c >= 0 and start < code_starts[c] and code_ends[c] > end
            if not nests or crosses or (link and links):
                aside.append(k)
                continue
            kept[k] = (start, end)
        stack.append((end, code, link))
        links += link
    if aside and text_range is not None:
        low, high = text_range
        ranges = list(kept.items())
        crossing = any(s < low < e < high or low < s < high < e for _, (s, e) in ranges)
        in_code = any(
            placed[k][0].kind == CODE and s <= low and high <= e and (s, e) != text_range for k, (s, e) in ranges
        )
        if not crossing and not in_code:
            link_kept = any(placed[k][0].kind in (LINK, IMAGE) for k in kept)
            for k in sorted(aside):
                if placed[k][0].kind in (LINK, IMAGE):
                    if link_kept:
                        continue
                    link_kept = True
                kept[k] = text_range
    chosen = sorted(kept, key=lambda k: (placed[k][0].kind != CODE, k))
    result = [(placed[k][0], *kept[k]) for k in chosen]
    if _valid(result, english, spans):
        return result
    return [item for item in result if item[0].kind == CODE]  # disjoint code spans: always well formed
