"""French sentence segmentation for the translator.

Base splitter: ``sentencex`` (Rust, ~1000x faster than pysbd 0.3.4 on a
200k-char paragraph, and lossless code-point offsets).  Both candidates were
evaluated; each fails on some French news text (sentencex splits after ``M.``,
``Dr.``, inside ``J.-C.`` and inside ``« … », a déclaré``; pysbd splits
``sept. | 2023``, ``av. J. | -C.``, ``p. | 12``, misses ``« Oui. » | Puis`` and
takes seconds on long text).  sentencex is the cheaper one to correct, so its
boundaries are taken as candidates, a few pattern-based candidates it misses
are added, and every non-paragraph candidate then goes through one veto
function (`_is_boundary`) that encodes our French rules.

Quotes and brackets are hidden from sentencex, which pairs them over any
distance (one unclosed « or ( and the rest of the paragraph became one
sentence).  Our own protection is local (`_protected_pairs`): only a pair
that closes within a sentence-sized span protects what it encloses.

Everything works on code-point offsets into the caller's ``str`` so that the
segmentation is lossless: only whitespace lies outside the returned spans.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from itertools import pairwise

import sentencex

__all__ = ["Span", "split_sentences"]


@dataclass(frozen=True, slots=True)
class Span:
    """Half-open ``[start, end)`` code-point range into the source text."""

    start: int  # inclusive
    end: int  # exclusive


# --------------------------------------------------------------------------
# Character classes
# --------------------------------------------------------------------------

_TERMINALS = frozenset(".!?…‼⁇⁈⁉")
# May follow the terminal mark and still belong to the sentence: « Oui. » Puis
_CLOSERS = frozenset("»”’›)]\"'")
# Inline spaces allowed between a terminal mark and a closing guillemet.
_THIN_SPACES = frozenset(" \u00a0\u202f\u2009\u200a")
# A real new sentence never starts with one of these (nor with a lowercase letter).
_NO_START = frozenset(",;:.!?)]}»”›%")
_OPENING_PUNCT = "([{«“‹\"'"
# Quotes and brackets that protect what they enclose (when they close nearby).
_PAIRS = {"«": "»", "“": "”", "‹": "›", "(": ")", "[": "]"}
# sentencex pairs quotes and brackets over any distance: one unclosed « or ( and it
# proposes no boundary until the paragraph ends.  It sees them as a neutral
# symbol instead, and `_protected_pairs` applies our local rule.
_HIDE_FROM_SENTENCEX = str.maketrans(dict.fromkeys('«»“”‹›"()[]{}', "_"))
_CLOSING = frozenset("»”›)]")

_PARA_BREAK = re.compile(r"\n\s*\n|\u2029")
_NONSPACE = re.compile(r"\S")
_SURROGATE = re.compile("[\ud800-\udfff]")
_PAIR_CHAR = re.compile('[«»“”‹›"()\\[\\]]')
_LEADING_LETTERS = re.compile(r"[^\W\d_]+")
# Terminal run (anchored at its first mark so a long run of dots stays
# linear), optional closing quotes/brackets (a guillemet may be preceded
# by a thin/no-break space), then whitespace: a potential boundary.
_CANDIDATE = re.compile(r"(?<![.!?…‼⁇⁈⁉])[.!?…‼⁇⁈⁉]+(?:[\"»”’›)\]]|[ \u00a0\u202f\u2009\u200a]{1,3}[»”›])*(?=\s)")
# A closing bracket with no mark before it: "… (109,5 km) Elle a …" may end a sentence.
_BARE_BRACKET = re.compile(r"(?<![.!?…‼⁇⁈⁉])\)(?=\s)")
# A space after a letter or digit is never a sentence boundary, so cutting
# the text for sentencex there loses nothing.
_MID_SENTENCE_GAP = re.compile(r"(?<=\w)\s")
# Hyphenated initials: "J.-F. Copé", "J.-P. Dupont".
_HYPHENATED_INITIALS = re.compile(r"(?:[^\W\d_]\.-)+[^\W\d_]")
_NUMBERISH = re.compile(r"\d|(?<![IVXLCDM])[IVXLCDM]+\b")  # from a run's start only: linear under search

# Abbreviations (lowercased, without the final period) after which a period
# never ends a sentence in news text.  Checked case-insensitively.  "M." is
# covered by the single-capital (initials) rule, so "8 m." (metres) can
# still end a sentence.
_ABBREV = frozenset(
    """
    mm mme mmes mlle mlles mgr dr drs pr prs st ste sts stes mr mrs
    ch ph th chr
    p pp av apr cf éd éds env bd boul fg cie sté éts gén gal lt cdt
    janv févr fév avr juil oct nov déc
    """.split()
)
# Real French words as well as abbreviations ("le vol.", "l'art.", "ils
# étaient sept."): only an abbreviation when a number follows ("vol. 3").
_ABBREV_BEFORE_NUMBER = frozenset("art vol no n° t chap fig sept".split())
# Entries of sentencex's French abbreviation list that are also ordinary
# words ("le temps est sec.", "le vol."): sentencex never splits after them,
# so we propose the boundary ourselves and let `_is_abbreviation` decide.
_WORDS_SENTENCEX_ABBREVIATES = frozenset("etc art vol sec sup dir".split())
# Protection is local: a quote or bracket protects what it encloses only if it
# closes within a sentence-sized span holding at most this many sentence ends.
# An unclosed « or ( then pairs with nothing nearby and protects nothing, and a
# stray » or ) is plain punctuation; neither can glue a paragraph together.
_MAX_PROTECTED_SPAN = 300
_MAX_PROTECTED_ENDS = 1
# Words that start sentences but are never a surname or a name's last part, so
# after "Dagobert I." or "Mac OS X." they mean the single capital ended a sentence
# (after "M." or "J." a name follows: "M. Dupont", "M. Le Pen", "Jack Ma").
_NOT_A_NAME = frozenset(
    """
    il ils elle elles on je nous vous c ce cet cette ces un une les sa ses leur leurs
    mais dans en pour après avant depuis selon cependant ainsi puis alors enfin
    """.split()
)
# After a bare closing bracket the next sentence may also start with an article.
_AFTER_BRACKET_STARTS = _NOT_A_NAME | {"le", "la", "l"}
# Largest piece of text handed to sentencex at once (see `_base_cuts`).
_BASE_CHUNK = 2000
# How far back to look for a word / closing punctuation: keeps every check
# O(1) even inside a 200k-char run without spaces.
_LOOKBACK = 40


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
        m = _NONSPACE.search(para, p)
        if m is not None:
            last_s = _past_closers(para, m.start())
            candidates.add(last_s)
    for m in _CANDIDATE.finditer(para):
        if base is None or _needs_own_candidate(para, m.start(), m.end()):
            s = _NONSPACE.search(para, m.end())
            if s is not None:
                candidates.add(s.start())
    for m in _BARE_BRACKET.finditer(para):
        s = _NONSPACE.search(para, m.end())
        if s is not None:
            candidates.add(s.start())
    ends = [s for s in sorted(candidates) if _is_boundary(para, s)]
    protected = _protected_pairs(para, ends)
    return [offset + s for s in ends if not _inside(protected, s)]


def _before_openers(para: str, p: int) -> int:
    """Move a sentencex cut back over the gap and opening quotes/brackets before it.

    sentencex sees quotes and brackets as a neutral symbol, so its cut may fall
    between an opening « and the word it quotes; the sentence starts at the «.
    """
    limit = max(0, p - _LOOKBACK)
    while p > limit and (para[p - 1].isspace() or _opens(para, p - 1)):
        if para[p - 1] == '"' and para[p].isspace():
            break  # 'pollution. " Ce sont': a spaced straight quote after a sentence closes it
        p -= 1
    return p


def _past_closers(para: str, s: int) -> int:
    """Move a sentencex cut forward over closing quotes/brackets: they end the previous sentence.

    sentencex sees them as a neutral symbol and may cut before one ("« Oui. » Puis",
    'pollution. " Ce sont'); the next sentence starts after it.
    """
    limit = min(len(para), s + _LOOKBACK)
    while s < limit and (para[s] in _CLOSING or _spaced_straight_quote(para, s)):
        m = _NONSPACE.search(para, s + 1, limit)
        if m is None:
            break
        s = m.start()
    return s


def _spaced_straight_quote(para: str, i: int) -> bool:
    """A ``"`` followed by whitespace (or the end): after a sentence it closes that sentence."""
    return para[i] == '"' and (i + 1 == len(para) or para[i + 1].isspace())


