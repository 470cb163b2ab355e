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
from models.document import BilingualBlock, BilingualSentence, Mark
from models.interrupt import checkpoint
from models.markup import (
    CODE,
    FLAG_MARKUP_UNPLACED,
    Alignment,
    Placed,
    SentenceMarkup,
    parse_inline,
    place,
    place_in_order,
    render,
    restore_codes,
)
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


def assemble(
    request: TranslationRequest,
    plans: Sequence[Sequence[SentencePlan]],
    indices: Sequence[int],
    results: Mapping[str, Checked],
    aligner: Aligning,
) -> Assembled:
    """Blocks `indices` of a planned request (`plans`: each block's sentences) in English from their
    sentences' checked translations, markup put back (`models.plan.Plan.assemble`)."""
    drafts: dict[tuple[int, int], _Draft] = {}
    for b in indices:
        for n, sentence in enumerate(plans[b]):
            checkpoint(n, 256)
            if sentence.translate:
                outputs = [results[sentence.source[p.start : p.end]] for p in sentence.pieces]
                drafts[(b, n)] = _draft(sentence, outputs)
    english = _finish_all(drafts, aligner, request.alignment)
    blocks = []
    for count, index in enumerate(indices):
        checkpoint(count, 64)
        blocks.append(_block(index, plans[index], english, request))
    translated = [english[(index, n)] for index in indices for n, s in enumerate(plans[index]) if s.translate]
    return Assembled(
        tuple(blocks),
        sum(len(block.sentences) for block in blocks),
        sum(done.draft.source_tokens for done in translated),
        sum(done.draft.output_tokens for done in translated),
    )


def _block(
    index: int,
    block_plans: Sequence[SentencePlan],
    english: Mapping[tuple[int, int], _English],
    request: TranslationRequest,
) -> BilingualBlock:
    block, alignment, options = request.document.blocks[index], request.alignment, request.options
    sentences: list[BilingualSentence] = []
    for number, plan in enumerate(block_plans):
        fr = block.text[plan.span.start : plan.span.end]
        if plan.translate:
            done = english[(index, number)]
            flags = ((FLAG_SPLIT_WINDOW,) if plan.split else ()) + done.flags
            extra: dict[str, object] = {}
            if alignment:
                extra |= {"fr_plain": done.draft.fr_plain, "en_plain": done.plain, "alignment": done.alignment}
            if plan.markup is not None:  # always: every reader draws the markup without parsing it
                extra |= {"fr_plain": done.draft.fr_plain, "en_plain": done.plain}
                extra["fr_marks"] = _marks(Placed(e, e.start, e.end) for e in plan.markup.elements)
                extra["en_marks"] = _marks(done.placed)
            if options.alternatives:
                extra["alternatives"] = done.draft.alternatives
            if options.scores:
                extra["score"] = done.draft.score
            sentences.append(
                BilingualSentence(number, plan.span.start, plan.span.end, fr, done.rendered, flags, **extra)  # type: ignore[arg-type]
            )
        else:
            kept = _kept_marks(fr, block.markup)
            sentences.append(
                BilingualSentence(number, plan.span.start, plan.span.end, fr, fr, (FLAG_KEPT_VERBATIM,), **kept)  # type: ignore[arg-type]
            )
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


@dataclass(frozen=True, slots=True)
class _Draft:
    """One translated sentence before alignment: its windows joined, code spans back in place."""

    plan: SentencePlan
    plain: str  # the English as a reader sees it (code spans back in place)
    fr_plain: str
    flags: tuple[str, ...]
    source_tokens: int
    output_tokens: int
    code_spans: dict[int, tuple[int, int]]
    codes_ok: bool
    alternatives: tuple[str, ...] = ()  # plain text, code spans back in place
    score: float | None = None


@dataclass(frozen=True, slots=True)
class _English:
    """One translated sentence as it goes out: aligned, its markup placed and rendered."""

    draft: _Draft
    plain: str  # `draft.plain`, or its text with unplaceable markup kept in order
    rendered: str  # `plain` with the markup in the block's syntax
    flags: tuple[str, ...]
    alignment: Alignment = ()
    placed: Sequence[Placed] = ()  # each element's range in `plain`


