"""An optional `Engine` on CTranslate2 (extra `[ct2]`): the same Marian checkpoint, converted once.

CTranslate2 runs Marian with int8 weights and fused kernels, and can run several batches in
parallel (`inter_threads`). The Hugging Face checkpoint is converted on first use into a cache
directory keyed by the checkpoint, the quantization and the CTranslate2 version; later starts load
the converted copy. Tokenization, batching, output bounds and the result type are bitext's own, so
the JSON a client sees has the same shape as with the transformers engine.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from models.batching import plan_batches
from models.beams import distinct_others, returned_sequences
from models.budgets import ModelShape, budget_for_device
from models.document import ModelInfo, Translation
from models.engine import (
    PLAIN_CALL,
    CallControl,
    EngineSpec,
    EngineTraits,
    GenerationOptions,
    MarianTokenizing,
    all_translated,
    max_new_tokens_for,
)
from models.loading import ModelLoadError, _ways_out, public_name

log = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "bitext" / "ct2"

# What each device may run; the first is the default. int8 on CPU is CTranslate2's fast path;
# fp16 on GPU keeps the model's numerics closest while using tensor cores.
COMPUTE_TYPES = {
    "cpu": ("int8", "int8_float32", "float32"),
    "cuda": ("float16", "int8_float16", "bfloat16", "int8_bfloat16", "float32", "int8"),
}
_DTYPE_ALIASES = {"auto": None, "float32": "float32", "float16": "float16", "bfloat16": "bfloat16", "int8": "int8"}


def _require_ctranslate2() -> Any:
    try:
        import ctranslate2
    except ImportError as error:
        raise ModelLoadError(
            "the ct2 engine needs CTranslate2: pip install 'bitext[ct2]' (or pip install ctranslate2)"
        ) from error
    return ctranslate2


def resolve_compute_type(dtype: str, device: str) -> str:
    """bitext's dtype names (auto, float32, int8, …) or CTranslate2's own, checked per device."""
    allowed = COMPUTE_TYPES[device]
    if dtype in _DTYPE_ALIASES:
        chosen = _DTYPE_ALIASES[dtype] or allowed[0]
    else:
        chosen = dtype
    if chosen not in allowed:
        raise ModelLoadError(
            f"the ct2 engine does not offer {dtype!r} on {device}: choose one of {', '.join(allowed)} or auto"
        )
    return chosen


def _resolve_device(device: str, ctranslate2: Any) -> str:
    has_cuda = ctranslate2.get_cuda_device_count() > 0
    if device == "auto":
        return "cuda" if has_cuda else "cpu"
    if device == "cuda" and not has_cuda:
        raise ModelLoadError("device 'cuda' was asked for but CTranslate2 sees no CUDA GPU; use --device cpu or auto")
    if device not in ("cpu", "cuda"):
        raise ModelLoadError(f"unknown device {device!r}: choose auto, cpu or cuda")
    return device


def _checkpoint_dir(model: str) -> Path:
    """A local directory holding the Hugging Face checkpoint (fetched through the hub cache if needed)."""
    from models.loading import download_model

    local = Path(model).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise ModelLoadError(f"{model!r} is not a model directory: it has no config.json. {_ways_out(model)}")
        return local
    return download_model(model, downloading=False)


def _fingerprint(checkpoint: Path) -> str:
    """Changes when the weights or config change, so a rebuilt checkpoint is reconverted."""
    digest = hashlib.sha256()
    for name in sorted(os.listdir(checkpoint)):
        path = checkpoint / name
        if path.is_file():
            stat = path.stat()
            digest.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:12]


def converted_dir(model: str, compute_type: str, cache_dir: Path = DEFAULT_CACHE) -> Path:
    """The CTranslate2 copy of `model` for `compute_type`, converting it on first use."""
    ctranslate2 = _require_ctranslate2()
    checkpoint = _checkpoint_dir(model)
    slug = _UNSAFE.sub("_", model.strip("/"))[-60:]
    target = cache_dir / f"{slug}-{compute_type}-ct2_{ctranslate2.__version__}-{_fingerprint(checkpoint)}"
    if (target / "model.bin").is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    log.info("converting %s to CTranslate2 (%s) into %s", model, compute_type, target)
    started = time.perf_counter()
    staging = Path(tempfile.mkdtemp(prefix=".converting-", dir=cache_dir))
    try:
        converter = ctranslate2.converters.TransformersConverter(str(checkpoint))
        converter.convert(str(staging / "model"), quantization=compute_type, force=True)
        for name in ("source.spm", "target.spm", "vocab.json", "tokenizer_config.json", "generation_config.json"):
            if (checkpoint / name).is_file():
                shutil.copy2(checkpoint / name, staging / "model" / name)
        try:
            os.replace(staging / "model", target)  # atomic: a half-written copy is never loaded
        except OSError:
            if not (target / "model.bin").is_file():  # another process finished first: use theirs
                raise
    except ModelLoadError:
        raise
    except Exception as error:
        raise ModelLoadError(f"cannot convert {model!r} to CTranslate2: {error}") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("converted in %.1f s", time.perf_counter() - started)
    return target


def _default_beams(checkpoint: Path) -> int:
    try:
        from transformers import GenerationConfig

        return int(GenerationConfig.from_pretrained(str(checkpoint)).num_beams or 1)
    except (OSError, ValueError):
        return 1


def _shape(model: str) -> ModelShape:
    """The checkpoint's dimensions, for sizing GPU batches; the opus-mt-fr-en shape if unreadable."""
    try:
        from transformers import AutoConfig

        return ModelShape.from_config(AutoConfig.from_pretrained(str(_checkpoint_dir(model))))
    except (OSError, ValueError, ModelLoadError):
        return ModelShape()


