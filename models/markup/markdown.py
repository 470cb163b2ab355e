"""The markdown reader and writer: links `[text](url)`, images `![alt](url)`, `**strong**`, `*em*` and
`` `code` `` in one paragraph.

A hand-written scanner, linear in the input (no backtracking regex): code spans first (a backtick
run closes at the next run of the same length), then links (brackets paired with a stack, the URL
in the parentheses right after), then emphasis paired within the top level or one link's text.
Anything it cannot read as markup is kept as literal text; a link whose URL `safe_url` refuses
(`javascript:`, `data:`, scheme-relative `//host`...) stays text.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import replace

from models.markup.elements import (
    CODE,
    EM,
    IMAGE,
    LINK,
    MARKDOWN,
    STRONG,
    Element,
    Inline,
    Placed,
    render_placed,
    sorted_elements,
)
from models.markup.urls import MAX_URL, safe_url

_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _build(raw: str, dropped: list[tuple[int, int]], elements_raw: list[Placed], markup: str) -> Inline:
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
        replace(e, start=keep_before[content_start], end=keep_before[content_end])
        for e, content_start, content_end in elements_raw
    ]
    return Inline(raw, "".join(pieces), sorted_elements(elements), tuple(offsets), markup)


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
    found: list[Placed] = []

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
        found.append(Placed(element, content_start, content_end))

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
        found.append(Placed(Element(IMAGE if image else LINK, 0, 0, start, url_end + 1, url=url), open_ + 1, close))
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
            found.append(Placed(Element(kind, 0, 0, opener, position + length), opener + length, position))
        elif not after.isspace():
            stack_same.append(position)
    return _build(raw, dropped, found, MARKDOWN)


def render_markdown(text: str, placed: Sequence[Placed]) -> str:
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

    return render_placed(text, placed, open_, close, lambda s: s)
