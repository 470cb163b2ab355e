"""A plan's translations back into bilingual blocks: each sentence's English from its windows'
checked translations, aligned where markup must be placed (through the caller's aligner: the
service's scheduler), markup placed, the block's English joined with the French's own gaps.

Linear or n·log n in what it is given, polling `models.interrupt.checkpoint` so a request whose
deadline passed or whose client left stops here too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from models.align import monotonic
from models.beams import distinct_others, weighted_score
from models.document import BilingualBlock, BilingualSentence, Block, EnglishSource, Mark, Suggestion
from models.engine import GenerationOptions
from models.interrupt import checkpoint
from models.markup import (
    CODE,
    FLAG_MARKUP_UNPLACED,
    Alignment,
    Placed,
    SentenceMarkup,
    place,
    place_in_order,
    render,
    restore_codes,
)
from models.memory.lookup import Position
from models.memory.units import Match, MemoryMode
from models.repair import Checked
from models.request import TranslationRequest
from models.segment import Span
from models.sentences import (
    FLAG_KEPT_VERBATIM,
    FLAG_SPLIT_WINDOW,
    Aligning,
    Assembled,
    SentencePlan,
    join_pieces,
)


@dataclass(slots=True)
class _Totals:
    source_tokens: int = 0
    output_tokens: int = 0
    sentences: int = 0


def assemble(
    request: TranslationRequest,
    plans: Sequence[Sequence[SentencePlan]],
    indices: Sequence[int],
    results: Mapping[str, Checked],
    aligner: Aligning,
    memory: Mapping[Position, Match] | None = None,
) -> Assembled:
    """Blocks `indices` of a planned request (`plans`: each block's sentences) in English from their
    sentences' checked translations, markup put back (`models.plan.Plan.assemble`).

    A sentence `memory` answers (under `request.memory.mode`) takes the memory's English and is not
    in `results`; a fuzzy match that does not answer rides along as the sentence's suggestion.
    """
    document, alignment, options = request.document, request.alignment, request.options
    mode, memory = request.memory.mode, memory or {}
    totals = _Totals()
    english: dict[tuple[int, int], _English] = {}
    for b in indices:
        for n, sentence in enumerate(plans[b]):
            checkpoint(n, 256)
            if sentence.translate:
                match = memory.get((b, n))
                if match is not None and match.answers(mode):
                    english[(b, n)] = _remembered(sentence, match)
                    continue
                outputs = [results[sentence.source[p.start : p.end]] for p in sentence.pieces]
                english[(b, n)] = done = _english(sentence, outputs)
                if match is not None and mode is not MemoryMode.OFF:
                    done.suggestion = Suggestion(match.unit.source, match.english, match.percent)
    _align_all(english, aligner, alignment)
    blocks = []
    for count, index in enumerate(indices):
        checkpoint(count, 64)
        blocks.append(_block(index, document.blocks[index], plans[index], english, alignment, totals, options))
    return Assembled(tuple(blocks), totals.sentences, totals.source_tokens, totals.output_tokens)


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
            flags = ((FLAG_SPLIT_WINDOW,) if plan.split and done.source is EnglishSource.MODEL else ()) + done.flags
            extra: dict[str, object] = (
                {"fr_plain": done.fr_plain, "en_plain": done.plain, "alignment": done.alignment} if alignment else {}
            )
            if alignment and plan.markup is not None:
                extra["fr_marks"] = _marks(Placed(e, e.start, e.end) for e in plan.markup.elements)
                extra["en_marks"] = _marks(done.placed)
            if options.alternatives:
                extra["alternatives"] = done.alternatives
            if options.scores:
                extra["score"] = done.score
            extra |= {"source": done.source, "match": done.match, "suggestion": done.suggestion}
            sentences.append(
                BilingualSentence(number, plan.span.start, plan.span.end, fr, done.rendered, flags, **extra)  # type: ignore[arg-type]
            )
        else:
            sentences.append(
                BilingualSentence(
                    number, plan.span.start, plan.span.end, fr, fr, (FLAG_KEPT_VERBATIM,), source=EnglishSource.KEPT
                )
            )
    totals.sentences += len(sentences)
    english_text = (
        join_pieces(block.text, [s.span for s in block_plans], [s.en for s in sentences]) if sentences else block.text
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
    joined = join_pieces(block.fr, spans, [choose(sentence) for sentence in sentences])
    return block.fr[: spans[0].start] + joined + block.fr[spans[-1].end :]


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
    placed: Sequence[Placed] = ()  # each element's range in `plain`, once placed
    alternatives: tuple[str, ...] = ()  # plain text, code spans back in place
    score: float | None = None
    source: EnglishSource = EnglishSource.MODEL
    match: int | None = None  # the memory's match percentage, when it answered
    suggestion: Suggestion | None = None


def _remembered(plan: SentencePlan, match: Match) -> _English:
    """A sentence the translation memory answers: its English as if the model had written it, so markup
    is placed the same way; no tokens counted, no model flags."""
    source, percent = match.tier.source, match.percent
    if plan.markup is None:
        return _English(
            plan, match.english, plan.source, (), 0, 0, {}, True, match.english, source=source, match=percent
        )
    text, code_spans, codes_ok = restore_codes(match.english, plan.markup)
    return _English(plan, text, plan.markup.plain, (), 0, 0, code_spans, codes_ok, source=source, match=percent)


def _english(plan: SentencePlan, outputs: Sequence[Checked]) -> _English:
    joined = join_pieces(plan.source, plan.pieces, [o.translation.text for o in outputs])
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


def _align_all(english: dict[tuple[int, int], _English], aligner: Aligning, wanted: bool) -> None:
    """Align what needs it (sentences with markup; all of them when `wanted`) and put markup back."""
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


def _marks(placed: Iterable[Placed]) -> tuple[Mark, ...]:
    """Elements as plain-text ranges, outer first: what a reader draws without parsing markup."""
    ordered = sorted(placed, key=lambda item: (item[1], -item[2]))
    return tuple(Mark(e.kind, start, end, e.url) for e, start, end in ordered)


def _has_placeable(markup: SentenceMarkup | None) -> bool:
    return markup is not None and any(e.kind != CODE for e in markup.elements)
