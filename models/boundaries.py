"""Where a French sentence may end: our rules over candidate boundaries.

`models.segment` proposes candidate sentence starts (from sentencex and a few
patterns of its own); `is_boundary` vetoes those that French news text does not
end a sentence at (abbreviations, initials, a lowercase or punctuation start),
and `protected_pairs` / `inside` keep boundaries out of a quote or bracket that
closes nearby.  Everything is on code-point offsets into one paragraph, and
every look-around is bounded (`LOOKBACK`) so each check stays O(1).
"""

from __future__ import annotations

import bisect
import re

__all__ = [
    "CLOSING",
    "LOOKBACK",
    "NONSPACE",
    "TERMINALS",
    "inside",
    "is_boundary",
    "opens",
    "protected_pairs",
    "spaced_straight_quote",
    "word_before",
]

# --------------------------------------------------------------------------
# Character classes and word lists
# --------------------------------------------------------------------------

TERMINALS = frozenset(".!?…‼⁇⁈⁉")
# May follow the terminal mark and still belong to the sentence: « Oui. » Puis
_CLOSERS = frozenset("»”’›)]\"'")
# Inline spaces allowed between a terminal mark and a closing guillemet.
_THIN_SPACES = frozenset(" \u00a0\u202f\u2009\u200a")
# A real new sentence never starts with one of these (nor with a lowercase letter).
_NO_START = frozenset(",;:.!?)]}»”›%")
_OPENING_PUNCT = "([{«“‹\"'"
# Quotes and brackets that protect what they enclose (when they close nearby).
_PAIRS = {"«": "»", "“": "”", "‹": "›", "(": ")", "[": "]"}
CLOSING = frozenset("»”›)]")
NONSPACE = re.compile(r"\S")
_PAIR_CHAR = re.compile('[«»“”‹›"()\\[\\]]')
_LEADING_LETTERS = re.compile(r"[^\W\d_]+")
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
# How far back to look for a word / closing punctuation: keeps every check
# O(1) even inside a 200k-char run without spaces.
LOOKBACK = 40

# --------------------------------------------------------------------------
# The veto
# --------------------------------------------------------------------------


def is_boundary(para: str, s: int) -> bool:
    """Decide whether a sentence may start at ``s`` (first char after a gap), quotes aside."""
    if s <= 0 or s >= len(para):
        return False
    e = s
    while e > 0 and para[e - 1].isspace():
        e -= 1
    if e == s or e == 0:
        return False  # no whitespace gap, or nothing before it
    nxt = para[s]
    if nxt.islower() or nxt in _NO_START or spaced_straight_quote(para, s):
        return False  # "etc. et", "Ch. de Gaulle", "« Quoi ? » demanda-t-il", 'bête ! " Les'
    j = _skip_closers(para, e)
    if j == 0:
        return False
    if para[j - 1] not in TERMINALS:
        # "… (109,5 km) Elle a …"; otherwise a single line break / no sentence-final mark
        return para[e - 1] == ")" and _next_word(para, s) in _AFTER_BRACKET_STARTS
    k = j
    while k > max(0, j - LOOKBACK) and para[k - 1] in TERMINALS:
        k -= 1
    run = para[k:j]
    if run in ("...", "…") and k > 0 and para[k - 1] in "([" and j < len(para) and para[j] in ")]":
        return False  # "(...)" marks an omission, not an end
    return not (run == "." and _is_abbreviation(para, k, s))


def _next_word(para: str, s: int) -> str:
    """The letters starting at ``s``, lowercased ("C'est" → "c"); bounded look-ahead."""
    m = _LEADING_LETTERS.match(para, s, min(len(para), s + LOOKBACK))
    return "" if m is None else m.group().lower()


def _skip_closers(para: str, e: int) -> int:
    """Index just after the terminal mark, skipping ``»``, ``)`` and thin spaces."""
    j = e
    limit = max(0, e - 8)
    while j > limit and (para[j - 1] in _CLOSERS or para[j - 1] in _THIN_SPACES):
        j -= 1
    return j


def word_before(para: str, k: int) -> str:
    """The word ending at ``k`` without opening punctuation or elision (l', d')."""
    start = k
    limit = max(0, k - LOOKBACK)
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
    word = word_before(para, k)
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
            before > 0 and para[before - 1] == "." and (word_before(para, before - 1).lower() in ("av", "apr", "ap"))
        )
        return not (word == "J.-C" and after_era)
    return low in _ABBREV_BEFORE_NUMBER and _NUMBERISH.match(para, s) is not None


def opens(para: str, i: int) -> bool:
    """Whether ``para[i]`` is an opening quote or bracket."""
    ch = para[i]
    if ch in _PAIRS:
        return True
    return ch == '"' and (i == 0 or para[i - 1].isspace() or para[i - 1] in _OPENING_PUNCT)


def spaced_straight_quote(para: str, i: int) -> bool:
    """A ``"`` followed by whitespace (or the end): after a sentence it closes that sentence."""
    return para[i] == '"' and (i + 1 == len(para) or para[i + 1].isspace())


# --------------------------------------------------------------------------
# Quotes and brackets
# --------------------------------------------------------------------------


def protected_pairs(para: str, ends: list[int]) -> tuple[list[int], list[int]]:
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
        if ch in _PAIRS or (ch == '"' and opens(para, i) and i + 1 < len(para) and not para[i + 1].isspace()):
            stack.append((_PAIRS.get(ch, ch), i))  # '"Le' always opens; a spaced '"' may close
            continue
        for depth in range(len(stack) - 1, max(-1, len(stack) - 9), -1):
            if stack[depth][0] == ch:
                pairs.append((stack[depth][1], i))
                del stack[depth:]
                break
        else:
            if ch == '"' and opens(para, i):
                stack.append(('"', i))
    return pairs


def _standalone(para: str, o: int, c: int) -> bool:
    """A quote or bracket that starts a sentence and ends one (« Oui. » Puis …)."""
    before = o
    while before > 0 and para[before - 1].isspace():
        before -= 1
    if before > 0:
        j = _skip_closers(para, before)
        if j == 0 or para[j - 1] not in TERMINALS:
            return False
    inner = c
    while inner > o and para[inner - 1].isspace():
        inner -= 1
    if para[inner - 1] not in TERMINALS:
        return False
    m = NONSPACE.search(para, c + 1)
    if m is None:
        return True
    nxt = para[m.start()]
    return not (nxt.islower() or nxt in _NO_START)


def inside(protected: tuple[list[int], list[int]], s: int) -> bool:
    """Whether ``s`` lies in ``(open, close]`` of a protected pair."""
    opens, closes = protected
    i = bisect.bisect_left(opens, s) - 1
    return i >= 0 and s <= closes[i]
