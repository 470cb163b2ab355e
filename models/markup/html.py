"""The HTML reader and writer for inline fragments: `a`, `b`, `strong`, `i`, `em`, `code`, `span`.

`parse_html_inline` reads a fragment as `models.parse` and `models.html_text` write it (tags as
`start_tag` writes them, attributes double-quoted): a hand-written scanner, linear in the input,
that keeps each element's tag and attributes. A tag it does not know, or tags that do not
balance, and the whole fragment is read as plain text.
`html_attrs` drops event handlers and an `href`/`src` that `safe_url` refuses (`javascript:`,
`data:`, scheme-relative `//host`...): the link keeps its text, not its target.
"""

from __future__ import annotations

import html as html_escape
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import replace

from models.markup.elements import HTML, HTML_KINDS, Element, Inline, Placed, render_placed, sorted_elements
from models.markup.urls import safe_url


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
    found: list[Placed] = []
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
                url = dict(open_attrs).get("href") if name == "a" else None
                element = Element(HTML_KINDS[name], 0, 0, raw_start, end + 1, url=url, tag=name, attrs=open_attrs)
                found.append(Placed(element, content_start, i))
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
        elements.append(replace(element, start=start, end=end))
    return Inline(raw, text, sorted_elements(elements), tuple(offsets), HTML, tuple(ends))


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


def render_html(text: str, placed: Sequence[Placed]) -> str:
    """`text` (escaped) with each element written back as its HTML tag over its [start, end)."""
    return render_placed(
        text,
        placed,
        lambda e: start_tag(e.tag or "span", e.attrs),
        lambda e: f"</{e.tag or 'span'}>",
        lambda s: html_escape.escape(s, quote=False),
    )
