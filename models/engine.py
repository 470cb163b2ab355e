"""The translation engine's contract: the `Engine` protocol, its declared `EngineTraits`, the
options of a call and its control (`CallControl`: stop check, alone), the spec that picks an
engine, and what every engine shares.

Everything above this module (pipeline, scheduler, HTTP) sees only `Engine`, so tests can use a
fake, benchmarks can swap precisions, and the engines themselves (`models.marian`: MarianMT through
transformers; `models.ct2`: CTranslate2) slot in with no other change.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from models.beams import DEFAULT_BEAMS
from models.budgets import BatchBudget, BudgetSettings
from models.document import ModelInfo, Translation
from models.interrupt import Check, Interrupted
from models.markup import Alignment

log = logging.getLogger(__name__)

MAX_BEAMS = 8


@dataclass(frozen=True, slots=True)
class GenerationOptions:
    """Per-call decoding settings; `None` means the model's own generation config."""

    num_beams: int | None = None
    no_repeat_ngram_size: int | None = None
    # Benchmarks only: forbid EOS so every variant generates exactly the output bound.
    exact_length: bool = False
    alternatives: int = 0  # up to this many other distinct outputs from the beam, per sentence
    scores: bool = False  # the chosen output's length-normalised log-probability

    def __post_init__(self) -> None:
        if not 0 <= self.alternatives <= MAX_BEAMS:
            raise ValueError(f"alternatives must be between 0 and {MAX_BEAMS}")
        if self.num_beams is not None and not 1 <= self.num_beams <= MAX_BEAMS:
            raise ValueError(f"num_beams must be between 1 and {MAX_BEAMS}")
        if self.no_repeat_ngram_size is not None and not 0 <= self.no_repeat_ngram_size <= 10:
            raise ValueError("no_repeat_ngram_size must be between 0 and 10")


def max_new_tokens_for(source_tokens: int, window: int) -> int:
    """Output bound from the input length, so a repetition loop stops early instead of at 512.

    French→English output is rarely longer than 1.5× the input in sentencepiece tokens; the
    constant covers short titles. Never above the model window.
    """
    return min(window, math.ceil(source_tokens * 1.5) + 10)


@dataclass(frozen=True, slots=True)
class CallControl:
    """How one engine call is to run, handed to the engine with its work (never through the thread).

    The scheduler builds one per batch: `stop` says every request of the call is gone (an engine
    that `can_interrupt` polls it between its batches and at every decoding step, and raises
    `Interrupted`); `alone` says no other lane is busy, so the call may use every lane's threads.
    Wrappers pass it on unchanged; a plain caller (the CLI, a benchmark) leaves the default.
    """

    stop: Check | None = None
    alone: bool = False

    def stopped(self) -> bool:
        return self.stop is not None and self.stop()

    def raise_if_stopped(self) -> None:
        """Between batches of one call: stop before starting work nobody waits for."""
        if self.stopped():
            raise Interrupted("every request of this engine call is gone")


PLAIN_CALL = CallControl()
"""A call nobody stops, sharing the model's lanes: the default of every engine call."""


@dataclass(frozen=True)
class EngineSpec:
    """Everything that picks and shapes an engine: the one signature `load_engine` and both engines take.

    `budget`: a full `BatchBudget` is used as is; `BudgetSettings` (default: all unset) gets the
    per-device default of `models.budgets` under its explicit fields.
    """

    model: str
    kind: str = "transformers"  # or "ct2" (CTranslate2, extra [ct2])
    device: str = "auto"
    dtype: str = "auto"
    budget: BatchBudget | BudgetSettings = field(default_factory=BudgetSettings)
    threads: int | None = None
    inter_threads: int = 1  # ct2: batches run in parallel
    lanes: int = 0  # transformers: engine calls side by side on the one loaded model; 0: auto (models.lanes)
    cache_dir: Path | None = None  # ct2: where converted models are kept


