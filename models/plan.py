"""A `TranslationRequest` planned: every block segmented into sentences, markup taken out, long
sentences cut into token windows. The only place planning happens.

`plan(request, engine)` → `Plan`. `Plan.texts()` is what goes to the model (each distinct text
once, in reading order); `Plan.assemble(indices, results, aligner)` turns the model's checked
translations back into bilingual blocks (`models.assemble`), and `Plan.answer(...)` the whole
document. The server, the stream, the CLI, the batch runner and the Ray actors all plan through
here, so they send the same texts for the same document, and nothing plans a document twice.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from models.assemble import assemble
from models.document import BilingualDocument, Block, ModelInfo, Stats
from models.markup import Inline, SentenceMarkup, parse_inline, sentence_markups
from models.memory.lookup import Position, remember
from models.memory.units import Match
from models.repair import Checked
from models.request import TranslationRequest
from models.segment import Span, split_sentences
from models.sentences import (
    Aligning,
    Assembled,
    SentencePlan,
)
from models.windows import split_windows

# Room for `</s>` and sentencepiece's word-boundary pieces at a window's edge.
_WINDOW_MARGIN = 2


class DocumentTooLarge(ValueError):
    """More sentences than the caller allows; raised before any translation is spent."""

    def __init__(self, sentences: int, limit: int) -> None:
        super().__init__(f"the text has {sentences} sentences; the limit is {limit}")
        self.sentences, self.limit = sentences, limit


MAX_WORDLESS_RUN = 100


def is_language(text: str) -> bool:
    """Whether a sentence is worth translating: it has letters and is not one huge unbroken run."""
    if not any(ch.isalpha() for ch in text):
        return False
    return len(text) <= MAX_WORDLESS_RUN or any(ch.isspace() for ch in text)


def plan_block(block: Block, count_tokens: Callable[[str], int], window: int) -> list[SentencePlan]:
    """Segment one block; sentences without words (see `is_language`) are kept as they are.

    A block with inline markup (`block.markup`) is segmented on its plain text; a sentence never
    ends inside a link or emphasis, and the model gets the sentence without its markup.
    """
    plans: list[SentencePlan] = []
    limit = window - _WINDOW_MARGIN
    inline = parse_inline(block.text, block.markup) if block.markup and block.translate else None
    sentences: list[tuple[Span, SentenceMarkup | None]]
    if inline is not None:
        found = _markup_sentences(inline)
        markups = sentence_markups(inline, [plain for _, plain in found])
        sentences = [(raw, markup) for (raw, _), markup in zip(found, markups, strict=True)]
    else:
        sentences = [(span, None) for span in split_sentences(block.text)]
    for span, markup in sentences:
        text = block.text[span.start : span.end] if markup is None else markup.plain
        if not block.translate or not is_language(text):
            plans.append(SentencePlan(span, (span,), translate=False))
            continue
        source = text if markup is None else markup.source
        whole = Span(0, len(source))
        # A sentencepiece token covers at least one character, so short text always fits.
        fits = len(source) + 1 <= limit or count_tokens(source) <= limit
        pieces = (whole,) if fits else tuple(split_windows(source, whole, count_tokens, limit))
        plans.append(SentencePlan(span, pieces, translate=True, source=source, markup=markup))
    return plans


def _markup_sentences(inline: Inline) -> list[tuple[Span, tuple[int, int]]]:
    """Sentences of the plain text, merged where an element spans a boundary, each with its raw span."""
    spans = [(s.start, s.end) for s in split_sentences(inline.plain)]
    if not spans:
        return []
    starts = [a for a, _ in spans]
    top = inline.elements
    # Merge sentences an element crosses: sentence k joins k - 1 when an element runs over their
    # boundary. Counted with a difference array, so an element over many sentences (or many nested
    # elements over one long stretch) costs O(1) each, not one step per sentence crossed.
    crossings = [0] * (len(spans) + 1)
    for element in top:
        first = max(0, bisect_right(starts, element.start) - 1)
        last = max(0, bisect_right(starts, max(element.start, element.end - 1)) - 1)
        if last > first:
            crossings[first + 1] += 1
            crossings[last + 1] -= 1
    ranges: list[tuple[int, int]] = []
    open_crossings = 0
    for k, (a, b) in enumerate(spans):
        open_crossings += crossings[k]
        if k and open_crossings > 0:
            ranges[-1] = (ranges[-1][0], b)
        else:
            ranges.append((a, b))
    range_starts = [a for a, _ in ranges]
    raw_start = [inline.offsets[a] for a, _ in ranges]
    raw_end = [inline.raw_end(b - 1) for _, b in ranges]
    widened = [list(r) for r in ranges]
    for element in top:
        k = max(0, bisect_right(range_starts, element.start) - 1)
        widened[k][0] = min(widened[k][0], element.start)
        widened[k][1] = max(widened[k][1], element.end)
        raw_start[k] = min(raw_start[k], element.raw_start)
        raw_end[k] = max(raw_end[k], element.raw_end)
    out: list[tuple[Span, tuple[int, int]]] = []
    previous = 0
    for k, (a, b) in enumerate(widened):
        start = max(raw_start[k], previous)
        end = max(raw_end[k], start)
        out.append((Span(start, end), (a, b)))
        previous = end
    return out


class Tokenizing(Protocol):
    """What planning needs of an engine: its token counts and its window."""

    @property
    def max_input_tokens(self) -> int: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


@dataclass(frozen=True)
class Plan:
    """Every block's sentence plans for one request; made by `plan`, used as is by every path."""

    request: TranslationRequest
    blocks: tuple[tuple[SentencePlan, ...], ...]
    started: float = field(default_factory=time.perf_counter)
    # The translation memory's matches (`models.memory.remember`); those that answer leave `texts()`.
    memory: Mapping[Position, Match] = field(default_factory=dict)

    def remembered(self, block: int, sentence: int) -> bool:
        """Whether the memory answers this sentence (so the model is not asked for it)."""
        match = self.memory.get((block, sentence))
        return match is not None and match.answers(self.request.memory.mode)

    @property
    def sentences(self) -> int:
        return sum(len(block) for block in self.blocks)

    def texts(self, indices: Sequence[int] | None = None) -> list[str]:
        """The texts the model is asked for (blocks `indices`, or all), each once, in reading order."""
        distinct: dict[str, None] = {}
        for index in range(len(self.blocks)) if indices is None else indices:
            for number, sentence in enumerate(self.blocks[index]):
                if sentence.translate and not self.remembered(index, number):
                    for piece in sentence.pieces:
                        distinct.setdefault(sentence.source[piece.start : piece.end])
        return list(distinct)

    def translated(self, index: int) -> bool:
        """Whether block `index` will have English of its own (else its English is its French)."""
        return self.request.document.blocks[index].translate and any(s.translate for s in self.blocks[index])

    def groups(self, max_groups: int = 16) -> list[range]:
        """Consecutive blocks grouped for streaming (`group_blocks`); sentences the memory answers count as none."""
        counts = [
            sum(s.translate and not self.remembered(b, n) for n, s in enumerate(block))
            for b, block in enumerate(self.blocks)
        ]
        return group_blocks(counts, max_groups)

    def assemble(self, indices: Sequence[int], results: Mapping[str, Checked], aligner: Aligning) -> Assembled:
        """Blocks `indices` in English from their sentences' checked translations, markup put back."""
        return assemble(self.request, self.blocks, indices, results, aligner, self.memory)

    def answer(self, assembled: Assembled, model: ModelInfo) -> BilingualDocument:
        """The bilingual document from every block's assembly."""
        stats = Stats(
            len(assembled.blocks),
            assembled.sentences,
            assembled.source_tokens,
            assembled.output_tokens,
            round(time.perf_counter() - self.started, 4),
        )
        document = self.request.document
        return BilingualDocument(
            "fr", "en", model, document.format, assembled.blocks, stats, tuple(self.request.warnings)
        )


