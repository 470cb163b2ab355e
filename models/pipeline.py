"""`TranslationRequest` → `BilingualDocument`: plan once, translate every distinct text once, assemble.

The English of a block is its sentences' translations joined with the source's own
inter-sentence whitespace, so paragraph layout and line breaks survive translation. Planning is
`models.plan`, assembly `models.assemble`; here the plan's texts go to an engine (a model, or the
service's scheduler lane: the same interface), whole (`translate_request`) or group by group in
reading order (`DocumentStream`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence

from models.assemble import english_with
from models.document import BilingualBlock, BilingualDocument, Document, ModelInfo, Stats, Translation
from models.engine import Engine, GenerationOptions
from models.plan import (
    _WINDOW_MARGIN,
    MAX_WORDLESS_RUN,
    DocumentTooLarge,
    Plan,
    group_blocks,
    is_language,
    plan,
    plan_block,
)
from models.repair import Checked, Fidelity, Translate, first_texts, translate_checked
from models.request import TranslationRequest
from models.sentences import FLAG_KEPT_VERBATIM, FLAG_SPLIT_WINDOW, Assembled, SentencePlan

__all__ = [
    "FLAG_KEPT_VERBATIM",
    "FLAG_SPLIT_WINDOW",
    "MAX_WORDLESS_RUN",
    "DocumentStream",
    "DocumentTooLarge",
    "Plan",
    "SentencePlan",
    "TranslationRequest",
    "english_with",
    "group_blocks",
    "is_language",
    "plan",
    "plan_block",
    "translate_document",
    "translate_request",
    "translate_texts",
]


def _fits(engine: Engine) -> Callable[[str], bool]:
    """Whether a text (with its placeholders) still fits the model's window."""
    limit = engine.max_input_tokens - _WINDOW_MARGIN
    return lambda text: engine.count_tokens([text])[0] <= limit


def translate_texts(
    texts: Sequence[str],
    engine: Engine,
    options: GenerationOptions,
    fidelity: Fidelity,
    first: Mapping[str, Translation] | None = None,
) -> dict[str, Checked]:
    """Each text translated and checked (`models.repair`): what `Plan.assemble` takes. Repeats are
    sent as they are (a cached engine counts them as hits).

    `first`: the first attempt's translations, already made (`first_texts` of these texts, with
    `options`): that call is answered from it and only repairs reach `engine`."""
    if not texts:
        return {}
    run: Translate = engine.translate
    if first is not None:
        run = _answered_from(first, options, engine.translate)
    results = translate_checked(texts, run, options, fidelity, _fits(engine))
    if len(results) != len(texts):
        raise RuntimeError(f"the engine returned {len(results)} translations for {len(texts)} sentences")
    return dict(zip(texts, results, strict=True))


def _answered_from(first: Mapping[str, Translation], options: GenerationOptions, run: Translate) -> Translate:
    def call(texts: Sequence[str], asked: GenerationOptions) -> list[Translation]:
        if asked == options and all(text in first for text in texts):
            return [first[text] for text in texts]
        return run(texts, asked)

    return call


def translate_request(request: TranslationRequest, engine: Engine) -> BilingualDocument:
    """Translate `request.document` with `engine`: plan, one call for every distinct text, assemble.

    Every translated sentence is checked (`models.checks`); `request.fidelity` adds repairs and
    protected terms (`models.repair`). Inline markup is carried over by word alignment
    (`models.markup`), asked of `engine` (the scheduler's lane queues it); with
    `request.alignment`, every translated sentence also gets its plain texts and the alignment
    itself. The steps after translation are linear or n·log n and poll
    `models.interrupt.checkpoint`: under `stop_when(check)` they raise `Interrupted` once the check
    says nobody waits any more.
    """
    planned = plan(request, engine)
    return answer(planned, translate_texts(planned.texts(), engine, request.options, request.fidelity), engine)


def answer(planned: Plan, results: dict[str, Checked], engine: Engine) -> BilingualDocument:
    """The whole document assembled from its plan's translations (the batch runner translates a
    group of plans in one call, then answers each)."""
    return planned.answer(planned.assemble(range(len(planned.blocks)), results, engine), engine.info)


def translate_document(
    document: Document,
    engine: Engine,
    options: GenerationOptions = GenerationOptions(),
    warnings: Sequence[str] = (),
    max_sentences: int | None = None,
    fidelity: Fidelity = Fidelity(),
    alignment: bool = False,
) -> BilingualDocument:
    """`translate_request` for a document and options given one by one (the library's convenience)."""
    request = TranslationRequest(document, options, fidelity, alignment, tuple(warnings), max_sentences)
    return translate_request(request, engine)


class DocumentStream:
    """A request translated block by block, in reading order: planned now, translated while iterated.

    Building it plans every block (so `DocumentTooLarge` comes before anything is sent). The work is
    the plan's groups of blocks (`Plan.groups`: the first block alone, then doubling), each one list
    of texts for the model (`work`); `blocks(index, translations)` turns one group's translations
    into its `BilingualBlock`s (repairs, alignment and assembly through `engine`), called once per
    group, in order. Iterating does it all here, one group after the other on `engine`; the service
    instead hands every group's work to its scheduler at once (`service.translation`), which packs it
    with other requests' and serves earlier groups first. The blocks are the ones `translate_request`
    gives; `stats` is complete once the last group's blocks are made.
    """

    def __init__(self, request: TranslationRequest, engine: Engine) -> None:
        self.request, self.engine = request, engine
        self.plan = plan(request, engine)
        self.sentences = self.plan.sentences
        self.groups = self.plan.groups()
        self._fits = _fits(engine)
        self._texts = [self.plan.texts(group) for group in self.groups]
        self._work = [first_texts(texts, request.fidelity, self._fits) for texts in self._texts]
        self._assembled = Assembled(())

    @property
    def model(self) -> ModelInfo:
        return self.engine.info

    @property
    def format(self) -> str:
        return self.request.document.format

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.request.warnings

    @property
    def options(self) -> GenerationOptions:
        return self.request.options

    @property
    def stats(self) -> Stats:
        done = self._assembled
        seconds = round(time.perf_counter() - self.plan.started, 4)
        return Stats(len(self.request.document.blocks), done.sentences, done.source_tokens, done.output_tokens, seconds)

    def work(self) -> list[list[str]]:
        """Each group's texts for the model, in reading order, translated with `options`: the first
        attempt `blocks` expects (its repairs, if any, it asks of the engine itself)."""
        return [list(texts) for texts in self._work]

    def __iter__(self) -> Iterator[BilingualBlock]:
        for index, texts in enumerate(self._work):
            yield from self.blocks(index, self.engine.translate(texts, self.options) if texts else [])

    def blocks(self, index: int, translations: Sequence[Translation]) -> list[BilingualBlock]:
        """Group `index`'s blocks from the translations of its `work()[index]`; call once per group, in order."""
        first = dict(zip(self._work[index], translations, strict=True))
        results = translate_texts(self._texts[index], self.engine, self.options, self.request.fidelity, first)
        assembled = self.plan.assemble(self.groups[index], results, self.engine)
        self._assembled = self._assembled + Assembled(
            (), assembled.sentences, assembled.source_tokens, assembled.output_tokens
        )
        return list(assembled.blocks)