@dataclass(frozen=True, slots=True)
class EngineTraits:
    """What an engine declares about itself, once: what the scheduler, the planner, the batch runner
    and the API size and route their work by. Wrappers pass their engine's traits on (changing what
    they change), so nothing above has to look for an attribute and guess when it is missing."""

    window: int  # most input tokens one text may have (the planner cuts longer sentences into windows)
    budget: BatchBudget | None = None  # the largest call, per device; None: the caller's default
    lanes: int = 1  # calls it runs side by side on one loaded model: the scheduler's workers
    default_beams: int = DEFAULT_BEAMS  # the beam used when a request names none
    can_align: bool = False  # `align` reads the model's attention (else the monotonic fallback)
    can_interrupt: bool = False  # polls its call's `CallControl.stop` while decoding: a call can be stopped midway
    load_seconds: float | None = None


@runtime_checkable
class Engine(Protocol):
    """What the rest of bitext needs from a translation model: execute batches, declare its traits."""

    @property
    def info(self) -> ModelInfo: ...

    @property
    def traits(self) -> EngineTraits: ...

    @property
    def max_input_tokens(self) -> int: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]: ...

    def align(
        self, sources: Sequence[str], targets: Sequence[str], *, control: CallControl = PLAIN_CALL
    ) -> list[Alignment]: ...

    def warmup(self) -> None: ...


def all_translated(results: list[Translation | None]) -> list[Translation]:
    """The results, or an error: a batching bug must never turn into a silently dropped sentence."""
    missing = [i for i, result in enumerate(results) if result is None]
    if missing:
        raise RuntimeError(f"no translation came back for inputs {missing}")
    return [result for result in results if result is not None]


class MarianTokenizing:
    """What every Marian engine shares: the sentencepiece tokenizer, the window, the reported model.

    Subclasses set `_tokenizer`, `_window` and `_info`, and implement `translate`.
    """

    _tokenizer: Any
    _window: int
    _info: ModelInfo

    @property
    def info(self) -> ModelInfo:
        return self._info

    @property
    def max_input_tokens(self) -> int:
        return self._window

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        return [
            len(ids) for ids in self._tokenizer(list(texts), add_special_tokens=True, truncation=False)["input_ids"]
        ]

    def warmup(self) -> None:
        """One short translation, so the first user does not pay for lazy initialisation."""
        self.translate(["Bonjour à tous."])

    def align(
        self, sources: Sequence[str], targets: Sequence[str], *, control: CallControl = PLAIN_CALL
    ) -> list[Alignment]:
        """No attention to read: the monotonic fallback (`models.align`), too quick to need stopping."""
        from models.align import MonotonicAligner

        return MonotonicAligner().align(sources, targets)

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        raise NotImplementedError

    def _prepare(self, texts: Sequence[str]) -> tuple[list[str], list[list[int]]]:
        """Single-line texts (the model was trained on lines) and their ids.

        Over-window input is refused: the pipeline splits it into windows first.
        """
        lines = [" ".join(text.split()) for text in texts]
        ids = self._tokenizer(lines, add_special_tokens=True, truncation=False)["input_ids"] if lines else []
        too_long = [len(row) for row in ids if len(row) > self._window]
        if too_long:
            raise ValueError(
                f"input of {max(too_long)} tokens exceeds the model window of {self._window}; split it first"
            )
        return lines, ids


class DelegatingEngine:
    """An `Engine` wrapping another (same model, same tokenizer); subclasses change how `translate` gets its answers.

    Every call's `CallControl` is passed on to the wrapped engine as it came."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def info(self) -> ModelInfo:
        return self.engine.info

    @property
    def max_input_tokens(self) -> int:
        return self.engine.max_input_tokens

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.engine.count_tokens(texts)

    @property
    def traits(self) -> EngineTraits:
        return self.engine.traits

    def warmup(self) -> None:
        self.engine.warmup()

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        return self.engine.translate(texts, options, control=control)

    def align(
        self, sources: Sequence[str], targets: Sequence[str], *, control: CallControl = PLAIN_CALL
    ) -> list[Alignment]:
        return self.engine.align(sources, targets, control=control)
