"""`Document` → `BilingualDocument`: segment, translate every distinct sentence once, reassemble.

The English of a block is its sentences' translations joined with the source's own
inter-sentence whitespace, so paragraph layout and line breaks survive translation.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from models.align import monotonic
from models.beams import distinct_others, weighted_score
from models.document import (
    BilingualBlock,
    BilingualDocument,
    BilingualSentence,
    Block,
    Document,
    Mark,
    ModelInfo,
    Stats,
)
from models.engine import Engine, GenerationOptions
from models.interrupt import checkpoint
from models.markup import (
    CODE,
    FLAG_MARKUP_UNPLACED,
    Alignment,
    Element,
    Inline,
    SentenceMarkup,
    parse_inline,
    place,
    place_in_order,
    render,
    restore_codes,
    sentence_markups,
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


def _join(text: str, pieces: Sequence[Span], translations: Sequence[str]) -> str:
    """Translations of consecutive pieces of `text`, joined by the source's own gaps."""
    out = [translations[0]]
    for previous, piece, english in zip(pieces, pieces[1:], translations[1:], strict=False):
        out += [text[previous.end : piece.start], english]
    return "".join(out)


def plan_document(document: Document, engine: Engine, max_sentences: int | None = None) -> list[list[SentencePlan]]:
    """Every block's sentence plans; too many sentences raises `DocumentTooLarge` before any model time."""
    count = lambda text: engine.count_tokens([text])[0]  # noqa: E731 - a one-line adapter
    plans = [plan_block(block, count, engine.max_input_tokens) for block in document.blocks]
    planned = sum(len(block_plans) for block_plans in plans)
    if max_sentences is not None and planned > max_sentences:
        raise DocumentTooLarge(planned, max_sentences)
    return plans


def _distinct(plans: Sequence[Sequence[SentencePlan]]) -> list[str]:
    """The texts the model is asked for, each once, in reading order (markup already taken out)."""
    distinct: dict[str, None] = {}
    for block_plans in plans:
        for plan in block_plans:
            if plan.translate:
                for piece in plan.pieces:
                    distinct.setdefault(plan.source[piece.start : piece.end])
    return list(distinct)


def _translate_texts(
    texts: list[str], engine: Engine, options: GenerationOptions, fidelity: Fidelity
) -> dict[str, Checked]:
    if not texts:
        return {}
    count = lambda text: engine.count_tokens([text])[0]  # noqa: E731
    limit = engine.max_input_tokens - _WINDOW_MARGIN
    fits = lambda text: count(text) <= limit  # noqa: E731
    results = translate_checked(texts, engine.translate, options, fidelity, fits)
    if len(results) != len(texts):
        raise RuntimeError(f"the engine returned {len(results)} translations for {len(texts)} sentences")
    return dict(zip(texts, results, strict=True))


@dataclass(slots=True)
class _Totals:
    source_tokens: int = 0
    output_tokens: int = 0
    sentences: int = 0


def _assemble(
    indices: Sequence[int],
    document: Document,
    plans: Sequence[Sequence[SentencePlan]],
    results: dict[str, Checked],
    engine: Engine,
    alignment: bool,
    totals: _Totals,
    options: GenerationOptions = GenerationOptions(),
) -> list[BilingualBlock]:
    """Blocks `indices` in English from their sentences' checked translations, markup put back."""
    english: dict[tuple[int, int], _English] = {}
    for b in indices:
        for n, plan in enumerate(plans[b]):
            checkpoint(n, 256)
            if plan.translate:
                outputs = [results[plan.source[p.start : p.end]] for p in plan.pieces]
                english[(b, n)] = _english(plan, outputs)
    _align_all(english, engine, alignment)
    blocks = []
    for count, index in enumerate(indices):
        checkpoint(count, 64)
        blocks.append(_block(index, document.blocks[index], plans[index], english, alignment, totals, options))
    return blocks


