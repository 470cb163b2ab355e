"""What the markup readers produce and placement consumes: elements, a block read as markup, one sentence.

A block's text is read (`models.markup.markdown`, `models.markup.html`) into an `Inline`: its
`plain` text (what a reader sees) and its `elements` (a link's URL, `**strong**`, `*em*`, a code
span), each an `Element` over a range of `plain`. A sentence's share of them is a
`SentenceMarkup`; once placed in the English, each element is a `Placed`: the element and its
[start, end) in the English. `render_placed` writes placed elements back around a text, in
whichever syntax the caller gives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from models.flags import Flag

FLAG_MARKUP_UNPLACED = Flag.MARKUP_UNPLACED

MARKDOWN = "markdown"
HTML = "html"

# Kinds of element: where the reader found them and how they are written back.
LINK, IMAGE, STRONG, EM, CODE, SPAN = "link", "image", "strong", "em", "code", "span"
HTML_KINDS = {"a": LINK, "b": STRONG, "strong": STRONG, "i": EM, "em": EM, "code": CODE, "span": SPAN}


# Alignment: for each target token, (source start, source end, target start, target end).
Pair = tuple[int, int, int, int]
Alignment = tuple[Pair, ...]


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


class Placed(NamedTuple):
    """An element over `text[start:end]`: where placement put it in the English (or, inside a
    reader, where the element's content lies in the raw text). A tuple: `element, start, end = p`."""

    element: Element
    start: int
    end: int


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


def sorted_elements(elements: list[Element]) -> tuple[Element, ...]:
    """Elements in source order, outer elements first: the order of `Inline.elements`."""
    return tuple(sorted(elements, key=lambda e: (e.raw_start, -e.raw_end)))


@dataclass(frozen=True, slots=True)
class SentenceMarkup:
    """The elements of one sentence, in offsets of its plain text; `source` is what the model gets."""

    markup: str
    plain: str
    elements: tuple[Element, ...]
    source: str  # plain with every code span replaced by its placeholder
    codes: tuple[tuple[str, Element], ...] = field(default=())  # (placeholder, code element)


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


def contained(ranges: Sequence[tuple[int, int]]) -> list[bool]:
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


def outer_first(placed: Sequence[Placed]) -> list[int]:
    """Indices of `placed` outer first: by start, longer first, a code inside an equal range, then list order."""
    return sorted(range(len(placed)), key=lambda k: (placed[k][1], -placed[k][2], placed[k][0].kind == CODE, k))


def render_placed(
    text: str,
    placed: Sequence[Placed],
    open_: Callable[[Element], str],
    close: Callable[[Element], str],
    escape: Callable[[str], str],
) -> str:
    """`text` (each gap through `escape`) with `open_(element)` and `close(element)` around each
    placed element's [start, end), outer first; the ranges nest (placement sees to it)."""
    out: list[str] = []
    stack: list[int] = []
    cursor = 0
    for k in outer_first(placed):
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
