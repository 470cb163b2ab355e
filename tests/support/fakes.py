"""A deterministic stand-in for the translation model: fast, torch-free, easy to assert on."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from models.align import MonotonicAligner
from models.document import ModelInfo, Translation
from models.engine import PLAIN_CALL, CallControl, EngineTraits, GenerationOptions
from models.markup import Alignment


class FakeEngine:
    """Translates `x` to `EN<x>`; counts one token per word plus `</s>`; records every call."""

    def __init__(self, window: int = 512) -> None:
        self.window = window
        self.calls: list[list[str]] = []

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(name="fake", engine="fake", device="cpu", dtype="float32")

    @property
    def max_input_tokens(self) -> int:
        return self.window

    @property
    def traits(self) -> EngineTraits:
        return EngineTraits(window=self.window)

    def warmup(self) -> None:
        pass

    def align(
        self, sources: Sequence[str], targets: Sequence[str], *, control: CallControl = PLAIN_CALL
    ) -> list[Alignment]:
        return MonotonicAligner().align(sources, targets)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(text.split()) + 1 for text in texts]

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        self.calls.append(list(texts))
        for n in self.count_tokens(texts):
            assert n <= self.window, "the pipeline sent a sentence longer than the window"
        # As a beam would: up to beams - 1 others (`EN2<x>`, `EN3<x>`, …) and a score, only when asked.
        others = min(options.alternatives, (options.num_beams or 4) - 1)
        return [
            Translation(
                f"EN<{text}>",
                n,
                n + 1,
                alternatives=tuple(f"EN{k}<{text}>" for k in range(2, others + 2)),
                score=-0.25 if options.scores else None,
            )
            for text, n in zip(texts, self.count_tokens(texts), strict=True)
        ]


class GatedEngine(FakeEngine):
    """The fake engine, holding its calls until the test sets `release`: work stays queued or in flight.

    `entered` is set as a call arrives. Every call waits, or with `first_only` only the first (work then
    piles up behind it and later calls go through). `guard` seconds bound the wait: reached only when the
    test never lets go, which fails the call instead of hanging the suite.
    """

    def __init__(self, *, first_only: bool = False, guard: float = 60) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()
        self.first_only, self.guard = first_only, guard

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        first = not self.entered.is_set()
        self.entered.set()
        if first or not self.first_only:
            assert self.release.wait(self.guard), "the test never let the engine go"
        return super().translate(texts, options, control=control)