def _block(
    index: int,
    block: Block,
    block_plans: Sequence[SentencePlan],
    english: dict[tuple[int, int], _English],
    alignment: bool,
    totals: _Totals,
    options: GenerationOptions = GenerationOptions(),
) -> BilingualBlock:
    sentences: list[BilingualSentence] = []
    for number, plan in enumerate(block_plans):
        fr = block.text[plan.span.start : plan.span.end]
        if plan.translate:
            done = english[(index, number)]
            totals.source_tokens += done.source_tokens
            totals.output_tokens += done.output_tokens
            flags = ((FLAG_SPLIT_WINDOW,) if plan.split else ()) + done.flags
            extra: dict[str, object] = (
                {"fr_plain": done.fr_plain, "en_plain": done.plain, "alignment": done.alignment} if alignment else {}
            )
            if alignment and plan.markup is not None:
                extra["fr_marks"] = _marks((e, e.start, e.end) for e in plan.markup.elements)
                extra["en_marks"] = _marks(done.placed)
            if options.alternatives:
                extra["alternatives"] = done.alternatives
            if options.scores:
                extra["score"] = done.score
            sentences.append(
                BilingualSentence(number, plan.span.start, plan.span.end, fr, done.rendered, flags, **extra)  # type: ignore[arg-type]
            )
        else:
            sentences.append(BilingualSentence(number, plan.span.start, plan.span.end, fr, fr, (FLAG_KEPT_VERBATIM,)))
    totals.sentences += len(sentences)
    english_text = (
        _join(block.text, [s.span for s in block_plans], [s.en for s in sentences]) if sentences else block.text
    )
    if sentences:  # whitespace around the first and last sentence is the source's, kept
        english_text = block.text[: block_plans[0].span.start] + english_text + block.text[block_plans[-1].span.end :]
    translated = block.translate and any(plan.translate for plan in block_plans)
    return BilingualBlock(
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


def english_with(block: BilingualBlock, choose: Callable[[BilingualSentence], str]) -> str:
    """The block's English rebuilt with `choose(sentence)` for each sentence, the French's whitespace
    kept as `translate_document` keeps it (`choose = lambda s: s.en` gives back `block.en`)."""
    sentences = block.sentences
    if not sentences:
        return block.en
    spans = [Span(sentence.start, sentence.end) for sentence in sentences]
    joined = _join(block.fr, spans, [choose(sentence) for sentence in sentences])
    return block.fr[: spans[0].start] + joined + block.fr[spans[-1].end :]


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
    and the alignment itself. The steps after translation (alignment, placement, assembly) are
    linear or n·log n and poll `models.interrupt.checkpoint`: under `stop_when(check)` they raise
    `Interrupted` once the check says nobody waits any more.
    """
    started = time.perf_counter()
    plans = plan_document(document, engine, max_sentences)
    results = _translate_texts(_distinct(plans), engine, options, fidelity)
    totals = _Totals()
    blocks = tuple(_assemble(range(len(document.blocks)), document, plans, results, engine, alignment, totals, options))
    stats = Stats(len(blocks), totals.sentences, totals.source_tokens, totals.output_tokens, _since(started))
    return BilingualDocument("fr", "en", engine.info, document.format, blocks, stats, tuple(warnings))


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 4)


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
    placed: Sequence[tuple[Element, int, int]] = ()  # each element's range in `plain`, once placed
    alternatives: tuple[str, ...] = ()  # plain text, code spans back in place
    score: float | None = None


def _english(plan: SentencePlan, outputs: Sequence[Checked]) -> _English:
    joined = _join(plan.source, plan.pieces, [o.translation.text for o in outputs])
    flags = tuple(dict.fromkeys(flag for o in outputs for flag in o.flags))
    source_tokens = sum(o.translation.source_tokens for o in outputs)
    output_tokens = sum(o.translation.output_tokens for o in outputs)
    score = weighted_score([o.translation.score for o in outputs], [o.translation.output_tokens for o in outputs])
    # A sentence cut into windows has no one beam to take alternatives from.
    others = outputs[0].translation.alternatives if len(outputs) == 1 else ()
    if plan.markup is None:
        done = _English(plan, joined, plan.source, flags, source_tokens, output_tokens, {}, True, joined)
        done.alternatives, done.score = others, score
        return done
    text, code_spans, codes_ok = restore_codes(joined, plan.markup)
    done = _English(plan, text, plan.markup.plain, flags, source_tokens, output_tokens, code_spans, codes_ok)
    markup = plan.markup
    done.alternatives = distinct_others(text, [restore_codes(o, markup)[0] for o in others], len(others))
    done.score = score
    return done


def _align_all(english: dict[tuple[int, int], _English], engine: Engine, wanted: bool) -> None:
    """Align what needs it (sentences with markup; all of them when `wanted`) and put markup back."""
    aligner = engine
    needed = [
        key for key, done in english.items() if (wanted or _has_placeable(done.plan.markup)) and not done.plan.split
    ]
    found = aligner.align([english[k].fr_plain for k in needed], [english[k].plain for k in needed]) if needed else []
    alignments = dict(zip(needed, found, strict=True))
    for count, (key, done) in enumerate(english.items()):
        checkpoint(count, 16)  # placement polls inside a sentence too: a long one stops part-way
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
        done.placed = placed


def _marks(placed: Iterable[tuple[Element, int, int]]) -> tuple[Mark, ...]:
    """Elements as plain-text ranges, outer first: what a reader draws without parsing markup."""
    ordered = sorted(placed, key=lambda item: (item[1], -item[2]))
    return tuple(Mark(e.kind, start, end, e.url) for e, start, end in ordered)


def _has_placeable(markup: SentenceMarkup | None) -> bool:
    return markup is not None and any(e.kind != CODE for e in markup.elements)


@runtime_checkable
class Ordered(Protocol):
    """An engine that can tag work with a reading-order key, so earlier blocks are served first.

    `ordered(key)` is the same engine whose sentences carry `key` (smaller goes first among one
    caller's work); the service's scheduler lane offers it. Engines that have it are called from
    several threads at once, one per group of blocks.
    """

    def ordered(self, key: int) -> Engine: ...


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


class DocumentStream:
    """A document translated block by block, in reading order: plan now, translate while iterated.

    Building it plans every block (so `DocumentTooLarge` comes before anything is sent); iterating
    yields each `BilingualBlock` as soon as it and every block before it are done. The blocks are
    the ones `translate_document` gives. `stats` is complete once the iteration ends. Closing the
    iterator early stops waiting; work already submitted is the engine's to drop (the service
    cancels it).
    """

    def __init__(
        self,
        document: Document,
        engine: Engine,
        options: GenerationOptions = GenerationOptions(),
        warnings: Sequence[str] = (),
        max_sentences: int | None = None,
        fidelity: Fidelity = Fidelity(),
        alignment: bool = False,
    ) -> None:
        self.started = time.perf_counter()
        self.document, self.engine, self.options, self.fidelity = document, engine, options, fidelity
        self.alignment = alignment
        self.warnings = tuple(warnings)
        self.plans = plan_document(document, engine, max_sentences)
        self.sentences = sum(len(block_plans) for block_plans in self.plans)
        counts = [sum(plan.translate for plan in block_plans) for block_plans in self.plans]
        self.groups = group_blocks(counts)
        self._totals = _Totals()

    @property
    def model(self) -> ModelInfo:
        return self.engine.info

    @property
    def format(self) -> str:
        return self.document.format

    @property
    def stats(self) -> Stats:
        totals = self._totals
        return Stats(
            len(self.document.blocks),
            totals.sentences,
            totals.source_tokens,
            totals.output_tokens,
            _since(self.started),
        )

    def _group_texts(self, group: range) -> list[str]:
        return _distinct([self.plans[i] for i in group])

    def _run(self, key: int, texts: list[str]) -> dict[str, Checked]:
        engine = self.engine.ordered(key) if isinstance(self.engine, Ordered) else self.engine
        return _translate_texts(texts, engine, self.options, self.fidelity)

    def __iter__(self) -> Iterator[BilingualBlock]:
        if not isinstance(self.engine, Ordered):  # a plain engine: one group after the other
            for group in self.groups:
                yield from self._emit(group, self._run(0, self._group_texts(group)))
            return
        pool = ThreadPoolExecutor(max_workers=len(self.groups) or 1, thread_name_prefix="bitext-stream")
        try:
            for index, future in enumerate(self.submit(pool)):
                yield from self.blocks(index, future.result())
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def submit(self, executor: Executor) -> list[Future[dict[str, Checked]]]:
        """Every group's translations handed to `executor` at once, each with its reading-order key, so the
        engine stays busy and still serves earlier blocks first; the engine must be `Ordered`.

        The service shares one bounded executor between all its streams (`service.translation`):
        a stream is then no threads of its own, and its waits are the executor's.
        """
        if not isinstance(self.engine, Ordered):
            raise TypeError("a stream's groups run side by side only on an Ordered engine (the scheduler's lane)")
        return [executor.submit(self._run, key, self._group_texts(group)) for key, group in enumerate(self.groups)]

    def blocks(self, index: int, results: dict[str, Checked]) -> list[BilingualBlock]:
        """Group `index`'s blocks from its translations (`submit`'s future); call once per group, in order."""
        return list(self._emit(self.groups[index], results))

    def _emit(self, group: range, results: dict[str, Checked]) -> Iterator[BilingualBlock]:
        yield from _assemble(
            group, self.document, self.plans, results, self.engine, self.alignment, self._totals, self.options
        )
