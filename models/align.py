"""Word alignment between a French sentence and its English, in character offsets.

`Aligner` is an optional capability of an engine: `align(sources, targets)` gives, for every
target token, the source token it translates, as `(source start, source end, target start,
target end)` character offsets (`models.markup.Alignment`). `MarianEngine` aligns with the
model's own cross-attention (a teacher-forced pass over the chosen English: heads of one layer
averaged, argmax per target token), the way Bergamot carries tags through MarianMT. Engines
without attention (CTranslate2, fakes) get `MonotonicAligner`: target words mapped to source
words by relative position, which keeps order and is exact for word-for-word sentences only.

`attention_alignment` turns an attention matrix into offsets and is tested on a hand-made one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from models.markup import Alignment, Pair, words

Span = tuple[int, int]


@runtime_checkable
class Aligner(Protocol):
    def align(self, sources: Sequence[str], targets: Sequence[str]) -> list[Alignment]: ...


class MonotonicAligner:
    """Target word j ↔ source word at the same relative position: order-keeping, model-free."""

    def align(self, sources: Sequence[str], targets: Sequence[str]) -> list[Alignment]:
        return [monotonic(source, target) for source, target in zip(sources, targets, strict=True)]


def monotonic(source: str, target: str) -> Alignment:
    src, tgt = words(source), words(target)
    if not src or not tgt:
        return ()
    pairs: list[Pair] = []
    for j, (ts, te) in enumerate(tgt):
        i = min(len(src) - 1, int((j + 0.5) * len(src) / len(tgt)))
        pairs.append((src[i][0], src[i][1], ts, te))
    return tuple(pairs)


def piece_spans(text: str, pieces: Sequence[str]) -> list[Span]:
    """Character span of each sentencepiece piece in `text` (`▁` is a space; unknown pieces get
    an empty span at the cursor). Linear: each piece is looked for right after the previous."""
    spans: list[Span] = []
    cursor = 0
    for piece in pieces:
        surface = piece.replace("\u2581", " ").strip()
        while cursor < len(text) and text[cursor].isspace():
            cursor += 1
        if surface and text.startswith(surface, cursor):
            spans.append((cursor, cursor + len(surface)))
            cursor += len(surface)
        elif surface and cursor < len(text) and not surface.startswith("<"):
            # normalised by the tokenizer (a quote, a ligature): one character's worth, best effort
            end = min(len(text), cursor + max(1, len(surface)))
            while end > cursor + 1 and text[end - 1].isspace():
                end -= 1
            spans.append((cursor, end))
            cursor = end
        else:
            spans.append((cursor, cursor))
    return spans


def attention_alignment(
    attention: Sequence[Sequence[float]], source_spans: Sequence[Span], target_spans: Sequence[Span]
) -> Alignment:
    """`attention[t][s]`: how much target token t attends to source token s (rows may be longer
    than the spans: EOS and padding columns are ignored). Each target token with a non-empty span
    is aligned to its argmax source token with a non-empty span."""
    usable = [s for s, (a, b) in enumerate(source_spans) if b > a]
    if not usable:
        return ()
    pairs: list[Pair] = []
    for t, (ts, te) in enumerate(target_spans):
        if te <= ts or t >= len(attention):
            continue
        row = attention[t]
        best = max(usable, key=lambda s: row[s] if s < len(row) else float("-inf"))
        ss, se = source_spans[best]
        pairs.append((ss, se, ts, te))
    return tuple(pairs)
