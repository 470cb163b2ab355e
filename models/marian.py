"""MarianMT through transformers: loading a checkpoint onto a device, generating, aligning.

The engine `load_engine` builds by default (`models.factory`). It batches length-sorted under its
budget, bounds each row's output, runs one call per lane side by side (`models.lanes`), and polls
the stop check its call's `CallControl` carries between batches and once per decoding step.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from models.batching import plan_batches, run_halving
from models.beams import distinct_others, greedy_scores, returned_sequences
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
from models.interrupt import Check, Interrupted
from models.lanes import Lanes, default_lanes, threads_per_lane, total_threads
from models.loading import ModelLoadError, load_marian, public_name
from models.markup import Alignment

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)


class RowLengthLimit:
    """A logits processor giving each row of a batch its own output bound.

    `max_new_tokens` is one number per `generate` call; without this, a short sentence batched
    with a long one could loop on until the long one's bound. With `exact`, EOS is also
    forbidden before the bound, so benchmarks generate a fixed number of tokens per row.
    """

    def __init__(self, bounds: list[int], eos_token_id: int, exact: bool = False) -> None:
        self.bounds = bounds
        self.eos = eos_token_id
        self.exact = exact

    def __call__(self, input_ids: torch.LongTensor, scores: torch.Tensor) -> torch.Tensor:
        import torch

        generated = input_ids.shape[1] - 1  # the decoder start token is not output
        per_row = scores.shape[0] // len(self.bounds)  # beams of one sentence are adjacent rows
        bounds = torch.tensor(self.bounds, device=scores.device).repeat_interleave(per_row)
        done = bounds - 1 <= generated  # the bound counts the final EOS, as max_new_tokens does
        if done.any():
            eos_only = torch.full_like(scores[0], float("-inf"))
            eos_only[self.eos] = 0
            scores = torch.where(done[:, None], eos_only, scores)
        if self.exact:
            scores[~done, self.eos] = float("-inf")
        return scores


def _resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError("device 'cuda' was asked for but torch sees no CUDA GPU; use --device cpu or auto")
    if device not in ("cpu", "cuda"):
        raise ModelLoadError(f"unknown device {device!r}: choose auto, cpu or cuda")
    return device


def _resolve_dtype(dtype: str, device: str) -> str:
    """`auto`: fp32 on CPU (the exact published numerics); bf16 on GPUs that have it, else fp16.

    bf16 keeps fp32's exponent range, so activations of models trained in fp32 cannot overflow
    as they can in fp16; on Hopper/Ampere it is as fast as fp16.
    """
    import torch

    if dtype == "auto":
        if device == "cuda":
            return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
        return "float32"
    allowed = {"cpu": ("float32", "bfloat16", "int8"), "cuda": ("float32", "float16", "bfloat16")}[device]
    if dtype not in allowed:
        raise ModelLoadError(f"dtype {dtype!r} is not offered on {device}: choose one of {', '.join(allowed)} or auto")
    return dtype


def _none_done(input_ids: torch.LongTensor) -> torch.BoolTensor:
    """A stopping criterion's answer that stops no row: `generate` goes on by its own rules."""
    import torch

    return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)  # type: ignore[return-value]


class WidenWhenAlone:
    """A stopping criterion that never stops: at each decoding step, the call takes every lane's threads
    while it is the only call on the model, and its own lane's share again once another starts.

    Two calls side by side rarely end together; the one left running used to finish on its lane's
    one thread while the other core idled (`bench/lanes.py --uneven` measures the difference). The
    thread count is torch's, per calling thread, read by each operation as it starts: the change
    takes effect at the next step, and a call starting on the other lane overlaps at most one step
    of the wide one. The next call on this thread sets its own count as it starts."""

    def __init__(self, lanes: Lanes, lane_threads: int, all_threads: int) -> None:
        self.lanes, self.lane_threads, self.all_threads = lanes, lane_threads, all_threads
        self.threads = lane_threads

    def __call__(self, input_ids: torch.LongTensor, scores: object, **kwargs: object) -> torch.BoolTensor:
        import torch

        wanted = self.all_threads if self.lanes.busy <= 1 else self.lane_threads
        if wanted != self.threads:
            torch.set_num_threads(wanted)
            self.threads = wanted
        return _none_done(input_ids)