def _opens(para: str, i: int) -> bool:
    """Whether ``para[i]`` is an opening quote or bracket."""
    ch = para[i]
    if ch in _PAIRS:
        return True
    return ch == '"' and (i == 0 or para[i - 1].isspace() or para[i - 1] in _OPENING_PUNCT)


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
    while run_end < end and para[run_end] in _TERMINALS:
        run_end += 1
    run = para[start:run_end]
    if run != "." or run_end != end:
        return True
    word = _word_before(para, start)
    return word.lower() in _WORDS_SENTENCEX_ABBREVIATES or (len(word) == 1 and word.isupper())


def _is_boundary(para: str, s: int) -> bool:
    """Decide whether a sentence may start at ``s`` (first char after a gap), quotes aside."""
    if s <= 0 or s >= len(para):
        return False
    e = s
    while e > 0 and para[e - 1].isspace():
        e -= 1
    if e == s or e == 0:
        return False  # no whitespace gap, or nothing before it
    nxt = para[s]
    if nxt.islower() or nxt in _NO_START or _spaced_straight_quote(para, s):
        return False  # "etc. et", "Ch. de Gaulle", "« Quoi ? » demanda-t-il", 'bête ! " Les'
    j = _skip_closers(para, e)
    if j == 0:
        return False
    if para[j - 1] not in _TERMINALS:
        # "… (109,5 km) Elle a …"; otherwise a single line break / no sentence-final mark
        return para[e - 1] == ")" and _next_word(para, s) in _AFTER_BRACKET_STARTS
    k = j
    while k > max(0, j - _LOOKBACK) and para[k - 1] in _TERMINALS:
        k -= 1
    run = para[k:j]
    if run in ("...", "…") and k > 0 and para[k - 1] in "([" and j < len(para) and para[j] in ")]":
        return False  # "(...)" marks an omission, not an end
    return not (run == "." and _is_abbreviation(para, k, s))


