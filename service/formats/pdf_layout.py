"""A PDF's paragraphs rebuilt from the geometry of its text layer's lines, running headers and footers apart.

Rules, each from what a reader sees on the page:
- a new paragraph starts where the font size changes (by more than 15 %), where the text moves up
  the page (a new column or box), where a line is indented past the one above it, or where the
  gap to the line above is larger than the usual line spacing of that font size (its median drop
  between consecutive lines) by a fifth of the size: nine paragraphs set apart by a gap smaller
  than a line are nine paragraphs. Without a usual spacing (one line of a size), a gap of 1.5
  times the size.
- a line ending in a hyphen after a letter joins the next one without a space, and without the
  hyphen when the next line starts in lower case ("gouverne-" "ment"; "franco-" "Ontarien" keeps it);
- a paragraph that does not end a sentence continues on the next page when that page starts in
  lower case;
- a running header or footer is a line (of at most 150 characters, in a font no larger than the
  body's) found, digits aside ("Page 3"), at the same height (within 3 points) on at least half
  the pages with text (two at least), above or below all the other text of its pages (a section
  heading at the top of each page is larger than the body: not a header). It is kept apart and
  verbatim: a block of its own for each page, never joined to the text around it.
- columns from x positions: within a page, lines come in the order the PDF draws them, unless their
  starting x positions fall in two groups apart by a gutter (`GUTTER` points without a line
  starting in it) and the drawing goes back and forth between the groups (a page drawn row by
  row across its columns); the left column is then read top to bottom before the right one.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

LETTER = re.compile(r"[^\W\d_]")
ENDS_SENTENCE = re.compile(r"[.!?…:;»\"”)]$")
_DIGITS = re.compile(r"\d+")
RUNNING_MAX_CHARS = 150
RUNNING_TOLERANCE = 3.0  # points: how far a running header may move between pages
GUTTER = 72.0  # points between the starts of two columns' lines with no line starting between them


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
    running: bool = False  # a running header or footer: kept verbatim, apart from the text


@dataclass(slots=True)
class _Draft:
    """A paragraph being built: its text as parts (`extend`), joined once at the end."""

    parts: list[str]
    size: float
    page: int
    running: bool = False

    def done(self) -> Paragraph:
        return Paragraph(" ".join("".join(self.parts).split()), self.size, self.page, self.running)


def extend(parts: list[str], line: str) -> None:
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


def leadings(pages: list[list[Line]]) -> dict[int, float]:
    """The usual line spacing of each font size (rounded): the median drop between consecutive lines of
    that size, counting only drops of less than three times the size (not jumps between boxes)."""
    drops: dict[int, list[float]] = defaultdict(list)
    for lines in pages:
        for a, b in zip(lines, lines[1:], strict=False):
            drop = a.y - b.y
            if abs(a.size - b.size) < 0.5 and 0 < drop < 3 * a.size:
                drops[round(a.size)].append(drop)
    return {size: statistics.median(found) for size, found in drops.items()}


def _breaks(previous: Line, line: Line, spacing: float) -> bool:
    size = max(line.size, previous.size)
    drop = previous.y - line.y
    gap_limit = spacing + max(0.2 * size, 1.0) if spacing else 1.5 * size
    return (
        abs(line.size - previous.size) > 0.15 * size
        or drop < -0.3 * size
        or drop > gap_limit
        or line.x > previous.x + line.size
    )


def paragraphs(lines: list[Line], page: int, spacing: dict[int, float]) -> Iterator[_Draft]:
    """One page's (body) lines grouped into paragraphs by the rules in the module's docstring."""
    draft: _Draft | None = None
    previous: Line | None = None
    for line in lines:
        if previous is not None and draft is not None:
            usual = spacing.get(round(line.size), 0.0) if abs(line.size - previous.size) < 0.5 else 0.0
            if _breaks(previous, line, usual):
                if "".join(draft.parts).strip():
                    yield draft
                draft = None
        if draft is None:
            draft = _Draft([], line.size, page)
        extend(draft.parts, line.text)
        previous = line
    if draft is not None and draft.parts:
        yield draft


def in_columns(lines: list[Line]) -> list[Line]:
    """`lines` in reading order: left column then right where the PDF draws two columns row by row."""
    starts = sorted({round(line.x) for line in lines})
    gaps = [(b - a, b) for a, b in zip(starts, starts[1:], strict=False) if b - a >= GUTTER]
    if not gaps:
        return lines
    split = max(gaps)[1]
    sides = [line.x >= split - 0.5 for line in lines]
    switches = sum(1 for a, b in zip(sides, sides[1:], strict=False) if a != b)
    if switches <= 2:  # drawn column by column already (or a single line aside)
        return lines
    left = sorted((line for line, right in zip(lines, sides, strict=True) if not right), key=lambda line: -line.y)
    right = sorted((line for line, right in zip(lines, sides, strict=True) if right), key=lambda line: -line.y)
    return left + right


def _key(line: Line) -> str:
    return _DIGITS.sub("#", " ".join(line.text.split())).lower()


def running(pages: list[list[Line]]) -> list[set[int]]:
    """For each page, the indexes of its lines that are a running header or footer (the module's rules)."""
    texts = [n for n, lines in enumerate(pages) if any(LETTER.search(line.text) for line in lines)]
    found: list[set[int]] = [set() for _ in pages]
    if len(texts) < 2:
        return found
    body_size = _body_size(pages)
    places: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
    for number in texts:
        for index, line in enumerate(pages[number]):
            if len(line.text.strip()) <= RUNNING_MAX_CHARS and line.size <= body_size * 1.05:
                places[_key(line)].append((number, index, line.y))
    needed = max(2, math.ceil(len(texts) / 2))
    for where in places.values():
        heights = sorted(y for _, _, y in where)
        middle = heights[len(heights) // 2]
        near = [(n, i) for n, i, y in where if abs(y - middle) <= RUNNING_TOLERANCE]
        if len({n for n, _ in near}) >= needed:
            for number, index in near:
                found[number].add(index)
    for number, indexes in enumerate(found):  # only lines above or below all the page's other text
        lines = pages[number]
        body = [line.y for i, line in enumerate(lines) if i not in indexes]
        if not body:  # every line repeats: the page is text, not headers
            found[number] = set()
            continue
        top, bottom = max(body), min(body)
        found[number] = {i for i in indexes if lines[i].y > top or lines[i].y < bottom}
    return found


def _body_size(pages: list[list[Line]]) -> float:
    """The font size most of the text is in."""
    weights: dict[float, int] = defaultdict(int)
    for lines in pages:
        for line in lines:
            weights[round(line.size, 1)] += len(line.text)
    return max(weights, key=lambda size: weights[size]) if weights else 0.0


def continues(last: _Draft, first: _Draft) -> bool:
    end, start = last.parts[-1].rstrip()[-1:], first.parts[0].lstrip()[:1]
    return not ENDS_SENTENCE.search(end) and start.islower() and abs(last.size - first.size) < 0.5


def build(pages: list[list[Line]]) -> tuple[list[Paragraph], list[int]]:
    """The document's paragraphs in reading order (running headers and footers apart, each page's where it
    stands), and the pages (from 1) with no text."""
    spacing = leadings(pages)
    apart = running(pages)
    drafts: list[_Draft] = []
    last_body: _Draft | None = None
    blank: list[int] = []
    for number, lines in enumerate(pages, 1):
        if not any(LETTER.search(line.text) for line in lines):
            blank.append(number)
            continue
        marked = apart[number - 1]
        body = in_columns([line for i, line in enumerate(lines) if i not in marked])
        top = max((line.y for line in body), default=math.inf)
        headers = [line for i, line in enumerate(lines) if i in marked and line.y > top]
        footers = [line for i, line in enumerate(lines) if i in marked and line.y <= top]
        drafts += [_Draft([line.text.strip()], line.size, number, running=True) for line in headers]
        found = list(paragraphs(body, number, spacing))
        if found and last_body is not None and continues(last_body, found[0]):  # over the page break
            first, *rest = found.pop(0).parts
            extend(last_body.parts, first)
            last_body.parts += rest
        drafts += found
        if found:
            last_body = found[-1]
        drafts += [_Draft([line.text.strip()], line.size, number, running=True) for line in footers]
    return [draft.done() for draft in drafts], blank
