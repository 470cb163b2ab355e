"""Batch budgets in decoder rows: beams multiply the rows a `generate` call decodes."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.engine import BatchBudget, GenerationOptions


def test_sentences_per_call_shrink_with_beams() -> None:
    budget = BatchBudget(max_tokens=4096, max_sentences=64, max_rows=64)
    assert [budget.sentences_for(b) for b in (1, 2, 4, 8)] == [64, 32, 16, 8]
    assert BatchBudget(max_sentences=10, max_rows=64).sentences_for(1) == 10
    assert BatchBudget(max_rows=3).sentences_for(4) == 1  # never zero: a sentence always fits


@pytest.mark.integration
def test_marian_engine_cuts_calls_by_rows(tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from models.engine import EngineSpec
    from models.factory import load_engine

    engine = load_engine(
        EngineSpec(str(tiny_checkpoint), device="cpu", budget=BatchBudget(max_sentences=64, max_rows=8))
    )
    sizes: list[int] = []
    generate = engine._generate
    monkeypatch.setattr(
        engine,
        "_generate",
        lambda texts, options, control: sizes.append(len(texts)) or generate(texts, options, control),
    )
    texts = [f"Phrase numéro {i} du budget." for i in range(9)]
    out = engine.translate(texts, GenerationOptions(num_beams=4))
    assert len(out) == 9 and sizes == [2, 2, 2, 2, 1]
    sizes.clear()
    engine.translate(texts, GenerationOptions(num_beams=1))
    assert sizes == [8, 1]
