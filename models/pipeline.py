"""`Document` → `BilingualDocument`: segment, translate every distinct sentence once, reassemble.

The English of a block is its sentences' translations joined with the source's own
inter-sentence whitespace, so paragraph layout and line breaks survive translation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from models.document import (
    BilingualBlock,
    BilingualDocument,
    BilingualSentence,
    Block,
    Document,
    Stats,
)
from models.engine import Engine, GenerationOptions
from models.repair import Checked, Fidelity, translate_checked
from models.segment import Span, split_sentences
from models.windows import split_windows

FLAG_SPLIT_WINDOW = "split_window"
FLAG_KEPT_VERBATIM = "kept_verbatim"

# Room for `</s>` and sentencepiece's word-boundary pieces at a window's edge.
_WINDOW_MARGIN = 2


class DocumentTooLarge(ValueError):
    """More sentences than the caller allows; raised before any translation is spent."""

    def __init__(self, sentences: int, limit: int) -> None:
        super().__init__(f"the text has {sentences} sentences; the limit is {limit}")
        self.sentences, self.limit = sentences, limit


@dataclass(frozen=True, slots=True)
class SentencePlan:
    """One source sentence of a block: where it is, and the pieces the model will see."""

    span: Span
    pieces: tuple[Span, ...]  # one piece unless the sentence is longer than the model window
    translate: bool

    @property
    def split(self) -> bool:
        return len(self.pieces) > 1


# No French word is this long: a run like this is a URL, a hash, base64 or junk, and sending it
# through the model costs minutes of windows for noise (a 200,000-character run is ~400 windows).
MAX_WORDLESS_RUN = 100


def is_language(text: str) -> bool:
    """Whether a sentence is worth translating: it has letters and is not one huge unbroken run."""
    if not any(ch.isalpha() for ch in text):
        return False
    return len(text) <= MAX_WORDLESS_RUN or any(ch.isspace() for ch in text)


def plan_block(block: Block, count_tokens: Callable[[str], int], window: int) -> list[SentencePlan]:
    """Segment one block; sentences without words (see `is_language`) are kept as they are."""
    plans: list[SentencePlan] = []
    limit = window - _WINDOW_MARGIN
    for span in split_sentences(block.text):
        text = block.text[span.start : span.end]
        if not block.translate or not is_language(text):
            plans.append(SentencePlan(span, (span,), translate=False))
            continue
        # A sentencepiece token covers at least one character, so short text always fits.
        fits = len(text) + 1 <= limit or count_tokens(text) <= limit
        pieces = (span,) if fits else tuple(split_windows(block.text, span, count_tokens, limit))
        plans.append(SentencePlan(span, pieces, translate=True))
    return plans


def _join(text: str, pieces: Sequence[Span], translations: Sequence[str]) -> str:
    """Translations of consecutive pieces of `text`, joined by the source's own gaps."""
    out = [translations[0]]
    for previous, piece, english in zip(pieces, pieces[1:], translations[1:], strict=False):
        out += [text[previous.end : piece.start], english]
    return "".join(out)


def translate_document(
    document: Document,
    engine: Engine,
    options: GenerationOptions = GenerationOptions(),
    warnings: Sequence[str] = (),
    max_sentences: int | None = None,
    fidelity: Fidelity = Fidelity(),
) -> BilingualDocument:
    """Translate `document` with `engine`: a model, or the service's scheduler lane (the same interface).

    Every translated sentence is checked (`models.checks`); `fidelity` adds repairs and
    protected terms (`models.repair`).
    """
    started = time.perf_counter()
    run = engine.translate
    count = lambda text: engine.count_tokens([text])[0]  # noqa: E731 - a one-line adapter
    plans = [plan_block(block, count, engine.max_input_tokens) for block in document.blocks]
    planned = sum(len(block_plans) for block_plans in plans)
    if max_sentences is not None and planned > max_sentences:
        raise DocumentTooLarge(planned, max_sentences)

    distinct: dict[str, int] = {}
    for block, block_plans in zip(document.blocks, plans, strict=True):
        for plan in block_plans:
            if plan.translate:
                for piece in plan.pieces:
                    distinct.setdefault(block.text[piece.start : piece.end], len(distinct))
    limit = engine.max_input_tokens - _WINDOW_MARGIN
    fits = lambda text: count(text) <= limit  # noqa: E731
    results: list[Checked] = translate_checked(list(distinct), run, options, fidelity, fits) if distinct else []
    if len(results) != len(distinct):
        raise RuntimeError(f"the engine returned {len(results)} translations for {len(distinct)} sentences")

    blocks: list[BilingualBlock] = []
    source_tokens = output_tokens = sentence_count = 0
    for index, (block, block_plans) in enumerate(zip(document.blocks, plans, strict=True)):
        sentences: list[BilingualSentence] = []
        for number, plan in enumerate(block_plans):
            fr = block.text[plan.span.start : plan.span.end]
            if plan.translate:
                outputs = [results[distinct[block.text[p.start : p.end]]] for p in plan.pieces]
                en = _join(block.text, plan.pieces, [o.translation.text for o in outputs])
                source_tokens += sum(o.translation.source_tokens for o in outputs)
                output_tokens += sum(o.translation.output_tokens for o in outputs)
                piece_flags = [flag for o in outputs for flag in o.flags]
                flags = ((FLAG_SPLIT_WINDOW,) if plan.split else ()) + tuple(dict.fromkeys(piece_flags))
            else:
                en, flags = fr, (FLAG_KEPT_VERBATIM,)
            sentences.append(BilingualSentence(number, plan.span.start, plan.span.end, fr, en, flags))
        sentence_count += len(sentences)
        english = (
            _join(block.text, [s.span for s in block_plans], [s.en for s in sentences]) if sentences else block.text
        )
        if sentences:  # whitespace around the first and last sentence is the source's, kept
            english = block.text[: block_plans[0].span.start] + english + block.text[block_plans[-1].span.end :]
        translated = block.translate and any(plan.translate for plan in block_plans)
        blocks.append(
            BilingualBlock(
                index,
                block.kind,
                block.text,
                english,
                translated,
                tuple(sentences),
                block.prefix,
                block.suffix,
                block.url,
            )
        )
    stats = Stats(len(blocks), sentence_count, source_tokens, output_tokens, round(time.perf_counter() - started, 4))
    return BilingualDocument("fr", "en", engine.info, document.format, tuple(blocks), stats, tuple(warnings))
