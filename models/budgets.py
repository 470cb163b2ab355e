"""Batch budgets per device: how much goes into one `generate` call on a CPU, and on a GPU.

The CPU values were measured on 2 cores, where a decoding step's cost grows with every row and
the vocabulary-wide logits of more than ~64 rows fall out of cache. On a GPU a step costs nearly
the same for 14 rows or 2,000, so the same numbers would leave the card mostly idle; there the
limit is memory, so the GPU budget is sized from the free memory after the model is loaded and an
estimate of what one decoder row and one source token hold during `generate` (see `row_bytes`
and `source_token_bytes`). Explicit settings always win over either default.

Pure module: no torch at import time, so the settings layer and the tests can use it cheaply;
the one reading of free CUDA memory sits behind `free_cuda_memory`, which tests replace.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

SAFETY = 0.5
"""Share of the free GPU memory a budget may plan to use. The estimate leaves out the caching
allocator's fragmentation, the DynamicCache's concatenation copies and CUDA workspaces; halving
covers them, and an OOM past it is still caught by the engine's halve-and-retry."""

ROW_SHARE = 0.5
"""Of the planned memory, the part for per-row costs (logits); the rest is for per-token costs (KV)."""

MAX_GPU_SENTENCES = 2048
MAX_GPU_ROWS = 2048
"""Greedy throughput stopped growing near 2,048 rows in earlier H200 leads; past it a batch only adds latency."""

MAX_GPU_BEAM_SENTENCES = 512
"""With beams, rows may reach this many sentences × beams (beam 8: 4,096 rows)."""

LOGIT_COPIES_FP32 = 3
"""fp32 copies of one row's logits `generate` keeps at a step: the cast, the processed scores, log-softmax."""