def _next_word(para: str, s: int) -> str:
    """The letters starting at ``s``, lowercased ("C'est" → "c"); bounded look-ahead."""
    m = _LEADING_LETTERS.match(para, s, min(len(para), s + _LOOKBACK))
    return "" if m is None else m.group().lower()


def _skip_closers(para: str, e: int) -> int:
    """Index just after the terminal mark, skipping ``»``, ``)`` and thin spaces."""
    j = e
    limit = max(0, e - 8)
    while j > limit and (para[j - 1] in _CLOSERS or para[j - 1] in _THIN_SPACES):
        j -= 1
    return j


def _word_before(para: str, k: int) -> str:
    """The word ending at ``k`` without opening punctuation or elision (l', d')."""
    start = k
    limit = max(0, k - _LOOKBACK)
    while start > limit and not para[start - 1].isspace():
        start -= 1
    word = para[start:k].lstrip(_OPENING_PUNCT)
    for apostrophe in ("'", "’"):
        word = word.rpartition(apostrophe)[2]
    return word


def _is_abbreviation(para: str, k: int, s: int) -> bool:
    """Whether the word before the period at ``k`` is an abbreviation or initial.

    ``s`` is where the next sentence would start (for "vol. 3", "sept. 2023").
    """
    word = _word_before(para, k)
    low = word.lower()
    if low in _ABBREV:
        return True
    if len(word) == 1 and word.isupper():
        # initials: "J. K. Rowling", "M. Dupont"; but "Dagobert I. Ils …", "Mac OS X. Une …"
        return word == "M" or _next_word(para, s) not in _NOT_A_NAME
    if _HYPHENATED_INITIALS.fullmatch(word) and word[0].isupper():
        # "J.-F. Copé", but "52 av. J.-C." ends a sentence.
        before = k - len(word)
        while before > 0 and para[before - 1].isspace():
            before -= 1
        after_era = (
            before > 0 and para[before - 1] == "." and (_word_before(para, before - 1).lower() in ("av", "apr", "ap"))
        )
        return not (word == "J.-C" and after_era)
    return low in _ABBREV_BEFORE_NUMBER and _NUMBERISH.match(para, s) is not None


