"""One function per measured variant; each runs in its own process (so peak RSS is its own).

Every variant forces each sentence to generate exactly `max_new_tokens_for(source) - 1` tokens
(EOS forbidden before, forced at the bound), so output tokens per second compare like for like.
A warm-up pass on a few sentences comes first: lazy initialisation is not what we measure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workload import CACHE, Workload

WARMUP = 8


@dataclass(frozen=True, slots=True)
class Measured:
    tokens: int
    seconds: float
    units: int  # sentences (or paragraphs for the naive loop) translated
    check: str = ""  # why the token count is trustworthy, or what is off


def expected_tokens(counts: list[int], window: int = 512) -> int:
    from models.engine import max_new_tokens_for

    return sum(max_new_tokens_for(n, window) - 1 for n in counts)


def naive(checkpoint: Path, work: Workload, beams: int = 4) -> Measured:
    """What most scripts do: one paragraph at a time through `generate`, fp32."""
    import torch
    from transformers import MarianMTModel, MarianTokenizer

    from models.engine import max_new_tokens_for

    tokenizer = MarianTokenizer.from_pretrained(str(checkpoint))
    model = MarianMTModel.from_pretrained(str(checkpoint)).eval()

    def one(paragraph: str) -> int:
        encoded = tokenizer([paragraph], return_tensors="pt")
        bound = max_new_tokens_for(encoded["input_ids"].shape[1], 512)
        with torch.inference_mode():
            out = model.generate(
                **encoded, num_beams=beams, max_new_tokens=bound, min_new_tokens=bound, max_length=None
            )
        return int(out.shape[1]) - 2  # minus the decoder start token and the final EOS

    one(work.paragraphs[0])
    started = time.perf_counter()
    tokens = sum(one(p) for p in work.paragraphs)
    seconds = time.perf_counter() - started
    counts = [len(ids) for ids in tokenizer(work.paragraphs)["input_ids"]]
    want = expected_tokens(counts)
    return Measured(tokens, seconds, len(work.paragraphs), "exact" if tokens == want else f"expected {want}")


def _document(work: Workload) -> Any:
    from models.parse import parse

    return parse("\n\n".join(work.paragraphs), "text")


def pipeline(engine: Any, work: Workload, beams: int | None) -> Measured:
    """bitext's own path: parse, segment, length-sorted budgeted batches, reassemble."""
    from models.engine import GenerationOptions
    from models.pipeline import translate_document

    options = GenerationOptions(num_beams=beams, exact_length=True)
    warm = Workload(work.paragraphs[:2], work.sentences[:WARMUP])
    translate_document(_document(warm), engine, options)
    document = _document(work)
    started = time.perf_counter()
    result = translate_document(document, engine, options)
    seconds = time.perf_counter() - started
    sentences = [s.fr for block in result.blocks for s in block.sentences]
    # stats count a repeated sentence at each occurrence; the engine generated it once
    occurrences = expected_tokens(engine.count_tokens(sentences))
    generated = expected_tokens(engine.count_tokens(list(dict.fromkeys(sentences))))
    tokens = result.stats.output_tokens
    check = "exact" if tokens == occurrences else f"stats say {tokens}, expected {occurrences}"
    return Measured(generated, seconds, len(sentences), check)


def _budget(max_sentences: int | None, max_rows: int | None) -> Any:
    from models.engine import BatchBudget

    default = BatchBudget()
    return BatchBudget(default.max_tokens, max_sentences or default.max_sentences, max_rows or default.max_rows)


def bitext_transformers(
    checkpoint: Path, work: Workload, dtype: str, beams: int | None, max_rows: int | None = None
) -> Measured:
    from models.engine import EngineSpec
    from models.factory import load_engine

    budget = _budget(None, max_rows)
    engine = load_engine(EngineSpec(str(checkpoint), device="cpu", dtype=dtype, budget=budget))
    return pipeline(engine, work, beams)


def bitext_ct2(
    checkpoint: Path,
    work: Workload,
    dtype: str,
    beams: int | None,
    inter_threads: int = 1,
    max_sentences: int | None = None,
    max_rows: int | None = None,
) -> Measured:
    from models.engine import EngineSpec
    from models.factory import load_engine

    budget = _budget(max_sentences, max_rows)
    engine = load_engine(
        EngineSpec(
            str(checkpoint),
            kind="ct2",
            device="cpu",
            dtype=dtype,
            budget=budget,
            inter_threads=inter_threads,
            cache_dir=CACHE / "ct2",
        )
    )
    return pipeline(engine, work, beams)


def ct2_direct(checkpoint: Path, work: Workload, beams: int = 4, batch: int = 16, inter_threads: int = 1) -> Measured:
    """CTranslate2 used by hand: sort by length, chunks of `batch`, `translate_batch` int8."""
    import os

    import ctranslate2
    from transformers import MarianTokenizer

    from models.ct2 import converted_dir
    from models.engine import max_new_tokens_for

    path = converted_dir(str(checkpoint), "int8", CACHE / "ct2")
    tokenizer = MarianTokenizer.from_pretrained(str(path))
    translator = ctranslate2.Translator(
        str(path),
        device="cpu",
        compute_type="int8",
        inter_threads=inter_threads,
        intra_threads=max(1, (os.cpu_count() or 1) // inter_threads),
    )

    def run(sentences: list[str]) -> int:
        ids = tokenizer(sentences)["input_ids"]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        futures = []
        for start in range(0, len(order), batch):
            chunk = order[start : start + batch]
            length = max_new_tokens_for(max(len(ids[i]) for i in chunk), 512) - 1
            source = [tokenizer.convert_ids_to_tokens(ids[i]) for i in chunk]
            futures.append(
                (
                    chunk,
                    translator.translate_batch(
                        source,
                        asynchronous=True,
                        beam_size=beams,
                        max_decoding_length=length,
                        min_decoding_length=length,
                        max_input_length=0,
                    ),
                )
            )
        tokens = 0
        for chunk, results in futures:
            for i, result in zip(chunk, results, strict=True):
                hypothesis = result.result().hypotheses[0][: max_new_tokens_for(len(ids[i]), 512) - 1]
                tokenizer.decode(tokenizer.convert_tokens_to_ids(hypothesis), skip_special_tokens=True)
                tokens += len(hypothesis)
        return tokens

    run(work.sentences[:WARMUP])
    started = time.perf_counter()
    tokens = run(work.sentences)
    seconds = time.perf_counter() - started
    want = expected_tokens([len(ids) for ids in tokenizer(work.sentences)["input_ids"]])
    return Measured(tokens, seconds, len(work.sentences), "exact" if tokens == want else f"expected {want}")


def raw_latency(checkpoint: Path, paragraphs: list[str], repeats: int = 3) -> list[float]:
    """Best-of-`repeats` seconds of `MarianEngine.translate` on each paragraph's sentences (the HTTP baseline)."""
    from models.engine import EngineSpec
    from models.factory import load_engine
    from models.segment import split_sentences

    engine = load_engine(EngineSpec(str(checkpoint), device="cpu"))
    engine.warmup()
    times = []
    for paragraph in paragraphs:
        sentences = [paragraph[s.start : s.end] for s in split_sentences(paragraph)]
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            engine.translate(sentences)
            best = min(best, time.perf_counter() - started)
        times.append(best)
    return times
