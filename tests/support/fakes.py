"""A deterministic stand-in for the translation model: fast, torch-free, easy to assert on."""

from __future__ import annotations

from collections.abc import Sequence

from models.document import ModelInfo, Translation
from models.engine import GenerationOptions


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

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(text.split()) + 1 for text in texts]

    def translate(self, texts: Sequence[str], options: GenerationOptions = GenerationOptions()) -> list[Translation]:
        self.calls.append(list(texts))
        for n in self.count_tokens(texts):
            assert n <= self.window, "the pipeline sent a sentence longer than the window"
        return [Translation(f"EN<{text}>", n, n + 1) for text, n in zip(texts, self.count_tokens(texts), strict=True)]
