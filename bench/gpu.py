"""bitext on a GPU: one prepared run that measures what the batching defaults and the README need.

    python bench/gpu.py                          # on a CUDA host: well under 10 minutes on one card
    python bench/gpu.py --out bench/GPU_RESULTS.md
    python bench/gpu.py --dry-run                # the whole script on the CPU, tiny sizes (tested)

Why one script: GPU time is scarce and comes in short slots, so every measurement is prepared here
and tested on the CPU beforehand (`--dry-run`), and each section is time-boxed so one slow part
cannot eat the others. Sections: precision (fp32, fp16, bf16 at beam 4 and greedy); a batch-size
sweep until throughput stops growing; bitext's engine (with its per-device budget) against a plain
`generate` loop; CTranslate2 on CUDA when installed; an article through bitext's pipeline, checking
the device and dtype it reports; and the engine's halve-on-OOM rule, triggered for real.

The checkpoint has random weights and the published opus-mt-fr-en shape (bench/workload.py), so
the compute per token is the real model's; output length is forced (EOS forbidden before the
bound), so tokens per second compare like for like. Needs torch, transformers, sentencepiece and
models/ only (ctranslate2 if present); it never imports the web service.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from workload import CACHE, CORPUS, full_size_checkpoint, load_workload, parameter_count  # noqa: E402

DTYPES = ("float32", "float16", "bfloat16")


@dataclass(frozen=True, slots=True)
class Plan:
    """Sizes for one run: the real ones on a GPU, tiny ones for `--dry-run` on the CPU."""

    new_tokens: int  # forced output length of the raw `generate` measurements
    greedy_batch: int  # batch (sentences) for the precision rows
    beam_batch: int
    greedy_sweep: tuple[int, ...]
    beam_sweep: tuple[int, ...]
    repeats: int  # copies of the corpus sentences for the engine-vs-loop rows
    loop_batch: int  # what a plain script uses: fixed batches in corpus order
    article_paragraphs: int
    section_seconds: float  # time box of each section


GPU_PLAN = Plan(
    new_tokens=64,
    greedy_batch=512,
    beam_batch=128,
    greedy_sweep=(1, 8, 32, 128, 256, 512, 1024, 2048, 4096, 8192),
    beam_sweep=(1, 8, 32, 64, 128, 256, 512, 1024, 2048),
    repeats=16,
    loop_batch=32,
    article_paragraphs=12,
    section_seconds=60.0,
)
DRY_PLAN = Plan(
    new_tokens=8,
    greedy_batch=4,
    beam_batch=2,
    greedy_sweep=(1, 2, 4),
    beam_sweep=(1, 2),
    repeats=1,
    loop_batch=4,
    article_paragraphs=2,
    section_seconds=20.0,
)
DRY_SENTENCES = 12
GROWTH = 1.05  # a sweep stops after two sizes that do not beat the best by 5 %


@dataclass(slots=True)
class Row:
    section: str
    variant: str
    dtype: str = ""
    beams: int | str = ""
    batch: int | str = ""
    tokens: int | None = None
    seconds: float | None = None
    note: str = ""

    @property
    def rate(self) -> str:
        if self.tokens is None or not self.seconds:
            return ""
        return f"{self.tokens / self.seconds:,.0f}"


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)
        seconds = "" if row.seconds is None else f"{row.seconds:.2f} s"
        print(
            f"  {row.section} | {row.variant} | {row.dtype} | beams {row.beams} | batch {row.batch} | {seconds} "
            f"| {row.rate} tok/s | {row.note}",
            file=sys.stderr,
            flush=True,
        )

    def skip(self, section: str, why: str) -> None:
        self.add(Row(section, f"skipped: {why}"))

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        """A failing section is recorded and the run goes on; the exit status reports it at the end."""
        print(f"running {name} …", file=sys.stderr, flush=True)
        try:
            yield
        except Exception as error:  # noqa: BLE001 - one broken section must not cost the others
            traceback.print_exc()
            self.errors.append(f"{name}: {type(error).__name__}: {error}")
            self.add(Row(name, "error", note=f"{type(error).__name__}: {str(error)[:160]}"))


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    @property
    def passed(self) -> bool:
        return time.monotonic() > self.end


# -- the environment ---------------------------------------------------------------------------


def _driver() -> str:
    try:
        done = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        )
        return done.stdout.strip().splitlines()[0] if done.returncode == 0 and done.stdout.strip() else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown (no nvidia-smi)"


def environment(device: str) -> list[str]:
    import torch
    import transformers

    try:
        import ctranslate2

        ct2 = ctranslate2.__version__
    except ImportError:
        ct2 = "not installed"
    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        free, total = torch.cuda.mem_get_info()
        card = (
            f"{props.name}, {total / 2**30:.0f} GiB ({free / 2**30:.0f} GiB free at start), "
            f"compute {props.major}.{props.minor}"
        )
        cuda = torch.version.cuda or "unknown"
        driver = _driver()
    else:
        card, cuda, driver = "none: no CUDA device (CPU dry run; no GPU figures)", "n/a", "n/a"
    return [
        f"- card: {card}",
        f"- driver: {driver}; CUDA (torch build): {cuda}",
        f"- torch {torch.__version__}, transformers {transformers.__version__}, ctranslate2 {ct2}, "
        f"Python {platform.python_version()}",
    ]


# -- measurements ------------------------------------------------------------------------------


def _sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def _load_raw(checkpoint: Path, device: str, dtype: str) -> tuple[Any, Any]:
    import torch
    from transformers import MarianMTModel, MarianTokenizer

    tokenizer = MarianTokenizer.from_pretrained(str(checkpoint))
    model = MarianMTModel.from_pretrained(str(checkpoint), dtype=getattr(torch, dtype)).eval().to(device)
    model.generation_config.max_length = None
    return tokenizer, model


def raw_generate(tokenizer: Any, model: Any, sentences: list[str], beams: int, new_tokens: int, device: str) -> float:
    """Seconds of one `generate` call on `sentences`, each row forced to exactly `new_tokens` tokens."""
    import torch

    encoded = tokenizer(sentences, return_tensors="pt", padding=True).to(device)
    _sync(device)
    started = time.perf_counter()
    with torch.inference_mode():
        model.generate(
            **encoded, num_beams=beams, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False
        )
    _sync(device)
    return time.perf_counter() - started


def _batch(sentences: list[str], size: int) -> list[str]:
    return (sentences * (size // len(sentences) + 1))[:size]


def _free_cache(device: str) -> None:
    import gc

    gc.collect()
    if device == "cuda":
        import torch

        torch.cuda.empty_cache()


def precision(report: Report, checkpoint: Path, sentences: list[str], device: str, plan: Plan) -> None:
    """fp32, fp16, bf16 × beam 4 and greedy, raw `generate`, one fixed batch each, best of 2."""
    deadline = Deadline(plan.section_seconds)
    for dtype in DTYPES:
        if deadline.passed:
            report.skip("precision", f"time box reached before {dtype}")
            break
        tokenizer, model = _load_raw(checkpoint, device, dtype)
        for beams, size in ((4, plan.beam_batch), (1, plan.greedy_batch)):
            batch = _batch(sentences, size)
            raw_generate(tokenizer, model, batch[:2], beams, 2, device)  # warm-up
            seconds = min(raw_generate(tokenizer, model, batch, beams, plan.new_tokens, device) for _ in range(2))
            report.add(Row("precision", "raw generate", dtype, beams, size, size * plan.new_tokens, seconds))
        del model
        _free_cache(device)


def _is_oom(error: BaseException) -> bool:
    from models.batching import is_out_of_memory

    return is_out_of_memory(error)


def sweep(report: Report, checkpoint: Path, sentences: list[str], device: str, dtype: str, plan: Plan) -> None:
    """Throughput against batch size, greedy and beam 4, until it stops growing (or OOM, or the time box)."""
    tokenizer, model = _load_raw(checkpoint, device, dtype)
    raw_generate(tokenizer, model, sentences[:2], 1, 2, device)
    for beams, sizes in ((1, plan.greedy_sweep), (4, plan.beam_sweep)):
        deadline = Deadline(plan.section_seconds)
        best, flat = 0.0, 0
        for size in sizes:
            if deadline.passed:
                report.skip("sweep", f"time box reached before batch {size} (beam {beams})")
                break
            try:
                seconds = raw_generate(tokenizer, model, _batch(sentences, size), beams, plan.new_tokens, device)
            except Exception as error:
                if not _is_oom(error):
                    raise
                report.add(Row("sweep", "raw generate", dtype, beams, size, note="out of memory: sweep ends"))
                _free_cache(device)
                break
            rate = size * plan.new_tokens / seconds
            flat = flat + 1 if rate < best * GROWTH else 0
            report.add(
                Row(
                    "sweep",
                    "raw generate",
                    dtype,
                    beams,
                    size,
                    size * plan.new_tokens,
                    seconds,
                    "stopped growing" if flat >= 2 else "",
                )
            )
            best = max(best, rate)
            if flat >= 2:
                break
    del model
    _free_cache(device)


def _expected(engine: Any, sentences: list[str]) -> int:
    from variants import expected_tokens

    return expected_tokens(engine.count_tokens(sentences), engine.max_input_tokens)


def watch_generate(engine: Any) -> list[tuple[int, str]]:
    """Record (sentences, "ok" | "OOM" | error name) for each `generate` call the engine makes."""
    calls: list[tuple[int, str]] = []
    generate = engine._generate

    def watched(texts: list[str], options: Any, control: Any) -> Any:
        try:
            out = generate(texts, options, control)
        except Exception as error:
            calls.append((len(texts), "OOM" if _is_oom(error) else type(error).__name__))
            raise
        calls.append((len(texts), "ok"))
        return out

    engine._generate = watched
    return calls


def _peak(device: str) -> str:
    if device != "cuda":
        return ""
    import torch

    return f"; peak {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB allocated"


def _reset_peak(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats()


def _budget_text(budget: Any) -> str:
    return f"tokens {budget.max_tokens}, sentences {budget.max_sentences}, rows {budget.max_rows}"


def engine_vs_loop(report: Report, checkpoint: Path, sentences: list[str], device: str, plan: Plan) -> None:
    """bitext's engine (auto dtype, per-device budget, length-sorted batches) against what a plain
    script does (fixed batches in corpus order, each run to its longest row's bound), same sentences."""
    from models.engine import EngineSpec, GenerationOptions, max_new_tokens_for
    from models.factory import load_engine

    work = sentences * plan.repeats
    engine = load_engine(EngineSpec(str(checkpoint), device=device))  # dtype auto, budget: the per-device default
    budget = engine.traits.budget
    dtype = engine.info.dtype
    want = _expected(engine, work)
    calls = watch_generate(engine)
    for beams in (4, 1):
        options = GenerationOptions(num_beams=beams, exact_length=True)
        engine.translate(work[:4], options)
        _sync(device)
        _reset_peak(device)
        calls.clear()
        started = time.perf_counter()
        out = engine.translate(work, options)
        _sync(device)
        seconds = time.perf_counter() - started
        tokens = sum(t.output_tokens for t in out)
        check = "exact" if tokens == want else f"expected {want}"
        ooms = sum(1 for _, what in calls if what == "OOM")
        report.add(
            Row(
                "engine vs loop",
                f"bitext engine, per-device budget ({_budget_text(budget)})",
                dtype,
                beams,
                f"≤{budget.sentences_for(beams)}",
                tokens,
                seconds,
                f"{len(work)} sentences in {len(calls)} calls, {ooms} OOM halvings, {check}{_peak(device)}",
            )
        )

    tokenizer, model = engine._tokenizer, engine._model  # the same weights, dtype and device
    import torch

    for beams in (4, 1):
        deadline = Deadline(plan.section_seconds / 2)
        raw_generate(tokenizer, model, work[:2], beams, 2, device)
        done, seconds = 0, 0.0
        for start in range(0, len(work), plan.loop_batch):
            if deadline.passed:
                break
            chunk = work[start : start + plan.loop_batch]
            encoded = tokenizer(chunk, return_tensors="pt", padding=True).to(device)
            bound = max_new_tokens_for(int(encoded["attention_mask"].sum(dim=1).max()), engine.max_input_tokens)
            _sync(device)
            began = time.perf_counter()
            with torch.inference_mode():
                model.generate(**encoded, num_beams=beams, max_new_tokens=bound, min_new_tokens=bound)
            _sync(device)
            seconds += time.perf_counter() - began
            done += len(chunk)
        useful = _expected(engine, work[:done])
        note = f"{done} of {len(work)} sentences" + ("" if done == len(work) else " (time box)")
        report.add(
            Row(
                "engine vs loop",
                f"plain generate loop, batches of {plan.loop_batch} in order",
                dtype,
                beams,
                plan.loop_batch,
                useful,
                seconds,
                note + "; tokens: the useful ones, as for the engine",
            )
        )
    del engine, model
    _free_cache(device)


def ct2(report: Report, checkpoint: Path, sentences: list[str], device: str, plan: Plan) -> None:
    """bitext's CTranslate2 engine on CUDA, float16 and int8_float16, per-device budget."""
    if device != "cuda":
        report.skip("ctranslate2", "no CUDA")
        return
    try:
        import ctranslate2
    except ImportError:
        report.skip("ctranslate2", "ctranslate2 not installed")
        return
    if ctranslate2.get_cuda_device_count() < 1:
        report.skip("ctranslate2", "this ctranslate2 build sees no CUDA device")
        return
    from models.engine import EngineSpec, GenerationOptions
    from models.factory import load_engine

    deadline = Deadline(plan.section_seconds)
    work = sentences * plan.repeats
    for compute_type in ("float16", "int8_float16"):
        if deadline.passed:
            report.skip("ctranslate2", f"time box reached before {compute_type}")
            break
        engine = load_engine(
            EngineSpec(str(checkpoint), kind="ct2", device="cuda", dtype=compute_type, cache_dir=CACHE / "ct2")
        )
        want = _expected(engine, work)
        for beams in (4, 1):
            options = GenerationOptions(num_beams=beams, exact_length=True)
            engine.translate(work[:4], options)
            started = time.perf_counter()
            out = engine.translate(work, options)
            seconds = time.perf_counter() - started
            tokens = sum(t.output_tokens for t in out)
            report.add(
                Row(
                    "ctranslate2",
                    f"bitext --engine ct2 ({_budget_text(engine.traits.budget)})",
                    compute_type,
                    beams,
                    f"≤{engine.traits.budget.sentences_for(beams)}",
                    tokens,
                    seconds,
                    "exact" if tokens == want else f"expected {want}",
                )
            )
        del engine
        _free_cache(device)


def article(report: Report, checkpoint: Path, device: str, plan: Plan) -> None:
    """An article from the bench corpus through bitext's pipeline, model defaults; checks device and dtype."""
    from models.engine import EngineSpec, GenerationOptions
    from models.factory import load_engine
    from models.parse import parse
    from models.pipeline import translate_document

    paragraphs = [p.strip() for p in (CORPUS / "fr.txt").read_text(encoding="utf-8").split("\n\n") if p.strip()]
    text = "\n\n".join(paragraphs[: plan.article_paragraphs])
    engine = load_engine(EngineSpec(str(checkpoint), device=device))
    engine.warmup()
    timings = []
    for _ in range(2):  # the first pass pays for lazy initialisation (segmenter, kernels); both are shown
        _sync(device)
        started = time.perf_counter()
        result = translate_document(parse(text, "text"), engine, GenerationOptions())
        _sync(device)
        timings.append(time.perf_counter() - started)
    first, seconds = timings
    wanted_dtypes = ("bfloat16", "float16") if device == "cuda" else ("float32",)
    ok = result.model.device == device and result.model.dtype in wanted_dtypes
    sentences = sum(len(block.sentences) for block in result.blocks)
    report.add(
        Row(
            "article",
            f"translate_document, {len(text)} characters, {sentences} sentences",
            result.model.dtype,
            "model default",
            "auto",
            result.stats.output_tokens,
            seconds,
            f"second pass (first {first:.2f} s); model reports device={result.model.device} "
            f"dtype={result.model.dtype}: {'ok' if ok else 'WRONG'}",
        )
    )
    if not ok:
        ran = f"{result.model.device}/{result.model.dtype}"
        raise RuntimeError(f"the article ran on {ran}, expected {device} in one of {wanted_dtypes}")
    del engine
    _free_cache(device)


def oom_halving(report: Report, checkpoint: Path, sentences: list[str], device: str, plan: Plan) -> None:
    """An oversized batch for real: a ballast tensor leaves ~1 GiB free, the engine gets a budget far
    past it, and must halve on CUDA out-of-memory until the pieces fit, losing no sentence."""
    if device != "cuda":
        report.skip("oom halving", "no CUDA")
        return
    import torch

    from models.budgets import BatchBudget
    from models.engine import EngineSpec, GenerationOptions
    from models.factory import load_engine

    engine = load_engine(EngineSpec(str(checkpoint), device="cuda", budget=BatchBudget(10**7, 10**5, 10**6)))
    pool = _batch(sentences, 3 * 512)
    work = [" ".join(pool[i : i + 3]) for i in range(0, len(pool), 3)]  # 512 inputs of three sentences each
    engine.translate(work[:2])
    calls = watch_generate(engine)
    free, _total = torch.cuda.mem_get_info()
    keep = 1 << 30
    ballast = torch.empty(max(0, free - keep), dtype=torch.uint8, device="cuda")
    try:
        started = time.perf_counter()
        out = engine.translate(work, GenerationOptions(num_beams=4))
        seconds = time.perf_counter() - started
    finally:
        del ballast
        _free_cache(device)
    ooms = [size for size, what in calls if what == "OOM"]
    fitted = sorted({size for size, what in calls if what == "ok"})
    ok = len(out) == len(work) and bool(ooms)
    report.add(
        Row(
            "oom halving",
            f"{len(work)} sentences at beam 4 in one call, ~1 GiB free",
            engine.info.dtype,
            4,
            len(work),
            sum(t.output_tokens for t in out),
            seconds,
            f"OOM at {ooms[:6]}; pieces that fit: {fitted[:6]}; {len(out)}/{len(work)} translated: "
            + ("ok" if ok else "NOT TRIGGERED" if not ooms else "LOST SENTENCES"),
        )
    )
    if len(out) != len(work):
        raise RuntimeError("sentences were lost while halving")
    del engine
    _free_cache(device)


# -- the run -----------------------------------------------------------------------------------


def tiny_checkpoint(target: Path) -> Path:
    from models.synthetic import TINY, build_marian_checkpoint

    french = [line for line in (CORPUS / "fr.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    english = [line for line in (CORPUS / "en.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    return build_marian_checkpoint(target, french[:200], english[:200], TINY)


def table(report: Report) -> list[str]:
    lines = [
        "| section | variant | dtype | beams | batch (sentences) | output tokens | seconds | tokens/s | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report.rows:
        seconds = "" if row.seconds is None else f"{row.seconds:.2f}"
        tokens = "" if row.tokens is None else str(row.tokens)
        cells = (row.section, row.variant, row.dtype, row.beams, row.batch, tokens, seconds, row.rate, row.note)
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true", help="the whole script on the CPU, tiny checkpoint and sizes")
    parser.add_argument("--out", type=Path, help="markdown report file (default on a GPU: bench/GPU_RESULTS.md)")
    parser.add_argument("--only", help="comma-separated sections: article,oom,engine,precision,sweep,ct2")
    parser.add_argument("--max-seconds", type=float, default=420.0, help="no section starts after this (default 420)")
    args = parser.parse_args(argv)

    import torch

    has_cuda = torch.cuda.is_available()
    if not has_cuda and not args.dry_run:
        print("no CUDA device: run on a GPU host, or use --dry-run to check the script on the CPU", file=sys.stderr)
        return 2
    device = "cuda" if has_cuda and not args.dry_run else "cpu"
    plan = DRY_PLAN if args.dry_run else GPU_PLAN
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = tiny_checkpoint(Path(tmp) / "tiny") if args.dry_run else full_size_checkpoint()
        sentences = load_workload(DRY_SENTENCES if args.dry_run else None).sentences
        if args.dry_run:
            sentences = sentences[:DRY_SENTENCES]
        report = Report()
        wanted = set(args.only.split(",")) if args.only else None
        sweep_dtype = "bfloat16" if device == "cpu" or torch.cuda.is_bf16_supported() else "float16"
        # The checks first (short, and what must hold), then the measurements, longest last.
        sections: list[tuple[str, Callable[[], None]]] = [
            ("article", lambda: article(report, checkpoint, device, plan)),
            ("oom", lambda: oom_halving(report, checkpoint, sentences, device, plan)),
            ("engine", lambda: engine_vs_loop(report, checkpoint, sentences, device, plan)),
            ("precision", lambda: precision(report, checkpoint, sentences, device, plan)),
            ("sweep", lambda: sweep(report, checkpoint, sentences, device, sweep_dtype, plan)),
            ("ct2", lambda: ct2(report, checkpoint, sentences, device, plan)),
        ]
        for name, run in sections:
            if wanted and name not in wanted:
                continue
            if time.time() - started > args.max_seconds:
                report.skip(name, f"the run's time box ({args.max_seconds:.0f} s) was reached")
                continue
            with report.section(name):
                run()
        params = parameter_count(checkpoint) / 1e6
    web = sorted({name.split(".")[0] for name in sys.modules} & {"fastapi", "starlette", "service"})
    if web:  # a GPU host may have only torch and transformers: the web service must stay out
        report.errors.append(f"imported web-service modules: {', '.join(web)}")

    title = "bitext GPU benchmark"
    if args.dry_run:
        title += " (dry run on the CPU: tiny checkpoint, not a measurement)"
    lines = [
        f"# {title}: {time.strftime('%Y-%m-%d %H:%M %Z')}",
        "",
        f"- command: `python bench/gpu.py {' '.join(argv if argv is not None else sys.argv[1:])}`",
        *environment(device),
        f"- checkpoint: random weights, {params:.2f}M parameters ({'tiny' if args.dry_run else 'opus-mt-fr-en shape'})",
        f"- raw `generate` rows: every row forced to {plan.new_tokens} new tokens; engine rows: each sentence to its "
        "own bound (ceil(1.5 x source tokens) + 9), EOS forbidden before",
        "",
        *table(report),
        "",
        f"- wall time {time.time() - started:.0f} s" + (f"; errors: {'; '.join(report.errors)}" * bool(report.errors)),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    target = args.out or (None if args.dry_run else HERE / "GPU_RESULTS.md")
    if target:
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}", file=sys.stderr)
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
