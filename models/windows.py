"""Token windows: cut one over-long sentence into pieces that each fit the model.

A sentence longer than the model's input limit is never truncated: `split_windows` cuts its
span into consecutive sub-spans (code-point offsets into the caller's ``str``) with only
whitespace between them, preferring cuts after ``; : ,`` or a sentence mark, then at
whitespace, and only as a last resort inside a word.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Sequence

from models.segment import Span, strip_span

__all__ = ["split_windows"]

_NONSPACE = re.compile(r"\S")
_WORD = re.compile(r"\S+")
_SOFT_BREAKS = frozenset(";:,.!?…")


def split_windows(
    text: str,
    span: Span,
    count_tokens: Callable[[str], int],
    max_tokens: int,
) -> list[Span]:
    """Cut ``span`` into consecutive windows that each fit ``max_tokens``.

    Never truncates: windows are sub-spans of ``span`` with only whitespace
    between them (none when a word had to be cut).  Preferred cuts: after
    ``; : ,`` (or a sentence mark), then at whitespace, then anywhere.
    ``count_tokens`` is called O(windows × log n) times, on slices about the
    size of a window (galloping search), never once per character.
    Raises ValueError if ``span`` is out of range or a single character
    does not fit.
    """
    if not 0 <= span.start <= span.end <= len(text):
        raise ValueError(f"span {span} out of range for text of length {len(text)}")
    if count_tokens(text[span.start : span.end]) <= max_tokens:
        return [span]
    inner = strip_span(text, span.start, span.end)
    if inner is None:
        return []  # whitespace only: nothing to translate, still lossless
    end = inner.end
    word_ends = [m.end() for m in _WORD.finditer(text, inner.start, end)]
    soft_ends = [e for e in word_ends if text[e - 1] in _SOFT_BREAKS]
    windows: list[Span] = []
    pos = inner.start
    while pos < end:
        fits = _fitter(text, pos, count_tokens, max_tokens)
        cut = _next_cut(text, pos, word_ends, soft_ends, fits)
        windows.append(Span(pos, cut))
        nxt = _NONSPACE.search(text, cut, end)
        pos = end if nxt is None else nxt.start()
    return windows


def _fitter(text: str, pos: int, count_tokens: Callable[[str], int], max_tokens: int) -> Callable[[int], bool]:
    """Predicate: does ``text[pos:e]`` fit the window?"""
    return lambda e: count_tokens(text[pos:e]) <= max_tokens


def _next_cut(
    text: str,
    pos: int,
    word_ends: list[int],
    soft_ends: list[int],
    fits: Callable[[int], bool],
) -> int:
    """End of the window starting at ``pos``."""
    first = bisect.bisect_right(word_ends, pos)
    best = _last_fitting(word_ends, first, len(word_ends), fits)
    if best is None:
        return _cut_inside_word(text, pos, word_ends[first], fits)
    if best == word_ends[-1]:
        return best  # the rest of the span fits
    lo = bisect.bisect_right(soft_ends, pos)
    hi = bisect.bisect_right(soft_ends, best)
    if hi > lo:
        soft = soft_ends[hi - 1]
        # Only worth it if it does not shrink the window below half.
        if 2 * (soft - pos) >= best - pos and (soft == best or fits(soft)):
            return soft
    return best


def _cut_inside_word(text: str, pos: int, word_end: int, fits: Callable[[int], bool]) -> int:
    """Cut a run with no whitespace (or a word too long for the window)."""
    cut = _last_fitting(range(pos + 1, word_end), 0, word_end - pos - 1, fits)
    if cut is None:
        raise ValueError("max_tokens is too small for a single character")
    nudged = cut
    while nudged - 1 > pos and _is_joiner(text[nudged]):
        nudged -= 1  # keep combining marks / ZWJ sequences with their base
    if nudged != cut and fits(nudged):
        return nudged
    return cut


def _is_joiner(ch: str) -> bool:
    """Characters that should not start a window (they attach to the previous one)."""
    return (
        bool(unicodedata.combining(ch))
        or ch in "\u200d\ufe0e\ufe0f"
        or (unicodedata.category(ch) in ("Mn", "Me", "Mc"))
    )


def _last_fitting(cands: Sequence[int], lo: int, hi: int, fits: Callable[[int], bool]) -> int | None:
    """Largest ``cands[i]`` (lo <= i < hi) that fits, assuming monotonicity.

    Gallops forward from ``lo`` then bisects, so probes stay within about
    twice the window size: O(log window) calls on small slices instead of
    tokenizing half of a 200k-char span on the first probe.
    """
    if lo >= hi or not fits(cands[lo]):
        return None
    good, step = lo, 1
    bad = hi
    while good + step < hi:
        if fits(cands[good + step]):
            good += step
            step *= 2
        else:
            bad = good + step
            break
    while bad - good > 1:
        mid = (good + bad) // 2
        if fits(cands[mid]):
            good = mid
        else:
            bad = mid
    return cands[good]
