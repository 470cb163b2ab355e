"""Cutting an English translation back over the pieces its French came from, in proportion."""

from __future__ import annotations

from collections.abc import Sequence


def split_proportionally(text: str, weights: Sequence[int]) -> list[str]:
    """`text` cut at word boundaries into `len(weights)` parts sized like `weights` (each part gets a word
    while there are words). Linear in `len(text)`."""
    words = text.split()
    count = len(weights)
    if count <= 1:
        return [" ".join(words)]
    total = sum(max(w, 1) for w in weights)
    size = sum(len(word) + 1 for word in words)
    cuts: list[int] = []  # word index where part i+1 starts
    done = 0
    position = 0  # characters of the words before `index`
    index = 0
    for part in range(count - 1):
        done += max(weights[part], 1)
        target = size * done / total
        lowest = (cuts[-1] if cuts else 0) + 1  # this part takes at least one word
        highest = len(words) - (count - 1 - part)  # leave one word for each later part
        while index < len(words) and (index < lowest or position + (len(words[index]) + 1) / 2 < target):
            if index >= highest:
                break
            position += len(words[index]) + 1
            index += 1
        cuts.append(max(min(index, highest), 0) if words else 0)
    bounds = [0, *cuts, len(words)]
    return [" ".join(words[bounds[i] : bounds[i + 1]]) for i in range(count)]