class StopWhenGone:
    """A stopping criterion that aborts `generate` (raises `Interrupted`) once its check says so.

    Raising rather than marking rows finished: beam search would still finish its beams, and a
    partial translation must never be delivered or cached."""

    def __init__(self, check: Check) -> None:
        self.check = check

    def __call__(self, input_ids: torch.LongTensor, scores: object, **kwargs: object) -> torch.BoolTensor:
        if self.check():
            raise Interrupted("every request of this engine call is gone")
        return _none_done(input_ids)


class MarianEngine(MarianTokenizing):
    """MarianMT through transformers: batched, length-sorted, bounded, thread-safe."""

    widen_when_alone = True  # a lane's call takes the idle lanes' threads (`WidenWhenAlone`); benches turn it off

    def __init__(self, spec: EngineSpec) -> None:
        import torch

        if spec.lanes < 0:
            raise ValueError("lanes must be at least 1 (or 0: auto)")
        model = spec.model
        self._device = _resolve_device(spec.device)
        lanes = spec.lanes or default_lanes(self._device, spec.threads)
        # torch's thread count is per calling thread once set there: each lane's call sets its share,
        # or every thread when it runs alone (`CallControl.alone`).
        self._lane_threads = threads_per_lane(lanes, spec.threads)
        self._all_threads = total_threads(spec.threads)
        if lanes > 1:
            torch.set_num_threads(self._lane_threads)
        elif spec.threads:
            torch.set_num_threads(spec.threads)
        self._dtype = _resolve_dtype(spec.dtype, self._device)
        started = time.perf_counter()
        self._tokenizer, self._model = load_marian(model)
        self._prepare_model()
        load_seconds = time.perf_counter() - started
        self._info = ModelInfo(name=public_name(model), engine="transformers", device=self._device, dtype=self._dtype)
        self._window = int(getattr(self._model.config, "max_position_embeddings", 512))
        beams = self._model.generation_config.num_beams or 1
        shape = ModelShape.from_config(self._model.config)
        self._budget = budget_for_device(spec.budget, self._device, beams, shape, self._dtype)
        self._lanes = Lanes(lanes)  # one generate per lane; the alignment pass runs alone
        self._traits = EngineTraits(
            window=self._window,
            budget=self._budget,  # the one given, or the per-device default chosen at load
            lanes=self._lanes.count,  # how many `translate` calls may run at once: one scheduler worker each
            default_beams=int(self._model.generation_config.num_beams or 1),  # the model's generation config
            can_align=True,
            can_interrupt=True,
            load_seconds=load_seconds,
        )

    @property
    def traits(self) -> EngineTraits:
        return self._traits

    def _prepare_model(self) -> None:
        import torch

        model = self._model.eval()
        if self._dtype == "int8":
            with warnings.catch_warnings():  # deprecated in favour of torchao, still shipped and working
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.filterwarnings("ignore", "torch.quantize_per_tensor", UserWarning)
                model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        elif self._dtype != "float32":
            model = model.to(getattr(torch, self._dtype))
        self._model = model.to(self._device)
        # We always pass max_new_tokens (bounded by the input); the config's max_length only warns.
        self._model.generation_config.max_length = None

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        """Translate each text; the result is in input order whatever the batching did.

        `control.stop` is polled before each batch and at each decoding step (`Interrupted`, nothing
        returned); with `control.alone` the call uses every lane's threads."""
        texts, ids = self._prepare(texts)
        lengths = [len(row) for row in ids]
        results: list[Translation | None] = [None] * len(texts)
        beams = options.num_beams or self._model.generation_config.num_beams or 1
        for batch in plan_batches(lengths, self._budget.max_tokens, self._budget.sentences_for(beams)):
            control.raise_if_stopped()
            outputs = run_halving(batch, lambda part: self._generate([texts[i] for i in part], options, control))
            for index, output in zip(batch, outputs, strict=True):
                results[index] = output
        return all_translated(results)

    def _generate(self, texts: list[str], options: GenerationOptions, control: CallControl) -> list[Translation]:
        import torch
        from transformers import LogitsProcessorList, StoppingCriteriaList

        beams = options.num_beams or self._traits.default_beams
        per_text = returned_sequences(options.alternatives, beams)
        if self._lanes.count > 1:
            torch.set_num_threads(self._all_threads if control.alone else self._lane_threads)
        with self._lanes.shared(), torch.inference_mode():
            encoded = self._tokenizer(texts, return_tensors="pt", padding=True).to(self._device)
            source_lengths = encoded["attention_mask"].sum(dim=1).tolist()
            bounds = [max_new_tokens_for(n, self._window) for n in source_lengths]
            eos = self._model.generation_config.eos_token_id
            limit = RowLengthLimit(bounds, eos, exact=options.exact_length)
            kwargs: dict[str, object] = {
                "max_new_tokens": max(bounds),
                "logits_processor": LogitsProcessorList([limit]),
            }
            criteria: list[Any] = []
            if control.stop is not None:
                criteria.append(StopWhenGone(control.stop))
            if self._lanes.count > 1 and not control.alone and self.widen_when_alone:
                criteria.append(WidenWhenAlone(self._lanes, self._lane_threads, self._all_threads))
            if criteria:
                kwargs["stopping_criteria"] = StoppingCriteriaList(criteria)
            if options.num_beams is not None:
                kwargs["num_beams"] = options.num_beams
            if options.no_repeat_ngram_size:
                kwargs["no_repeat_ngram_size"] = options.no_repeat_ngram_size
            if per_text > 1:
                kwargs["num_return_sequences"] = per_text
            if options.scores:  # per-step scores are kept only when asked: they cost memory
                kwargs.update(return_dict_in_generate=True, output_scores=True)
            generated = self._model.generate(**encoded, **kwargs)
            scores = self._scores(generated, beams, eos) if options.scores else None
        sequences = generated.sequences if options.scores else generated
        return self._decode(sequences, source_lengths, per_text, options.alternatives, scores)

    def _scores(self, generated: Any, beams: int, eos: int) -> list[float]:
        """Each returned row's length-normalised log-probability (beam search reports it; greedy is computed alike)."""
        if beams > 1 and generated.sequences_scores is not None:
            return [float(score) for score in generated.sequences_scores.tolist()]
        penalty = float(self._model.generation_config.length_penalty or 1.0)
        return greedy_scores(self._model, generated.sequences, generated.scores, eos, penalty)

    def _decode(
        self,
        generated: torch.Tensor,
        source_lengths: list[int],
        per_text: int = 1,
        alternatives: int = 0,
        scores: list[float] | None = None,
    ) -> list[Translation]:
        """One `Translation` per source from `per_text` rows each (best first): the first row is the translation."""
        special = set(self._tokenizer.all_special_ids)
        rows = generated.tolist()
        decoded = [text.strip() for text in self._tokenizer.batch_decode(rows, skip_special_tokens=True)]
        out: list[Translation] = []
        for number, source in enumerate(source_lengths):
            first = number * per_text
            text, row = decoded[first], rows[first]
            out.append(
                Translation(
                    text=text,
                    source_tokens=source,
                    output_tokens=sum(1 for t in row if t not in special),
                    alternatives=distinct_others(text, decoded[first + 1 : first + per_text], alternatives),
                    score=None if scores is None else scores[first],
                )
            )
        return out

    # -- alignment (the optional `models.align.Aligner` capability) ------------------------------

    ALIGN_BATCH = 16

    def align(
        self, sources: Sequence[str], targets: Sequence[str], *, control: CallControl = PLAIN_CALL
    ) -> list[Alignment]:
        """Word alignment from cross-attention on a teacher-forced pass over `targets`.

        The decoder is run on the given English (not generated again); the heads of the
        second-to-last decoder layer are averaged and each English token is aligned to the
        French token it attends to most. A pair longer than the window is aligned monotonically.
        `control.stop` is polled between batches of pairs (`Interrupted`). The pass runs alone on
        the model (every lane's threads) whatever `control.alone` says: it switches attention kernels.
        """
        from models.align import monotonic

        out: list[Alignment] = [()] * len(sources)
        fitting: list[int] = []
        counts = self.count_tokens(list(sources)) if sources else []
        target_counts = self._count_target(list(targets)) if targets else []
        for index, (source, target) in enumerate(zip(sources, targets, strict=True)):
            if not source.strip() or not target.strip():
                continue
            if counts[index] > self._window or target_counts[index] > self._window:
                out[index] = monotonic(source, target)
            else:
                fitting.append(index)
        for first in range(0, len(fitting), self.ALIGN_BATCH):
            control.raise_if_stopped()  # its request's deadline or disconnect, between batches
            part = fitting[first : first + self.ALIGN_BATCH]
            for index, alignment in zip(
                part, self._align([sources[i] for i in part], [targets[i] for i in part]), strict=True
            ):
                out[index] = alignment
        return out

    def _with_eager_attention(self, call: Any) -> Any:
        """Run `call` with eager attention: fused kernels (sdpa, flash) return no attention weights."""
        config = self._model.config
        before = getattr(config, "_attn_implementation", None)
        if before in (None, "eager"):
            return call()
        setter = getattr(self._model, "set_attn_implementation", None)
        try:
            if setter is not None:
                setter("eager")
            else:
                config._attn_implementation = "eager"
            return call()
        finally:
            if setter is not None:
                setter(before)
            else:
                config._attn_implementation = before

    def _count_target(self, texts: list[str]) -> list[int]:
        return [len(ids) for ids in self._tokenizer(text_target=texts, truncation=False)["input_ids"]]

    def _align(self, sources: list[str], targets: list[str]) -> list[Alignment]:
        import torch

        from models.align import attention_alignment, piece_spans

        tokenizer = self._tokenizer
        with self._lanes.exclusive(), torch.inference_mode():
            if self._lanes.count > 1:  # alone on the model: every thread
                torch.set_num_threads(self._all_threads)
            encoded = tokenizer(
                [" ".join(s.split()) for s in sources],
                text_target=[" ".join(t.split()) for t in targets],
                return_tensors="pt",
                padding=True,
            )
            labels = encoded.pop("labels")
            encoded = encoded.to(self._device)
            decoder_input = self._model.prepare_decoder_input_ids_from_labels(labels=labels).to(self._device)
            output = self._with_eager_attention(
                lambda: self._model(
                    **encoded, decoder_input_ids=decoder_input, output_attentions=True, return_dict=True
                )
            )
            layers = output.cross_attentions
            if not layers:
                from models.align import monotonic

                return [monotonic(source, target) for source, target in zip(sources, targets, strict=True)]
            layer = layers[max(0, len(layers) - 2)]  # (batch, heads, target, source)
            weights = layer.float().mean(dim=1).cpu().tolist()
        results: list[Alignment] = []
        for row, (source, target) in enumerate(zip(sources, targets, strict=True)):
            source_ids = [i for i in encoded["input_ids"][row].tolist() if i != tokenizer.pad_token_id]
            target_ids = [i for i in labels[row].tolist() if i != tokenizer.pad_token_id]
            source_spans = piece_spans(source, tokenizer.convert_ids_to_tokens(source_ids))
            target_spans = piece_spans(target, tokenizer.convert_ids_to_tokens(target_ids))
            results.append(attention_alignment(weights[row], source_spans, target_spans))
        return results
