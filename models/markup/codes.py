"""Code spans across translation: each becomes a placeholder the model copies, and comes back byte for byte.

`sentence_markup` cuts a block's `Inline` into one sentence's `SentenceMarkup`, whose `source`
(what the model gets) has every outer code span swapped for a placeholder (`QZ1`, `QZ2`..., as
`models.glossary` protects terms; another prefix when the sentence already holds `QZ`).
`restore_codes` puts each code back where the model put its placeholder: one the model lost is
appended at the end, one it doubled keeps its first copy. Links and emphasis are not handled
here: `models.markup.placement` puts them back by word alignment.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import replace

from models.interrupt import checkpoint
from models.markup.elements import CODE, Element, Inline, SentenceMarkup, contained

_PREFIXES = ("QZ", "ZQ", "QJ", "JQ", "KZ", "ZK")


def sentence_markup(inline: Inline, start: int, end: int, among: Sequence[Element] | None = None) -> SentenceMarkup:
    """The elements inside plain[start:end], shifted to the sentence; code spans → placeholders.

    `among` (in `inline.elements` order) narrows the elements looked at: `sentence_markups` passes
    each sentence the few that start inside it, so a block is not rescanned once per sentence."""
    plain = inline.plain[start:end]
    elements = tuple(
        replace(e, start=e.start - start, end=e.end - start)
        for e in (inline.elements if among is None else among)
        if start <= e.start and e.end <= end
    )
    codes = [e for e in elements if e.kind == CODE]
    inner = contained([(c.start, c.end) for c in codes])
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