@dataclass(frozen=True, slots=True)
class BatchBudget:
    """How much goes into one `generate` call, in padded source tokens, sentences and decoder rows.

    `max_rows` bounds sentences × beams: every decoding step scores each row against the whole
    59k-word vocabulary, and past ~64 rows those logits stop fitting in cache; on 2 CPU cores
    CTranslate2 at beam 4 ran 2.9× faster in batches of 16 sentences than of 64 (bench/).
    """

    max_tokens: int = 4096
    max_sentences: int = 64
    max_rows: int = 64

    def sentences_for(self, beams: int) -> int:
        """Sentences per call at this beam size."""
        return max(1, min(self.max_sentences, self.max_rows // max(1, beams)))


CPU_BUDGET = BatchBudget()


@dataclass(frozen=True, slots=True)
class BudgetSettings:
    """Limits asked for explicitly; `None` in a field means the per-device default for it."""

    max_tokens: int | None = None
    max_sentences: int | None = None
    max_rows: int | None = None

    def resolve(self, default: BatchBudget) -> BatchBudget:
        """`default` with every explicitly set field replaced: explicit settings win."""
        return BatchBudget(
            self.max_tokens or default.max_tokens,
            self.max_sentences or default.max_sentences,
            self.max_rows or default.max_rows,
        )


@dataclass(frozen=True, slots=True)
class ModelShape:
    """The dimensions that decide a Marian model's memory per decoder row and per source token."""

    d_model: int = 512
    decoder_layers: int = 6
    heads: int = 8
    ffn: int = 2048
    vocab_size: int = 59514
    window: int = 512

    @classmethod
    def from_config(cls, config: Any) -> ModelShape:
        """From a transformers `MarianConfig` (or anything with its attribute names); defaults fill gaps."""
        default = cls()

        def read(name: str, fallback: int) -> int:
            value = getattr(config, name, None)
            return int(value) if isinstance(value, int) and value > 0 else fallback

        return cls(
            d_model=read("d_model", default.d_model),
            decoder_layers=read("decoder_layers", default.decoder_layers),
            heads=read("decoder_attention_heads", default.heads),
            ffn=read("decoder_ffn_dim", default.ffn),
            vocab_size=read("vocab_size", default.vocab_size),
            window=read("max_position_embeddings", default.window),
        )


OPUS_MT_FR_EN = ModelShape()


def dtype_bytes(dtype: str) -> int:
    """Bytes per activation: 2 for float16/bfloat16 (CTranslate2's int8_float16 too), else 4."""
    return 2 if "16" in dtype else 4


def kv_bytes_per_token(shape: ModelShape, dtype: str) -> int:
    """One key and one value vector per decoder layer, for one token of one row."""
    return 2 * shape.decoder_layers * shape.d_model * dtype_bytes(dtype)


def row_bytes(shape: ModelShape, dtype: str) -> int:
    """What one decoder row holds whatever its length: the logits over the whole vocabulary (in the
    model's dtype, then `LOGIT_COPIES_FP32` fp32 copies), and the self-attention cache of the 10
    output tokens `max_new_tokens_for` adds to every bound."""
    logits = shape.vocab_size * (dtype_bytes(dtype) + 4 * LOGIT_COPIES_FP32)
    return logits + 10 * kv_bytes_per_token(shape, dtype)


def source_token_bytes(shape: ModelShape, dtype: str, beams: int) -> int:
    """What one padded source token costs during `generate`.

    Per beam: its cross-attention key/value in every decoder layer, the self-attention cache of
    the 1.5 output tokens it allows (`max_new_tokens_for`), and its encoder output copied per beam.
    Once: the encoder's transient activations (hidden states, the feed-forward layer, one row of
    attention scores per head, at most the window long).
    """
    width = dtype_bytes(dtype)
    kv = kv_bytes_per_token(shape, dtype)
    per_beam = kv + math.ceil(1.5 * kv) + shape.d_model * width
    encoder = (4 * shape.d_model + shape.ffn + shape.heads * shape.window) * width
    return max(1, beams) * per_beam + encoder


def gpu_budget(
    free_memory_bytes: int, shape: ModelShape = OPUS_MT_FR_EN, dtype: str = "float16", beams: int = 1
) -> BatchBudget:
    """The budget `free_memory_bytes` allows: monotone in memory, capped where throughput stops growing.

    Half the planned memory (`SAFETY` × free) goes to per-row costs, half to per-token costs, so
    a call at both limits at once still fits. Tokens are sized for `beams` (the model's default
    beam count): a request with more beams may need more, and then the engine's halve-and-retry
    on out-of-memory splits its batch.
    """
    beams = max(1, beams)
    planned = max(0, free_memory_bytes) * SAFETY
    row_cap = max(MAX_GPU_ROWS, MAX_GPU_BEAM_SENTENCES * beams)
    rows = min(row_cap, max(beams, int(planned * ROW_SHARE // row_bytes(shape, dtype))))
    sentences = min(MAX_GPU_SENTENCES, rows)
    token_cap = max(shape.window, sentences * shape.window)
    tokens = int(planned * (1 - ROW_SHARE) // source_token_bytes(shape, dtype, beams))
    return BatchBudget(max_tokens=min(token_cap, max(shape.window, tokens)), max_sentences=sentences, max_rows=rows)


def default_budget(
    device: str,
    free_memory_bytes: int | None,
    beams: int = 1,
    shape: ModelShape = OPUS_MT_FR_EN,
    dtype: str = "float32",
) -> BatchBudget:
    """The per-device default: today's CPU values on a CPU, `gpu_budget` on a GPU.

    A GPU whose free memory could not be read gets the CPU values: small, but never an OOM loop.
    """
    if device != "cuda":
        return CPU_BUDGET
    if free_memory_bytes is None:
        log.warning("free GPU memory unknown: using the CPU batch budget %s", CPU_BUDGET)
        return CPU_BUDGET
    return gpu_budget(free_memory_bytes, shape, dtype, beams)


def free_cuda_memory(device_index: int | None = None) -> int | None:
    """Free bytes on the current (or given) CUDA device, or None when there is none to read."""
    try:
        import torch

        if not torch.cuda.is_available():
            return None
        free, _total = torch.cuda.mem_get_info(device_index)
        return int(free)
    except Exception as error:  # noqa: BLE001 - a failed reading falls back to the CPU budget
        log.warning("could not read free CUDA memory: %s", error)
        return None


def budget_for_device(
    requested: BatchBudget | BudgetSettings,
    device: str,
    beams: int,
    shape: ModelShape,
    dtype: str,
) -> BatchBudget:
    """What an engine uses after loading: a full `BatchBudget` as given, else the per-device default
    (read now, so it sees the memory the weights already took) with the explicit fields on top."""
    if isinstance(requested, BatchBudget):
        return requested
    free = free_cuda_memory() if device == "cuda" else None
    budget = requested.resolve(default_budget(device, free, beams, shape, dtype))
    log.info("batch budget on %s (%s, beam %d): %s", device, dtype, beams, budget)
    return budget


MIN_GROUP_SENTENCES = 256


def group_size(explicit: int | None, budget: BatchBudget | None) -> int:
    """Sentences a batch job hands the engine at once: the explicit setting, else enough to fill
    the engine's largest call (256 on a CPU, as before; up to 2,048 on a GPU)."""
    if explicit:
        return explicit
    return max(MIN_GROUP_SENTENCES, budget.max_sentences if budget else 0)