class CT2Engine(MarianTokenizing):
    """MarianMT through CTranslate2: bitext's batching and bounds around `translate_batch`."""

    def __init__(self, spec: EngineSpec) -> None:
        ctranslate2 = _require_ctranslate2()
        from transformers import MarianTokenizer

        started = time.perf_counter()
        model, inter_threads = spec.model, spec.inter_threads
        self._device = _resolve_device(spec.device, ctranslate2)
        self._compute_type = resolve_compute_type(spec.dtype, self._device)
        path = converted_dir(model, self._compute_type, spec.cache_dir or DEFAULT_CACHE)
        self.model_dir = path
        try:
            self._tokenizer = MarianTokenizer.from_pretrained(str(path))
        except (OSError, ValueError, TypeError) as error:
            raise ModelLoadError(f"model {model!r} has no usable Marian tokenizer: {error}") from error
        intra = spec.threads or max(1, (os.cpu_count() or 1) // inter_threads)
        self._translator = ctranslate2.Translator(
            str(path),
            device=self._device,
            compute_type=self._compute_type,
            inter_threads=inter_threads,
            intra_threads=intra,
        )
        beams = _default_beams(path)
        shape = _shape(model) if self._device == "cuda" else ModelShape()  # only GPU budgets depend on it
        self._budget = budget_for_device(spec.budget, self._device, beams, shape, self._compute_type)
        self._window = int(self._tokenizer.model_max_length) if self._tokenizer.model_max_length < 100_000 else 512
        self._special = set(self._tokenizer.all_special_ids)
        self._info = ModelInfo(
            name=public_name(model), engine="ctranslate2", device=self._device, dtype=self._compute_type
        )
        self._lock = threading.Lock()
        # CTranslate2 batches and threads on its own: one lane; no attention to align with, no step to stop at
        self._traits = EngineTraits(
            window=self._window, budget=self._budget, default_beams=beams, load_seconds=time.perf_counter() - started
        )

    @property
    def traits(self) -> EngineTraits:
        return self._traits

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        """Translate each text, in input order; one sentence's output never depends on its batch.

        CTranslate2 runs the whole call at once, with no step to stop at: `control.stop` is looked at
        once, before it starts; its threads are fixed at load, so `control.alone` changes nothing."""
        control.raise_if_stopped()
        texts, ids = self._prepare(texts)
        tokens = [self._tokenizer.convert_ids_to_tokens(row) for row in ids]
        # Each row's bound counts the final EOS, as in the transformers engine: bound - 1 real tokens.
        limits = [max_new_tokens_for(len(row), self._window) - 1 for row in ids]
        beams = options.num_beams or self._traits.default_beams
        batches = plan_batches([len(row) for row in ids], self._budget.max_tokens, self._budget.sentences_for(beams))
        results: list[Translation | None] = [None] * len(texts)
        with self._lock:  # submit every batch at once: with inter_threads > 1 they run in parallel
            pending = [
                (batch, self._submit([tokens[i] for i in batch], [limits[i] for i in batch], beams, options))
                for batch in batches
            ]
            for batch, futures in pending:
                for index, future in zip(batch, futures, strict=True):
                    results[index] = self._result(future.result(), limits[index], len(ids[index]), options)
        return all_translated(results)

    def _result(self, result: Any, limit: int, source_tokens: int, options: GenerationOptions) -> Translation:
        """The best hypothesis, with the others as alternatives and its score when asked for."""
        texts = [self._text(hypothesis[:limit]) for hypothesis in result.hypotheses]
        chosen = self._translation(result.hypotheses[0][:limit], source_tokens)
        score = float(result.scores[0]) if options.scores and result.scores else None
        return replace(chosen, alternatives=distinct_others(texts[0], texts[1:], options.alternatives), score=score)

    def _submit(self, source: list[list[str]], limits: list[int], beams: int, options: GenerationOptions) -> list[Any]:
        longest = max(limits)
        return self._translator.translate_batch(
            source,
            asynchronous=True,
            beam_size=beams,
            no_repeat_ngram_size=options.no_repeat_ngram_size or 0,
            max_decoding_length=longest,
            min_decoding_length=longest if options.exact_length else 1,
            max_input_length=0,  # bitext already split anything over the window
            num_hypotheses=returned_sequences(options.alternatives, beams),
            return_scores=options.scores,  # length-normalised (length_penalty 1), like transformers' beam scores
        )

    def _text(self, hypothesis: list[str]) -> str:
        ids = self._tokenizer.convert_tokens_to_ids(hypothesis)
        return str(self._tokenizer.decode(ids, skip_special_tokens=True)).strip()

    def _translation(self, hypothesis: list[str], source_tokens: int) -> Translation:
        output_ids = self._tokenizer.convert_tokens_to_ids(hypothesis)
        text = self._text(hypothesis)
        return Translation(
            text=text, source_tokens=source_tokens, output_tokens=sum(1 for t in output_ids if t not in self._special)
        )
