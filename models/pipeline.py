"""`TranslationRequest` → `BilingualDocument`: plan once, translate every distinct text once, assemble.

The English of a block is its sentences' translations joined with the source's own
inter-sentence whitespace, so paragraph layout and line breaks survive translation. Planning is
`models.plan`, assembly `models.assemble`; here the plan's texts go to an engine (a model, or the
service's scheduler lane: the same interface), whole (`translate_request`) or group by group in
reading order (`DocumentStream`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Protocol, runtime_checkable

from models.assemble import english_with
from models.document import BilingualBlock, BilingualDocument, Document, ModelInfo, Stats
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
from models.repair import Checked, Fidelity, translate_checked
from models.request import TranslationRequest
from models.sentences import FLAG_KEPT_VERBATIM, FLAG_SPLIT_WINDOW, Assembled, SentencePlan

__all__ = [
    "FLAG_KEPT_VERBATIM",
    "FLAG_SPLIT_WINDOW",
    "MAX_WORDLESS_RUN",
    "DocumentStream",
    "DocumentTooLarge",
    "Ordered",
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


def translate_texts(
    texts: Sequence[str], engine: Engine, options: GenerationOptions, fidelity: Fidelity
) -> dict[str, Checked]:
    """Each text translated and checked (`models.repair`): what `Plan.assemble` takes. Repeats are
    sent as they are (a cached engine counts them as hits)."""
    if not texts:
        return {}
    count = lambda text: engine.count_tokens([text])[0]  # noqa: E731
    limit = engine.max_input_tokens - _WINDOW_MARGIN
    fits = lambda text: count(text) <= limit  # noqa: E731
    results = translate_checked(texts, engine.translate, options, fidelity, fits)
    if len(results) != len(texts):
        raise RuntimeError(f"the engine returned {len(results)} translations for {len(texts)} sentences")
    return dict(zip(texts, results, strict=True))


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


@runtime_checkable
class Ordered(Protocol):
    """An engine that can tag work with a reading-order key, so earlier blocks are served first.

    `ordered(key)` is the same engine whose sentences carry `key` (smaller goes first among one
    caller's work); the service's scheduler lane offers it. Engines that have it are called from
    several threads at once, one per group of blocks.
    """

    def ordered(self, key: int) -> Engine: ...


class DocumentStream:
    """A request translated block by block, in reading order: planned now, translated while iterated.

    Building it plans every block (so `DocumentTooLarge` comes before anything is sent); iterating
    yields each `BilingualBlock` as soon as it and every block before it are done. The blocks are
    the ones `translate_request` gives. `stats` is complete once the iteration ends. Closing the
    iterator early stops waiting; work already submitted is the engine's to drop (the service
    cancels it).
    """

    def __init__(self, request: TranslationRequest, engine: Engine) -> None:
        self.request, self.engine = request, engine
        self.plan = plan(request, engine)
        self.sentences = self.plan.sentences
        self.groups = self.plan.groups()
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
    def stats(self) -> Stats:
        done = self._assembled
        seconds = round(time.perf_counter() - self.plan.started, 4)
        return Stats(len(self.request.document.blocks), done.sentences, done.source_tokens, done.output_tokens, seconds)

    def _run(self, key: int, texts: list[str]) -> dict[str, Checked]:
        engine = self.engine.ordered(key) if isinstance(self.engine, Ordered) else self.engine
        return translate_texts(texts, engine, self.request.options, self.request.fidelity)

    def __iter__(self) -> Iterator[BilingualBlock]:
        if not isinstance(self.engine, Ordered):  # a plain engine: one group after the other
            for index, group in enumerate(self.groups):
                yield from self.blocks(index, self._run(0, self.plan.texts(group)))
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
        return [executor.submit(self._run, key, self.plan.texts(group)) for key, group in enumerate(self.groups)]

    def blocks(self, index: int, results: dict[str, Checked]) -> list[BilingualBlock]:
        """Group `index`'s blocks from its translations (`submit`'s future); call once per group, in order."""
        assembled = self.plan.assemble(self.groups[index], results, self.engine)
        self._assembled = self._assembled + Assembled(
            (), assembled.sentences, assembled.source_tokens, assembled.output_tokens
        )
        return list(assembled.blocks)
