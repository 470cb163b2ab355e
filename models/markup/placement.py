"""Placement: where each link and emphasis of a sentence goes in its English, by word alignment.

`place` puts each element on the English words aligned (`models.align`) to its French words, code
spans where the model put their placeholders (`models.markup.codes`). When alignment cannot place
an element cleanly (it would cross another, land on no word, or a link would end up inside a
link), the caller falls back to `place_in_order`, an order-preserving placement (each top-level
element gets its own consecutive share of the English words), and flags the sentence
`markup_unplaced`: markup is never dropped and the result is always well formed (`_laminar`
keeps what nests when even that does not).

Placement is n·log n in the sentence's length and its number of elements (sorted sweeps,
bisection and range-minimum tables; never a scan of every element or word per element), and
polls `models.interrupt.checkpoint` as it goes, so a request whose deadline passed or whose
client left stops here too.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from models.interrupt import checkpoint
from models.markup.elements import (
    CODE,
    IMAGE,
    LINK,
    Alignment,
    Element,
    Placed,
    SentenceMarkup,
    contained,
    outer_first,
    words,
)

# -- placement helpers: each answers a question about a range in O(log n) ---------------------------


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


# -- placing one sentence's elements -------------------------------------------------------------


def _valid(placed: Sequence[Placed], text: str, spans: _Words | None = None) -> bool:
    """Non-empty, laminar (no two ranges cross), no link inside a link, nothing inside code."""
    spans = spans or _Words(text)
    stack: list[tuple[int, bool, bool]] = []  # (end, is code, is link) of the elements still open
    links = 0
    for count, k in enumerate(outer_first(placed)):
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
) -> list[Placed] | None:
    """Each element's range in `english`, from the alignment; None if the result is not clean."""
    english_words = _Words(english)
    code_index = {id(code): number for number, (_p, code) in enumerate(markup.codes)}
    hits = _Hits(alignment, markup.codes, code_spans)
    trim = _Trim(english)
    plain = markup.plain
    placed: list[Placed] = []
    for count, element in enumerate(markup.elements):
        checkpoint(count)
        if element.kind == CODE:
            number = code_index.get(id(element))
            if number is None:  # a code span inside another: it travels inside its parent
                continue
            placed.append(Placed(element, *code_spans[number]))
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
        placed.append(Placed(element, start, end))
    return placed if _valid(placed, english, english_words) else None


def place_in_order(
    markup: SentenceMarkup, english: str, code_spans: dict[int, tuple[int, int]]
) -> tuple[str, list[Placed]]:
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
    nested = contained([(e.raw_start, e.raw_end) for e in elements])
    top = [k for k, e in enumerate(elements) if e.kind != CODE and not nested[k]]
    children = _children(elements, top)
    placed: list[Placed] = [Placed(code, *code_spans[n]) for n, (_p, code) in enumerate(markup.codes)]
    extra: list[int] = []
    share = len(units) // len(top) if top else 0
    for k, index in enumerate(top):
        checkpoint(k)
        if share == 0:
            extra.append(index)
            continue
        first = k * share
        last = len(units) - 1 if k == len(top) - 1 else first + share - 1
        placed += [Placed(elements[i], units[first][0], units[last][1]) for i in children[index]]
    parts, length = [english], len(english)
    for count, index in enumerate(extra):
        checkpoint(count)
        element = elements[index]
        label = markup.plain[element.start : element.end].strip() or (element.url or "") or "link"
        if length:
            parts.append(" ")
            length += 1
        parts.append(label)
        placed += [Placed(elements[i], length, length + len(label)) for i in children[index]]
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


def _laminar(placed: list[Placed], english: str) -> list[Placed]:
    """Keep what nests; an element that cannot is widened to the whole sentence when that nests.

    Code spans are settled first: one that holds no word or overlaps an earlier one loses its
    markup (its text stays). Then the other elements, outer first in reading order: each is kept
    where it is when it nests among those kept so far (never inside code, never a link in a link,
    never across a code span), else set aside; those set aside get the whole sentence when that
    nests with everything kept. One sort and one sweep, then a check of the result."""
    spans = _Words(english)
    text_range = (spans.spans[0][0], spans.spans[-1][1]) if spans.spans else None
    order = outer_first(placed)

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
    result = [Placed(placed[k][0], *kept[k]) for k in chosen]
    if _valid(result, english, spans):
        return result
    return [item for item in result if item[0].kind == CODE]  # disjoint code spans: always well formed
