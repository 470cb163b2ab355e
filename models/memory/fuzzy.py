"""Fuzzy scoring: how much of a sentence a unit shares, as the percentage CAT tools show.

Candidates come from character trigrams (cheap, found by an index); each is re-scored by the edit
distance between the two token sequences (words and punctuation of the normalised texts):
`score = 100 × (1 − distance / longer length)`, rounded down, so 100 is only an identical sentence.
"""

from __future__ import annotations

from collections.abc import Sequence

from models.memory.normalise import tokens

DEFAULT_THRESHOLD = 75


def trigrams(normalised: str) -> set[str]:
    """The character trigrams of a normalised text, padded so a short word still has some."""
    padded = f"  {normalised} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def token_distance(a: Sequence[str], b: Sequence[str]) -> int:
    """Levenshtein distance between two token sequences (insert, delete, replace one token)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def score(normalised_a: str, normalised_b: str) -> int:
    """The fuzzy match percentage of two normalised texts (0 to 100)."""
    a, b = tokens(normalised_a), tokens(normalised_b)
    longer = max(len(a), len(b))
    if longer == 0:
        return 100 if normalised_a == normalised_b else 0
    return (100 * (longer - token_distance(a, b))) // longer


def could_reach(length_a: int, length_b: int, threshold: int) -> bool:
    """Whether two texts of these token counts can score `threshold`: the length gap alone costs edits."""
    longer = max(length_a, length_b)
    return longer == 0 or 100 * min(length_a, length_b) >= threshold * longer
