"""`Document` → `BilingualDocument`: segment, translate every distinct sentence once, reassemble.

The English of a block is its sentences' translations joined with the source's own
inter-sentence whitespace, so paragraph layout and line breaks survive translation.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from models.align import Aligner, MonotonicAligner, monotonic
from models.document import (
    BilingualBlock,
    BilingualDocument,
    BilingualSentence,
    Block,
    Document,
    Stats,
)
from models.engine import Engine, GenerationOptions
from models.markup import (
    CODE,
    FLAG_MARKUP_UNPLACED,
    Alignment,
    Inline,
    SentenceMarkup,
    parse_inline,
    place,
    place_in_order,
    render,
    restore_codes,
    sentence_markup,
)
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

    span: Span  # in the block's text (markup included)
    pieces: tuple[Span, ...]  # in `source`; one piece unless longer than the model window
    translate: bool
    source: str = ""  # what the model is sent: the sentence, without its markup
    markup: SentenceMarkup | None = None

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
    """Segment one block; sentences without words (see `is_language`) are kept as they are.

    A block with inline markup (`block.markup`) is segmented on its plain text; a sentence never
    ends inside a link or emphasis, and the model gets the sentence without its markup.
    """
    plans: list[SentencePlan] = []
    limit = window - _WINDOW_MARGIN
    inline = parse_inline(block.text, block.markup) if block.markup and block.translate else None
    sentences: list[tuple[Span, SentenceMarkup | None]]
    if inline is not None:
        sentences = [(raw, sentence_markup(inline, a, b)) for raw, (a, b) in _markup_sentences(inline)]
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
    top = [e for e in inline.elements]
    # Merge sentences an element crosses.
    group = list(range(len(spans)))
    for element in top:
        first = max(0, bisect_right(starts, element.start) - 1)
        last = max(0, bisect_right(starts, max(element.start, element.end - 1)) - 1)
        for k in range(first + 1, last + 1):
            group[k] = group[first]
    merged: dict[int, list[int]] = {}
    for k, g in enumerate(group):
        root = g
        while group[root] != root:
            root = group[root]
        merged.setdefault(root, []).append(k)
    ranges = sorted((spans[ks[0]][0], spans[ks[-1]][1]) for ks in merged.values())
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
    alignment: bool = False,
) -> BilingualDocument:
    """Translate `document` with `engine`: a model, or the service's scheduler lane (the same interface).

    Every translated sentence is checked (`models.checks`); `fidelity` adds repairs and
    protected terms (`models.repair`). Inline markup is carried over by word alignment
    (`models.markup`); with `alignment`, every translated sentence also gets its plain texts
    and the alignment itself.
    """
    started = time.perf_counter()
    run = engine.translate
    count = lambda text: engine.count_tokens([text])[0]  # noqa: E731 - a one-line adapter
    plans = [plan_block(block, count, engine.max_input_tokens) for block in document.blocks]
    planned = sum(len(block_plans) for block_plans in plans)
    if max_sentences is not None and planned > max_sentences:
        raise DocumentTooLarge(planned, max_sentences)

    distinct: dict[str, int] = {}
    for block_plans in plans:
        for plan in block_plans:
            if plan.translate:
                for piece in plan.pieces:
                    distinct.setdefault(plan.source[piece.start : piece.end], len(distinct))
    limit = engine.max_input_tokens - _WINDOW_MARGIN
    fits = lambda text: count(text) <= limit  # noqa: E731
    results: list[Checked] = translate_checked(list(distinct), run, options, fidelity, fits) if distinct else []
    if len(results) != len(distinct):
        raise RuntimeError(f"the engine returned {len(results)} translations for {len(distinct)} sentences")

    # The English of every translated sentence, before its markup goes back.
    english: dict[tuple[int, int], _English] = {}
    for b, block_plans in enumerate(plans):
        for n, plan in enumerate(block_plans):
            if plan.translate:
                outputs = [results[distinct[plan.source[p.start : p.end]]] for p in plan.pieces]
                english[(b, n)] = _english(plan, outputs)
    _align_all(english, plans, engine, alignment)

    blocks: list[BilingualBlock] = []
    source_tokens = output_tokens = sentence_count = 0
    for index, (block, block_plans) in enumerate(zip(document.blocks, plans, strict=True)):
        sentences: list[BilingualSentence] = []
        for number, plan in enumerate(block_plans):
            fr = block.text[plan.span.start : plan.span.end]
            if plan.translate:
                done = english[(index, number)]
                source_tokens += done.source_tokens
                output_tokens += done.output_tokens
                flags = ((FLAG_SPLIT_WINDOW,) if plan.split else ()) + done.flags
                en = done.rendered
                extra = (
                    {"fr_plain": done.fr_plain, "en_plain": done.plain, "alignment": done.alignment}
                    if alignment
                    else {}
                )
                sentences.append(
                    BilingualSentence(number, plan.span.start, plan.span.end, fr, en, flags, **extra)  # type: ignore[arg-type]
                )
            else:
                sentences.append(
                    BilingualSentence(number, plan.span.start, plan.span.end, fr, fr, (FLAG_KEPT_VERBATIM,))
                )
        sentence_count += len(sentences)
        english_text = (
            _join(block.text, [s.span for s in block_plans], [s.en for s in sentences]) if sentences else block.text
        )
        if sentences:  # whitespace around the first and last sentence is the source's, kept
            english_text = (
                block.text[: block_plans[0].span.start] + english_text + block.text[block_plans[-1].span.end :]
            )
        translated = block.translate and any(plan.translate for plan in block_plans)
        blocks.append(
            BilingualBlock(
                index,
                block.kind,
                block.text,
                english_text,
                translated,
                tuple(sentences),
                block.prefix,
                block.suffix,
                block.url,
                block.markup or None,
                block.cell,
            )
        )
    stats = Stats(len(blocks), sentence_count, source_tokens, output_tokens, round(time.perf_counter() - started, 4))
    return BilingualDocument("fr", "en", engine.info, document.format, tuple(blocks), stats, tuple(warnings))


@dataclass(slots=True)
class _English:
    """One translated sentence on its way out: plain English, then its markup put back."""

    plan: SentencePlan
    plain: str  # the English as a reader sees it (code spans back in place)
    fr_plain: str
    flags: tuple[str, ...]
    source_tokens: int
    output_tokens: int
    code_spans: dict[int, tuple[int, int]]
    codes_ok: bool
    rendered: str = ""
    alignment: Alignment = ()


def _english(plan: SentencePlan, outputs: Sequence[Checked]) -> _English:
    joined = _join(plan.source, plan.pieces, [o.translation.text for o in outputs])
    flags = tuple(dict.fromkeys(flag for o in outputs for flag in o.flags))
    source_tokens = sum(o.translation.source_tokens for o in outputs)
    output_tokens = sum(o.translation.output_tokens for o in outputs)
    if plan.markup is None:
        return _English(plan, joined, plan.source, flags, source_tokens, output_tokens, {}, True, joined)
    text, code_spans, codes_ok = restore_codes(joined, plan.markup)
    return _English(plan, text, plan.markup.plain, flags, source_tokens, output_tokens, code_spans, codes_ok)


def _align_all(
    english: dict[tuple[int, int], _English], plans: list[list[SentencePlan]], engine: Engine, wanted: bool
) -> None:
    """Align what needs it (sentences with markup; all of them when `wanted`) and put markup back."""
    aligner: Aligner = engine if isinstance(engine, Aligner) else MonotonicAligner()
    needed = [
        key for key, done in english.items() if (wanted or _has_placeable(done.plan.markup)) and not done.plan.split
    ]
    found = aligner.align([english[k].fr_plain for k in needed], [english[k].plain for k in needed]) if needed else []
    alignments = dict(zip(needed, found, strict=True))
    for key, done in english.items():
        plan = done.plan
        if key in alignments:
            done.alignment = alignments[key]
        elif wanted or _has_placeable(plan.markup):  # a split sentence: windows, no one attention matrix
            done.alignment = monotonic(done.fr_plain, done.plain)
        if plan.markup is None:
            continue
        placed = place(plan.markup, done.plain, done.code_spans, done.alignment) if done.codes_ok else None
        if placed is None:
            text, placed = place_in_order(plan.markup, done.plain, done.code_spans)
            if _has_placeable(plan.markup) or not done.codes_ok:
                done.flags += (FLAG_MARKUP_UNPLACED,)
            done.plain = text
        done.rendered = render(plan.markup.markup, done.plain, placed)


def _has_placeable(markup: SentenceMarkup | None) -> bool:
    return markup is not None and any(e.kind != CODE for e in markup.elements)
