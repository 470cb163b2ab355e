"""The form a memory compares sentences in: Unicode NFC, one kind of quote, one space, no case.

`normalise("« Le  Chat » l’a vu")` and `normalise('"le chat" l\'a vu')` are the same string, so a
sentence typed with other quotes, other spaces (no-break, narrow no-break, tabs, a line break)
or other case still finds its unit. French spacing around `« »` and before `; : ! ?` is dropped
before comparing, so `Quoi ?` and `Quoi?` match too.
"""

from __future__ import annotations

import re
import unicodedata

_QUOTES = str.maketrans(
    {
        "«": '"',
        "»": '"',
        "“": '"',
        "”": '"',
        "„": '"',
        "‟": '"',
        "″": '"',
        "’": "'",
        "‘": "'",
        "‛": "'",
        "`": "'",
        "´": "'",
        "′": "'",
    }
)
_SPACE = re.compile(r"\s+")
# French typography puts a (no-break) space before these and inside guillemets; English does not.
_BEFORE = re.compile(r" (?=[;:!?%])")


def normalise(text: str) -> str:
    """`text` in the memory's comparison form (see the module's docstring); idempotent."""
    # Spaces are made one first, so the guillemets' inner spaces are single and dropped by plain
    # replacement: a pattern like `\s+»` is tried from every space of a long run (quadratic).
    text = _SPACE.sub(" ", unicodedata.normalize("NFC", text))
    text = text.replace("« ", "«").replace(" »", "»").translate(_QUOTES).strip()
    return _BEFORE.sub("", text).casefold()


_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def tokens(normalised: str) -> list[str]:
    """Words and single punctuation marks of a normalised text: what fuzzy scoring counts edits in."""
    return _WORD.findall(normalised)