def plan(request: TranslationRequest, engine: Tokenizing) -> Plan:
    """Every block's sentence plans; too many sentences raises `DocumentTooLarge` before any model time."""
    count = lambda text: engine.count_tokens([text])[0]  # noqa: E731 - a one-line adapter
    blocks = tuple(tuple(plan_block(block, count, engine.max_input_tokens)) for block in request.document.blocks)
    planned = sum(len(block) for block in blocks)
    limit = request.max_sentences
    if limit is not None and planned > limit:
        raise DocumentTooLarge(planned, limit)
    return Plan(request, blocks, memory=remember(request.memory, blocks))


def group_blocks(counts: Sequence[int], max_groups: int = 16) -> list[range]:
    """Consecutive blocks grouped for streaming: small groups first, doubling, at most `max_groups`.

    `counts[i]` is block i's number of sentences to translate; a group closes once it holds its
    target (1, 2, 4, … sentences), so the first paragraph comes back soon and later groups are big
    enough to batch well. Blocks with nothing to translate ride with the group after them.
    """
    groups: list[range] = []
    start, held, target = 0, 0, 1
    for index, count in enumerate(counts):
        held += count
        if held >= target and len(groups) < max_groups - 1:
            groups.append(range(start, index + 1))
            start, held, target = index + 1, 0, target * 2
    if start < len(counts):
        groups.append(range(start, len(counts)))
    return groups
