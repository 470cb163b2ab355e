"""French sentence segmentation for the translator.

Base splitter: ``sentencex`` (Rust, ~1000x faster than pysbd 0.3.4 on a
200k-char paragraph, and lossless code-point offsets).  Both candidates were
evaluated; each fails on some French news text (sentencex splits after ``M.``,
``Dr.``, inside ``J.-C.`` and inside ``« … », a déclaré``; pysbd splits
``sept. | 2023``, ``av. J. | -C.``, ``p. | 12``, misses ``« Oui. » | Puis`` and
takes seconds on long text).  sentencex is the cheaper one to correct, so its
boundaries are taken as candidates, a few pattern-based candidates it misses
are added, and every non-paragraph candidate then goes through one veto
function (`is_boundary` in `models.boundaries`) that encodes our French rules.

Quotes and brackets are hidden from sentencex, which pairs them over any
distance (one unclosed « or ( and the rest of the paragraph became one
sentence).  Our own protection is local (`protected_pairs`): only a pair
that closes within a sentence-sized span protects what it encloses
(`models.boundaries`).

Everything works on code-point offsets into the caller's ``str`` so that the
segmentation is lossless: only whitespace lies outside the returned spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

import sentencex

from models.boundaries import (
    CLOSING,
    LOOKBACK,
    NONSPACE,
    TERMINALS,
    inside,
    is_boundary,
    opens,
    protected_pairs,
    spaced_straight_quote,
    word_before,
)

__all__ = ["Span", "split_sentences"]


@dataclass(frozen=True, slots=True)
class Span:
    """Half-open ``[start, end)`` code-point range into the source text."""

    start: int  # inclusive
    end: int  # exclusive


# sentencex pairs quotes and brackets over any distance: one unclosed « or ( and it
# proposes no boundary until the paragraph ends.  It sees them as a neutral
# symbol instead, and `protected_pairs` applies our local rule.
_HIDE_FROM_SENTENCEX = str.maketrans(dict.fromkeys('«»“”‹›"()[]{}', "_"))
_PARA_BREAK = re.compile(r"\n\s*\n|\u2029")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Terminal run (anchored at its first mark so a long run of dots stays
# linear), optional closing quotes/brackets (a guillemet may be preceded
# by a thin/no-break space), then whitespace: a potential boundary.
_CANDIDATE = re.compile(r"(?<![.!?…‼⁇⁈⁉])[.!?…‼⁇⁈⁉]+(?:[\"»”’›)\]]|[ \u00a0\u202f\u2009\u200a]{1,3}[»”›])*(?=\s)")
# A closing bracket with no mark before it: "… (109,5 km) Elle a …" may end a sentence.
_BARE_BRACKET = re.compile(r"(?<![.!?…‼⁇⁈⁉])\)(?=\s)")
# A space after a letter or digit is never a sentence boundary, so cutting
# the text for sentencex there loses nothing.
_MID_SENTENCE_GAP = re.compile(r"(?<=\w)\s")
# Entries of sentencex's French abbreviation list that are also ordinary
# words ("le temps est sec.", "le vol."): sentencex never splits after them,
# so we propose the boundary ourselves and let `is_boundary` decide.
_WORDS_SENTENCEX_ABBREVIATES = frozenset("etc art vol sec sup dir".split())
# Largest piece of text handed to sentencex at once (see `_base_cuts`).
_BASE_CHUNK = 2000

# --------------------------------------------------------------------------
# split_sentences
# --------------------------------------------------------------------------


def split_sentences(text: str) -> list[Span]:
    """Split French ``text`` into sentence spans, losslessly.

    Spans are ordered, non-overlapping, non-empty and stripped; everything
    outside them is whitespace.  Never raises on any ``str``.
    """
    spans: list[Span] = []
    for a, b in _paragraphs(text):
        bounds = [a, *_sentence_starts(text[a:b], a), b]
        for x, y in pairwise(bounds):
            span = strip_span(text, x, y)
            if span is not None:
                spans.append(span)
    return spans


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """Chunks between blank lines.

    A blank line is always a boundary, and chunking also bounds the work of
    the base splitter and of the quote matcher to one paragraph at a time.
    """
    chunks: list[tuple[int, int]] = []
    start = 0
    for m in _PARA_BREAK.finditer(text):
        chunks.append((start, m.start()))
        start = m.end()
    chunks.append((start, len(text)))
    return [(a, b) for a, b in chunks if b > a]


def strip_span(text: str, start: int, end: int) -> Span | None:
    """``[start, end)`` without surrounding whitespace, or None if blank."""
    seg = text[start:end]
    body = seg.strip()
    if not body:
        return None
    lead = len(seg) - len(seg.lstrip())
    return Span(start + lead, start + lead + len(body))


def _sentence_starts(para: str, offset: int) -> list[int]:
    """Absolute offsets where a new sentence starts inside one paragraph."""
    base = _base_cuts(para)
    candidates: set[int] = set()
    last_s = -1
    for p in base or ():
        p = _before_openers(para, p)
        if p <= 0 or p >= len(para):
            continue
        if not (para[p - 1].isspace() or para[p].isspace()):
            continue  # cut inside a word ("av. J.|-C.", "Fin.|Début"): never
        if p < last_s:
            candidates.add(last_s)
            continue
        m = NONSPACE.search(para, p)
        if m is not None:
            last_s = _past_closers(para, m.start())
            candidates.add(last_s)
    for m in _CANDIDATE.finditer(para):
        if base is None or _needs_own_candidate(para, m.start(), m.end()):
            s = NONSPACE.search(para, m.end())
            if s is not None:
                candidates.add(s.start())
    for m in _BARE_BRACKET.finditer(para):
        s = NONSPACE.search(para, m.end())
        if s is not None:
            candidates.add(s.start())
    ends = [s for s in sorted(candidates) if is_boundary(para, s)]
    protected = protected_pairs(para, ends)
    return [offset + s for s in ends if not inside(protected, s)]


def _before_openers(para: str, p: int) -> int:
    """Move a sentencex cut back over the gap and opening quotes/brackets before it.

    sentencex sees quotes and brackets as a neutral symbol, so its cut may fall
    between an opening « and the word it quotes; the sentence starts at the «.
    """
    limit = max(0, p - LOOKBACK)
    while p > limit and (para[p - 1].isspace() or opens(para, p - 1)):
        if para[p - 1] == '"' and para[p].isspace():
            break  # 'pollution. " Ce sont': a spaced straight quote after a sentence closes it
        p -= 1
    return p


def _past_closers(para: str, s: int) -> int:
    """Move a sentencex cut forward over closing quotes/brackets: they end the previous sentence.

    sentencex sees them as a neutral symbol and may cut before one ("« Oui. » Puis",
    'pollution. " Ce sont'); the next sentence starts after it.
    """
    limit = min(len(para), s + LOOKBACK)
    while s < limit and (para[s] in CLOSING or spaced_straight_quote(para, s)):
        m = NONSPACE.search(para, s + 1, limit)
        if m is None:
            break
        s = m.start()
    return s


def _base_cuts(para: str) -> list[int] | None:
    """Boundary offsets proposed by sentencex, or None when it cannot be trusted.

    sentencex is quadratic on some inputs (200k chars of unclosed « take
    5 s), so it only ever sees chunks of at most ``_BASE_CHUNK`` chars.
    Chunks end at a word gap inside a sentence when possible; each chunk
    edge is itself proposed as a candidate so a boundary there is judged
    by our rules alone instead of being lost.
    """
    cuts: list[int] = []
    for a, b in _base_chunks(para):
        chunk_cuts = _sentencex_cuts(para[a:b])
        if chunk_cuts is None:
            return None
        cuts.extend(a + c for c in chunk_cuts)
        if b < len(para):
            cuts.append(b)
    return cuts


def _base_chunks(para: str) -> list[tuple[int, int]]:
    """Split ``para`` into pieces of at most ``_BASE_CHUNK`` chars for sentencex."""
    chunks: list[tuple[int, int]] = []
    a = 0
    while len(para) - a > _BASE_CHUNK:
        hi = a + _BASE_CHUNK
        b = hi
        for m in _MID_SENTENCE_GAP.finditer(para, a + _BASE_CHUNK // 2, hi):
            b = m.start() + 1
        chunks.append((a, b))
        a = b
    chunks.append((a, len(para)))
    return chunks


def _sentencex_cuts(chunk: str) -> list[int] | None:
    """sentencex boundaries inside ``chunk`` (excluding 0), or None on failure.

    Lone surrogates cannot be UTF-8 encoded for the Rust side, so they are
    replaced one-for-one (offsets unchanged).  Any failure, including a Rust
    panic (a BaseException), or offsets that do not map back onto the text
    makes the caller fall back to our own pattern candidates.
    """
    safe = _SURROGATE.sub("\ufffd", chunk).translate(_HIDE_FROM_SENTENCEX)
    try:
        bounds = sentencex.get_sentence_boundaries("fr", safe)
        cuts = []
        for bound in bounds:
            start, end = bound["start_index"], bound["end_index"]
            if safe[start:end] != bound["text"]:
                return None
            cuts.append(start)
        return cuts[1:]
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: BLE001 - pyo3 PanicException is a BaseException
        return None


def _needs_own_candidate(para: str, start: int, end: int) -> bool:
    """Whether a pattern candidate covers a case sentencex is known to miss.

    Plain ``word. Word`` is left to sentencex (its abbreviation list is
    larger than ours); we only add ellipses, ``?``/``!``, closing quotes or
    brackets after the mark, words like ``etc.`` or ``vol.`` and single
    capitals (``Dagobert I.``) that sentencex always treats as abbreviations.
    """
    run_end = start
    while run_end < end and para[run_end] in TERMINALS:
        run_end += 1
    run = para[start:run_end]
    if run != "." or run_end != end:
        return True
    word = word_before(para, start)
    return word.lower() in _WORDS_SENTENCEX_ABBREVIATES or (len(word) == 1 and word.isupper())
