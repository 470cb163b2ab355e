"""Inline markup drawn as elements: a plain text cut into runs, each with the elements that open and close around it.

The one place the side-by-side view turns a sentence's links, emphasis and code into HTML elements,
for every page bitext writes (the page's "Download HTML", `POST /v1/export/html`, `bitext translate
--html`, every batch document page). A sentence's marks come from the document itself: the ones the
JSON carries (`fr_plain`/`fr_marks`, `en_plain`/`en_marks`), or, when a document lacks them (an
answer from an older server, a kept sentence, the text between sentences), read here from its
markdown or HTML with the same readers the translation uses (`models.markup`). Markup source text is
never shown, and never interpreted as HTML: only tags from a fixed list are drawn, every text is
escaped by the template.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from models.interrupt import checkpoint
from models.markup import Element, Inline, parse_inline


class MarkLike(Protocol):
    """A mark of the JSON (`MarkOut`) or an element read from markup (`models.markup.Element`)."""

    @property
    def kind(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def url(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Wrap:
    """One inline element around a run: a tag from a fixed list, and a link's http(s) URL."""

    tag: str
    href: str | None = None


@dataclass(frozen=True, slots=True)
class Run:
    """A run of a sentence's plain text: the elements that open just before it (outermost first), and
    those that close just after it (innermost first). Each element opens and closes once, so the
    drawn sentence is as long as its text plus its marks, however deeply they nest."""

    text: str
    opens: tuple[Wrap, ...] = ()
    closes: tuple[Wrap, ...] = ()


@dataclass(frozen=True, slots=True)
class _Mark:
    kind: str
    start: int
    end: int
    url: str | None = None


_WRAP_TAGS = {"strong": "strong", "em": "em", "code": "code"}
MAX_CARRIED = 16
"""How many elements begun before a range are drawn again in it (the outermost): deeper nests are not
something a reader sees, and redrawing them in every sentence would grow as sentences × depth."""


def is_web_url(url: str | None) -> bool:
    """Only http(s) URLs become links or images: never javascript:, data: or file: URLs from the input."""
    if not url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def _wrap(kind: str, url: str | None) -> Wrap:
    if kind == "link" and is_web_url(url):
        return Wrap("a", url)
    return Wrap(_WRAP_TAGS.get(kind, "span"))


def runs(plain: str, marks: Sequence[MarkLike] | None) -> tuple[Run, ...]:
    """`plain` cut where marks start and end, each mark an element around its text (offsets: code points).

    The rules of `static/bitext.js` (`richNodes`): marks outer first (by start, longer first), empty
    or out-of-range ones left out, one that would cross its parent's end drawn up to that end, so
    the elements always nest. One sweep over the sorted marks with a stack of the open ones: the
    output is linear in the text plus the marks (each opens and closes once), never a copy of every
    enclosing element per run."""
    valid = sorted((m for m in marks or () if 0 <= m.start < m.end <= len(plain)), key=lambda m: (m.start, -m.end))
    cuts = sorted({0, len(plain), *(m.start for m in valid), *(m.end for m in valid)})
    pieces: list[tuple[str, list[Wrap], list[Wrap]]] = []  # (text, opens, closes)
    stack: list[tuple[Wrap, int]] = []  # the open elements and where each closes
    following = 0  # the next mark to open
    for start, end in zip(cuts, cuts[1:], strict=False):
        checkpoint(len(pieces))
        while stack and stack[-1][1] <= start:
            pieces[-1][2].append(stack.pop()[0])
        opens: list[Wrap] = []
        while following < len(valid) and valid[following].start <= start:
            mark = valid[following]
            following += 1
            if mark.end <= start:
                continue
            close = min(mark.end, stack[-1][1]) if stack else mark.end
            wrap = _wrap(mark.kind, mark.url)
            opens.append(wrap)
            stack.append((wrap, close))
        pieces.append((plain[start:end], opens, []))
    while stack and pieces:
        pieces[-1][2].append(stack.pop()[0])
    return tuple(Run(text, tuple(opens), tuple(closes)) for text, opens, closes in pieces)


def parsed_runs(text: str, markup: str | None) -> tuple[Run, ...] | None:
    """`text` read as `markup` (markdown or HTML) and drawn; None for a plain-text block (its text is its text)."""
    if not markup:
        return None
    inline = parse_inline(text, markup)
    return runs(inline.plain, inline.elements)


class MarkedText:
    """A block's text read once as its markup; `runs(start, end)` draws any range of the raw text.

    So a sentence, or the gap between two, is drawn with the elements that reach into it, even an
    element that spans sentences. Ranges asked in order cost, all together, the text plus the
    elements (each element is looked at while it is open, never once per range)."""

    def __init__(self, raw: str, markup: str) -> None:
        self.inline: Inline = parse_inline(raw, markup)
        self._offsets = self.inline.offsets[:-1]  # where each plain character sits in the raw text
        self._next = 0  # the next element (by start) not yet open
        self._open: list[Element] = []
        self._first = 0  # the last range's start

    def _plain_at(self, raw_offset: int) -> int:
        return bisect_left(self._offsets, raw_offset)

    def runs(self, start: int, end: int) -> tuple[Run, ...]:
        """The raw range `[start, end)` as the plain text it shows, with the elements over it."""
        first, last = self._plain_at(start), self._plain_at(end)
        elements = self.inline.elements
        if first < self._first:  # asked out of order: sweep again from the start
            self._next, self._open = 0, []
        self._first = first
        while self._next < len(elements) and elements[self._next].start < last:
            self._open.append(elements[self._next])
            self._next += 1
        self._open = [e for e in self._open if e.end > first]
        # Elements from earlier ranges open again in this one: the outermost few only, so a deep nest around
        # many sentences costs each range a bounded number of elements, not the whole nest again.
        carried = [e for e in self._open if e.start < first][:MAX_CARRIED]
        inside = [e for e in self._open if e.start >= first]
        marks = [_Mark(e.kind, max(e.start, first) - first, min(e.end, last) - first, e.url) for e in carried + inside]
        return runs(self.inline.plain[first:last], marks)
