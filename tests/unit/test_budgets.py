"""Per-device batch budgets: CPU values as measured on 2 cores, GPU values sized from free memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from models import budgets
from models.budgets import (
    CPU_BUDGET,
    MAX_GPU_ROWS,
    MAX_GPU_SENTENCES,
    OPUS_MT_FR_EN,
    BatchBudget,
    BudgetSettings,
    ModelShape,
    budget_for_device,
    default_budget,
    gpu_budget,
    group_size,
    row_bytes,
    source_token_bytes,
)
from models.engine import EngineTraits

GIB = 1 << 30


def test_cpu_defaults_are_unchanged() -> None:
    assert CPU_BUDGET == BatchBudget(max_tokens=4096, max_sentences=64, max_rows=64)
    for free in (None, 0, 80 * GIB):
        assert default_budget("cpu", free, beams=4) == CPU_BUDGET
    assert CPU_BUDGET.sentences_for(4) == 16


def test_a_gpu_without_a_memory_reading_gets_the_cpu_values() -> None:
    assert default_budget("cuda", None, beams=4, dtype="bfloat16") == CPU_BUDGET


def test_gpu_budget_grows_with_free_memory_and_is_monotone() -> None:
    readings = [0, GIB // 4, GIB, 2 * GIB, 4 * GIB, 8 * GIB, 16 * GIB, 40 * GIB, 80 * GIB, 139 * GIB]
    for beams in (1, 4, 8):
        for dtype in ("float32", "bfloat16"):
            seen = [gpu_budget(free, OPUS_MT_FR_EN, dtype, beams) for free in readings]
            for smaller, larger in zip(seen, seen[1:], strict=False):
                assert larger.max_tokens >= smaller.max_tokens
                assert larger.max_sentences >= smaller.max_sentences
                assert larger.max_rows >= smaller.max_rows
            assert seen[-1].max_rows > seen[1].max_rows and seen[-1].max_tokens > seen[1].max_tokens


def test_a_big_card_is_far_above_the_cpu_values_and_hits_the_caps() -> None:
    big = default_budget("cuda", 130 * GIB, beams=4, shape=OPUS_MT_FR_EN, dtype="bfloat16")
    assert big.max_rows == MAX_GPU_ROWS and big.max_sentences == MAX_GPU_SENTENCES
    assert big.sentences_for(1) == 2048 and big.sentences_for(4) == 512
    assert big.max_tokens <= big.max_sentences * OPUS_MT_FR_EN.window
    assert big.max_tokens > 50 * CPU_BUDGET.max_tokens  # about 240k padded source tokens
    assert default_budget("cuda", 10_000 * GIB, beams=8, dtype="bfloat16").max_rows == 512 * 8


def test_caps_and_floors_hold_at_the_extremes() -> None:
    for free in (0, 1, 10**6, 10**15):
        for beams in (1, 2, 4, 8):
            budget = gpu_budget(free, OPUS_MT_FR_EN, "float16", beams)
            assert beams <= budget.max_rows <= max(MAX_GPU_ROWS, 512 * beams)
            assert 1 <= budget.max_sentences <= MAX_GPU_SENTENCES
            assert OPUS_MT_FR_EN.window <= budget.max_tokens <= max(1, budget.max_sentences) * OPUS_MT_FR_EN.window
            assert budget.sentences_for(beams) >= 1


def test_the_planned_memory_fits_in_the_safe_share() -> None:
    """Both limits reached at once still fit in SAFETY × free (the estimate's own accounting)."""
    for free in (2 * GIB, 16 * GIB, 80 * GIB):
        for dtype in ("float32", "bfloat16"):
            budget = gpu_budget(free, OPUS_MT_FR_EN, dtype, beams=4)
            used = budget.max_rows * row_bytes(OPUS_MT_FR_EN, dtype) + budget.max_tokens * source_token_bytes(
                OPUS_MT_FR_EN, dtype, 4
            )
            assert used <= budgets.SAFETY * free


def test_half_precision_fits_more_than_fp32_and_beams_cost_tokens() -> None:
    free = 4 * GIB
    assert gpu_budget(free, dtype="bfloat16").max_rows > gpu_budget(free, dtype="float32").max_rows
    greedy, beam4 = gpu_budget(free, dtype="bfloat16", beams=1), gpu_budget(free, dtype="bfloat16", beams=4)
    assert greedy.max_tokens > beam4.max_tokens


def test_a_bigger_model_gets_a_smaller_budget() -> None:
    big = ModelShape(d_model=1024, decoder_layers=12, heads=16, ffn=4096, vocab_size=128_000, window=512)
    assert gpu_budget(4 * GIB, big, "float16", 4).max_rows < gpu_budget(4 * GIB, OPUS_MT_FR_EN, "float16", 4).max_rows


def test_shape_from_a_marian_config() -> None:
    from transformers import MarianConfig

    config = MarianConfig(
        vocab_size=1000,
        d_model=64,
        decoder_layers=2,
        decoder_attention_heads=4,
        decoder_ffn_dim=128,
        max_position_embeddings=512,
        pad_token_id=999,
        decoder_start_token_id=999,
    )
    assert ModelShape.from_config(config) == ModelShape(d_model=64, decoder_layers=2, heads=4, ffn=128, vocab_size=1000)
    assert ModelShape.from_config(object()) == OPUS_MT_FR_EN


def test_explicit_settings_win() -> None:
    device_default = gpu_budget(80 * GIB, beams=4)
    explicit = BudgetSettings(max_rows=256).resolve(device_default)
    assert explicit == BatchBudget(device_default.max_tokens, device_default.max_sentences, 256)
    assert BudgetSettings().resolve(device_default) == device_default
    assert BudgetSettings(100, 2, 3).resolve(device_default) == BatchBudget(100, 2, 3)


def test_settings_auto_zero_and_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    from service.settings import Settings

    assert Settings().budget == BudgetSettings()
    monkeypatch.setenv("BITEXT_BATCH_MAX_ROWS", "auto")
    monkeypatch.setenv("BITEXT_BATCH_MAX_SENTENCES", "0")
    monkeypatch.setenv("BITEXT_BATCH_MAX_TOKENS", "8192")
    assert Settings().budget == BudgetSettings(max_tokens=8192)
    assert Settings(batch_max_rows=32).budget.max_rows == 32
    assert Settings(batch_group_sentences="auto").batch_group_sentences is None


def test_budget_for_device_reads_free_memory_only_when_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    readings: list[int] = []

    def fake_reading(device_index: int | None = None) -> int:
        readings.append(1)
        return 24 * GIB

    monkeypatch.setattr(budgets, "free_cuda_memory", fake_reading)
    fixed = BatchBudget(10, 2, 3)
    assert budget_for_device(fixed, "cuda", 4, OPUS_MT_FR_EN, "float16") == fixed and readings == []
    assert budget_for_device(BudgetSettings(), "cpu", 4, OPUS_MT_FR_EN, "float32") == CPU_BUDGET and readings == []
    on_gpu = budget_for_device(BudgetSettings(max_sentences=100), "cuda", 4, OPUS_MT_FR_EN, "float16")
    assert readings == [1]
    assert on_gpu == BatchBudget(gpu_budget(24 * GIB, beams=4).max_tokens, 100, gpu_budget(24 * GIB, beams=4).max_rows)


def test_group_size_follows_the_engine_budget() -> None:
    assert group_size(None, None) == 256
    assert group_size(None, CPU_BUDGET) == 256  # as before on a CPU
    assert group_size(None, gpu_budget(80 * GIB, beams=4)) == MAX_GPU_SENTENCES
    assert group_size(64, gpu_budget(80 * GIB, beams=4)) == 64


def test_scheduler_uses_the_engine_budget() -> None:
    from service.app import start_scheduler
    from service.metrics import Metrics
    from service.settings import Settings
    from tests.support.fakes import FakeEngine

    gpu_budget = BatchBudget(100_000, 1000, 2000)

    class GpuFake(FakeEngine):
        @property
        def traits(self) -> EngineTraits:
            return EngineTraits(window=self.window, budget=gpu_budget)

    scheduler = start_scheduler(Settings(cache_entries=10), GpuFake(), Metrics())
    try:
        assert scheduler.budget == gpu_budget  # through the cache wrapper
    finally:
        scheduler.close()
    scheduler = start_scheduler(Settings(cache_entries=0, batch_max_sentences=7), GpuFake(), Metrics())
    try:
        assert scheduler.budget == BatchBudget(100_000, 7, 2000)
    finally:
        scheduler.close()
    scheduler = start_scheduler(Settings(cache_entries=0), FakeEngine(), Metrics())
    try:
        assert scheduler.budget == CPU_BUDGET
    finally:
        scheduler.close()


@pytest.mark.integration
def test_engine_exposes_its_device_budget(tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from models.engine import EngineSpec
    from models.factory import load_engine

    assert load_engine(EngineSpec(str(tiny_checkpoint), device="cpu")).traits.budget == CPU_BUDGET
    engine = load_engine(EngineSpec(str(tiny_checkpoint), device="cpu", budget=BudgetSettings(max_rows=8)))
    assert engine.traits.budget == BatchBudget(4096, 64, 8)
    # what a GPU load would choose, with a fake reading: the tiny model's own dims size it
    monkeypatch.setattr(budgets, "free_cuda_memory", lambda device_index=None: 8 * GIB)
    shape = ModelShape.from_config(engine._model.config)
    chosen = budget_for_device(BudgetSettings(), "cuda", 4, shape, "bfloat16")
    assert chosen == gpu_budget(8 * GIB, shape, "bfloat16", 4)