def _draft(plan: SentencePlan, outputs: Sequence[Checked]) -> _Draft:
    joined = join_pieces(plan.source, plan.pieces, [o.translation.text for o in outputs])
    flags = tuple(dict.fromkeys(flag for o in outputs for flag in o.flags))
    source_tokens = sum(o.translation.source_tokens for o in outputs)
    output_tokens = sum(o.translation.output_tokens for o in outputs)
    score = weighted_score([o.translation.score for o in outputs], [o.translation.output_tokens for o in outputs])
    # A sentence cut into windows has no one beam to take alternatives from.
    others = outputs[0].translation.alternatives if len(outputs) == 1 else ()
    markup = plan.markup
    if markup is None:
        return _Draft(plan, joined, plan.source, flags, source_tokens, output_tokens, {}, True, others, score)
    text, code_spans, codes_ok = restore_codes(joined, markup)
    alternatives = distinct_others(text, [restore_codes(o, markup)[0] for o in others], len(others))
    return _Draft(
        plan, text, markup.plain, flags, source_tokens, output_tokens, code_spans, codes_ok, alternatives, score
    )


def _finish_all(
    drafts: Mapping[tuple[int, int], _Draft], aligner: Aligning, wanted: bool
) -> dict[tuple[int, int], _English]:
    """Align what needs it (sentences with markup; all of them when `wanted`) and put markup back."""
    needed = [key for key, draft in drafts.items() if _needs_alignment(draft.plan, wanted) and not draft.plan.split]
    found = aligner.align([drafts[k].fr_plain for k in needed], [drafts[k].plain for k in needed]) if needed else []
    alignments = dict(zip(needed, found, strict=True))
    english: dict[tuple[int, int], _English] = {}
    for count, (key, draft) in enumerate(drafts.items()):
        checkpoint(count, 16)  # placement polls inside a sentence too: a long one stops part-way
        alignment = alignments.get(key)
        if alignment is None and _needs_alignment(draft.plan, wanted):
            alignment = monotonic(draft.fr_plain, draft.plain)  # a split sentence: windows, no one attention matrix
        english[key] = _finish(draft, alignment or ())
    return english


def _finish(draft: _Draft, alignment: Alignment) -> _English:
    """The sentence's markup placed by `alignment` (in order, flagged, when it cannot be) and rendered."""
    markup = draft.plan.markup
    if markup is None:
        return _English(draft, draft.plain, draft.plain, draft.flags, alignment)
    placed = place(markup, draft.plain, draft.code_spans, alignment) if draft.codes_ok else None
    if placed is not None:
        return _English(draft, draft.plain, render(markup.markup, draft.plain, placed), draft.flags, alignment, placed)
    text, placed = place_in_order(markup, draft.plain, draft.code_spans)
    flags = draft.flags + ((FLAG_MARKUP_UNPLACED,) if _has_placeable(markup) or not draft.codes_ok else ())
    return _English(draft, text, render(markup.markup, text, placed), flags, alignment, placed)


def _needs_alignment(plan: SentencePlan, wanted: bool) -> bool:
    return wanted or _has_placeable(plan.markup)


def _marks(placed: Iterable[Placed]) -> tuple[Mark, ...]:
    """Elements as plain-text ranges, outer first: what a reader draws without parsing markup."""
    ordered = sorted(placed, key=lambda item: (item[1], -item[2]))
    return tuple(Mark(e.kind, start, end, e.url) for e, start, end in ordered)


def _kept_marks(text: str, markup: str) -> dict[str, object]:
    """A sentence kept as it is (`[1](https://…)`, `**2024**`) in a block with markup: its plain text and
    marks, the same on both sides, so a reader draws it as it draws a translated one."""
    if not markup:
        return {}
    inline = parse_inline(text, markup)
    marks = _marks(Placed(e, e.start, e.end) for e in inline.elements)
    return {"fr_plain": inline.plain, "en_plain": inline.plain, "fr_marks": marks, "en_marks": marks}


def _has_placeable(markup: SentenceMarkup | None) -> bool:
    return markup is not None and any(e.kind != CODE for e in markup.elements)