# --------------------------------------------------------------------------
# Quotes and brackets
# --------------------------------------------------------------------------


def _protected_pairs(para: str, ends: list[int]) -> tuple[list[int], list[int]]:
    """Outermost local quotes and brackets inside a larger sentence, as (opens, closes).

    No boundary may fall strictly inside them or right before their closing
    mark.  ``ends`` are the sorted sentence starts found without quotes in
    mind.  A pair protects only when it closes within ``_MAX_PROTECTED_SPAN``
    chars around at most ``_MAX_PROTECTED_ENDS`` of them; a quote or bracket
    that is a whole sentence on its own is not protected either.
    """
    local = [
        (o, c)
        for o, c in _pairs(para)
        if c - o <= _MAX_PROTECTED_SPAN
        and bisect.bisect_right(ends, c) - bisect.bisect_right(ends, o) <= _MAX_PROTECTED_ENDS
    ]
    opens: list[int] = []
    closes: list[int] = []
    last_close = -1
    for o, c in sorted(local):
        if o <= last_close:
            continue  # nested in an earlier outermost pair
        last_close = c
        if not _standalone(para, o, c):
            opens.append(o)
            closes.append(c)
    return opens, closes


def _pairs(para: str) -> list[tuple[int, int]]:
    """Matched (open, close) quote and bracket indices; unmatched marks are ignored.

    Straight ``"`` before a word after whitespace, start or opening
    punctuation opens; otherwise it closes an open ``"`` nearby or, spaced
    on both sides with none open, opens.  The search for a partner is
    bounded so mismatched input stays linear.
    """
    stack: list[tuple[str, int]] = []
    pairs: list[tuple[int, int]] = []
    for m in _PAIR_CHAR.finditer(para):
        i = m.start()
        ch = para[i]
        if ch in _PAIRS or (ch == '"' and _opens(para, i) and i + 1 < len(para) and not para[i + 1].isspace()):
            stack.append((_PAIRS.get(ch, ch), i))  # '"Le' always opens; a spaced '"' may close
            continue
        for depth in range(len(stack) - 1, max(-1, len(stack) - 9), -1):
            if stack[depth][0] == ch:
                pairs.append((stack[depth][1], i))
                del stack[depth:]
                break
        else:
            if ch == '"' and _opens(para, i):
                stack.append(('"', i))
    return pairs


def _standalone(para: str, o: int, c: int) -> bool:
    """A quote or bracket that starts a sentence and ends one (« Oui. » Puis …)."""
    before = o
    while before > 0 and para[before - 1].isspace():
        before -= 1
    if before > 0:
        j = _skip_closers(para, before)
        if j == 0 or para[j - 1] not in _TERMINALS:
            return False
    inner = c
    while inner > o and para[inner - 1].isspace():
        inner -= 1
    if para[inner - 1] not in _TERMINALS:
        return False
    m = _NONSPACE.search(para, c + 1)
    if m is None:
        return True
    nxt = para[m.start()]
    return not (nxt.islower() or nxt in _NO_START)


def _inside(protected: tuple[list[int], list[int]], s: int) -> bool:
    """Whether ``s`` lies in ``(open, close]`` of a protected pair."""
    opens, closes = protected
    i = bisect.bisect_left(opens, s) - 1
    return i >= 0 and s <= closes[i]
