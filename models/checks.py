"""Per-sentence quality checks: the known ways opus-mt output goes wrong, as flag names.

Each check compares the French source with the English output and is cheap (regular
expressions, no model), so it runs on every sentence. The flags go into
`BilingualSentence.flags`; the repairs in `models.repair` act on them.

- `numbers_changed`: a figure, amount, percentage or date of the source is missing or altered
  (LibreTranslate #587, #578), French formats understood (see `models.numbers`).
- `repetition`: the output loops on a word or phrase (Opus-MT #89, CTranslate2 #1694), more
  than the source itself repeats.
- `untranslated`: the output is the French again, or mostly copies its words.
- `length_ratio`: the output is far shorter (a dropped clause, marian #389) or far longer than
  French→English text normally is.
"""

from __future__ import annotations

import re
import unicodedata

from models.flags import Flag
from models.numbers import missing_numbers

FLAG_NUMBERS_CHANGED = Flag.NUMBERS_CHANGED
FLAG_REPETITION = Flag.REPETITION
FLAG_UNTRANSLATED = Flag.UNTRANSLATED
FLAG_LENGTH_RATIO = Flag.LENGTH_RATIO

# English is about 0.9× the characters of its French source; these bounds are far outside that.
LENGTH_RATIO_BAND = (0.45, 2.0)
LENGTH_RATIO_MIN_CHARS = 25  # shorter sentences (titles, "Oui.") have ratios all over the place
_MAX_NGRAM = 8
_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def longest_run(words: list[str], n: int) -> int:
    """How many times in a row the most repeated `n`-word sequence of `words` occurs."""
    best = 1 if len(words) >= n else 0
    i = 0
    while i + n <= len(words):
        gram = words[i : i + n]
        run = 1
        while words[i + run * n : i + (run + 1) * n] == gram:
            run += 1
        best = max(best, run)
        i += max(1, (run - 1) * n)  # inside a run no later start can beat this one
    return best


def loop_score(fr: str, en: str) -> int:
    """How far the output's worst repetition exceeds what the source repeats (0: no loop).

    A single word must repeat 4 times in a row, a phrase 3 times, and more often than any
    word or phrase repeats in the French: « Non, non, non, non ! » may keep its four "no".
    """
    target, source = _words(en), _words(fr)
    source_run = max((longest_run(source, n) for n in range(1, _MAX_NGRAM + 1)), default=0)
    worst = 0
    for n in range(1, _MAX_NGRAM + 1):
        run = longest_run(target, n)
        if run >= (4 if n == 1 else 3) and run > source_run:
            worst = max(worst, (run - source_run) * n)
    return worst


def is_untranslated(fr: str, en: str) -> bool:
    """The output is the source again, or keeps at least 3/4 of its ordinary (lower-case) words.

    Names and figures are meant to be copied, so only lower-case words count, and a sentence
    with fewer than three of them (a name, a date line) is never flagged.
    """
    ordinary = [w for w in _WORD.findall(fr) if w[0].islower() and not w.isdigit() and len(w) > 1]
    if len(ordinary) < 2:
        return False
    if _folded(fr) == _folded(en):
        return True
    if len(ordinary) < 3:
        return False
    output = set(_words(en))
    copied = sum(word.casefold() in output for word in ordinary)
    return copied / len(ordinary) >= 0.75


def _folded(text: str) -> str:
    return " ".join(_words(unicodedata.normalize("NFC", text)))


def length_ratio_off(fr: str, en: str) -> bool:
    """English length over French length, in characters, far outside the usual band."""
    source = len(" ".join(fr.split()))
    if source < LENGTH_RATIO_MIN_CHARS:
        return False
    low, high = LENGTH_RATIO_BAND
    ratio = len(" ".join(en.split())) / source
    return not low <= ratio <= high


def check(fr: str, en: str) -> tuple[str, ...]:
    """The flags `en` earns as a translation of `fr`, in a fixed order."""
    flags: list[str] = []
    if missing_numbers(fr, en):
        flags.append(FLAG_NUMBERS_CHANGED)
    if loop_score(fr, en):
        flags.append(FLAG_REPETITION)
    if is_untranslated(fr, en):
        flags.append(FLAG_UNTRANSLATED)
    if length_ratio_off(fr, en):
        flags.append(FLAG_LENGTH_RATIO)
    return tuple(flags)
