"""bitext speed benchmark: every variant side by side in one invocation, as ratios to the naive loop.

    python bench/run.py --quick        # < 10 minutes on 2 cores: a subset of the corpus
    python bench/run.py                # the full corpus; writes bench/RESULTS.md
    python bench/run.py --only e,d     # some rows only

Each row runs in a fresh subprocess (`--variant NAME`), so its peak RSS is its own and no
variant inherits another's threads, caches or warmed kernels. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from workload import full_size_checkpoint, load_workload, parameter_count  # noqa: E402

from models.segment import split_sentences  # noqa: E402


@dataclass(frozen=True, slots=True)
class Variant:
    key: str
    label: str
    beams: int
    precision: str
    quick: bool = True  # part of --quick


VARIANTS = [
    Variant("a", "naive loop: one paragraph per generate (transformers)", 4, "float32"),
    Variant("b", "bitext pipeline, default settings", 4, "float32 (auto)"),
    Variant("b-rows256", "bitext, batch_max_rows=256 (64 sentences x 4 beams per call)", 4, "float32", quick=False),
    Variant("c-bf16", "bitext, --dtype bfloat16", 4, "bfloat16"),
    Variant("c-int8", "bitext, --dtype int8 (torch dynamic)", 4, "int8"),
    Variant("c-int8-greedy", "bitext, --dtype int8, greedy", 1, "int8", quick=False),
    Variant("c-fp32-greedy", "bitext, default dtype, greedy", 1, "float32", quick=False),
    Variant("d", "CTranslate2 translate_batch directly (batch 16)", 4, "int8"),
    Variant("d-greedy", "CTranslate2 directly, greedy, 2 workers x 1 thread", 1, "int8", quick=False),
    Variant("e", "bitext --engine ct2", 4, "int8"),
    Variant("e-2x1", "bitext --engine ct2, ct2_inter_threads=2 (2 batches x 1 thread)", 4, "int8"),
    Variant(
        "e-rows256", "bitext --engine ct2, batch_max_rows=256 (64 sentences x 4 beams per call)", 4, "int8", quick=False
    ),
    Variant(
        "e-greedy", "bitext --engine ct2, greedy, ct2_inter_threads=2, batch_max_sentences=32", 1, "int8", quick=False
    ),
]


def run_variant(key: str, sentences: int, naive_sentences: int) -> dict[str, object]:
    """Runs in the child process: one variant, its numbers as a dict."""
    import variants

    checkpoint = full_size_checkpoint()
    work = load_workload(sentences)
    if key == "a":
        measured = variants.naive(checkpoint, load_workload(naive_sentences))
    elif key == "b":
        measured = variants.bitext_transformers(checkpoint, work, "auto", None)
    elif key == "b-rows256":
        measured = variants.bitext_transformers(checkpoint, work, "auto", None, max_rows=256)
    elif key.startswith("c-"):
        dtype = {"bf16": "bfloat16", "int8": "int8", "fp32": "float32"}[key.split("-")[1]]
        measured = variants.bitext_transformers(checkpoint, work, dtype, 1 if key.endswith("greedy") else 4)
    elif key == "d":
        measured = variants.ct2_direct(checkpoint, work, beams=4)
    elif key == "d-greedy":
        measured = variants.ct2_direct(checkpoint, work, beams=1, inter_threads=2)
    elif key == "e":
        measured = variants.bitext_ct2(checkpoint, work, "int8", 4)
    elif key == "e-2x1":
        measured = variants.bitext_ct2(checkpoint, work, "int8", 4, inter_threads=2)
    elif key == "e-rows256":
        measured = variants.bitext_ct2(checkpoint, work, "int8", 4, max_rows=256)
    elif key == "e-greedy":
        measured = variants.bitext_ct2(checkpoint, work, "int8", 1, inter_threads=2, max_sentences=32)
    else:
        raise SystemExit(f"unknown variant {key}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {**asdict(measured), "peak_rss_mb": rss}


def _child(key: str, args: argparse.Namespace) -> tuple[dict[str, object] | None, str]:
    command = [
        sys.executable,
        str(HERE / "run.py"),
        "--variant",
        key,
        "--sentences",
        str(args.sentences),
        "--naive-sentences",
        str(args.naive_sentences),
    ]
    shown = f"python bench/run.py --variant {key} --sentences {args.sentences}" + (
        f" --naive-sentences {args.naive_sentences}" if key == "a" else ""
    )
    done = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent)
    if done.returncode != 0:
        print(f"  {key} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None, shown
    return json.loads(done.stdout.strip().splitlines()[-1]), shown


def _load() -> str:
    return " ".join(os.getloadavg().__repr__().strip("()").split(", "))


def _machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    flags = Path("/proc/cpuinfo").read_text()
    extras = [f for f in ("avx512_bf16", "amx_bf16", "avx512_vnni") if f in flags]
    import torch

    units = ", ".join(extras) or "no bf16/AMX units"
    return f"{cpu}, {os.cpu_count()} cores ({units}), torch {torch.__version__}, {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a subset and fewer rows: under 10 minutes on 2 cores")
    parser.add_argument(
        "--sentences", type=int, help="sentences for the batched variants (default: 64 quick, all otherwise)"
    )
    parser.add_argument(
        "--naive-sentences", type=int, help="sentences' worth of paragraphs for the naive loop (default 16 quick, 48)"
    )
    parser.add_argument("--only", help="comma-separated variant keys (a, b, c-int8, d, e, f, …)")
    parser.add_argument("--no-http", action="store_true", help="skip part (f)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument(
        "--write", type=Path, help="write the markdown report here (default: bench/RESULTS.md for a full run)"
    )
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.sentences = args.sentences or (32 if args.quick else 10_000)
    args.naive_sentences = args.naive_sentences or (4 if args.quick else 24)

    if args.variant:
        print(json.dumps(run_variant(args.variant, args.sentences, args.naive_sentences)))
        return

    started = time.time()
    checkpoint = full_size_checkpoint()
    work = load_workload(args.sentences)
    args.sentences = len(work.sentences)
    command = "python bench/run.py " + " ".join(sys.argv[1:])
    lines = [
        f"# bitext speed: {time.strftime('%Y-%m-%d %H:%M %Z')}",
        "",
        f"- command: `{command.strip()}`",
        f"- machine: {_machine()}; no GPU was available to this run",
        f"- checkpoint: random weights, opus-mt-fr-en shape, {parameter_count(checkpoint) / 1e6:.1f}M "
        f"parameters ({checkpoint.name})",
        f"- workload: {args.sentences} sentences of bench/corpus/fr.txt for batched rows; naive loop on the "
        f"paragraphs of the first {args.naive_sentences} sentences",
        "- every sentence generates exactly ceil(1.5 x source tokens) + 9 tokens (EOS forbidden before, "
        "forced at the bound)",
        f"- load average (1/5/15 min) at start: {_load()}",
        "",
        "| row | variant | beams | precision | units | output tokens | seconds | tokens/s | x naive | peak "
        "RSS MB | check | command |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    wanted = set(args.only.split(",")) if args.only else None
    naive_rate = None
    results: dict[str, dict[str, object]] = {}
    for variant in VARIANTS:
        if (wanted and variant.key not in wanted) or (not wanted and args.quick and not variant.quick):
            continue
        print(f"running {variant.key}: {variant.label} …", file=sys.stderr, flush=True)
        measured, shown = _child(variant.key, args)
        if measured is None:
            lines.append(
                f"| {variant.key} | {variant.label} | {variant.beams} | {variant.precision} | | | | failed | "
                f"| | | `{shown}` |"
            )
            continue
        results[variant.key] = measured
        rate = float(measured["tokens"]) / float(measured["seconds"])  # type: ignore[arg-type]
        if variant.key == "a":
            naive_rate = rate
        ratio = f"{rate / naive_rate:.2f}" if naive_rate else "–"
        unit = "paragraphs" if variant.key == "a" else "sentences"
        lines.append(
            f"| {variant.key} | {variant.label} | {variant.beams} | {variant.precision} | {measured['units']} "
            f"{unit} | {measured['tokens']} "
            f"| {float(measured['seconds']):.1f} | {rate:.0f} | {ratio} | "
            f"{float(measured['peak_rss_mb']):.0f} | {measured['check']} | `{shown}` |"
        )
        print("  " + lines[-1], file=sys.stderr, flush=True)

    if not args.no_http and (not wanted or "f" in wanted):
        lines += _http_part(checkpoint, args)

    lines += ["", f"- load average at end: {_load()}; wall time {time.time() - started:.0f} s"]
    report = "\n".join(lines) + "\n"
    print(report)
    target = args.write or (None if args.quick or args.only else HERE / "RESULTS.md")
    if target:
        target.write_text(report, encoding="utf-8")
        print(f"wrote {target}", file=sys.stderr)


def _http_part(checkpoint: Path, args: argparse.Namespace) -> list[str]:
    import http_load
    import variants

    count = args.clients if args.quick else 2 * args.clients
    paragraphs = load_workload().paragraphs
    if args.quick:  # the shortest paragraphs (1-3 sentences), to stay within the time budget
        paragraphs = sorted(paragraphs, key=lambda p: (len(p), p))
    paragraphs = (paragraphs * (count // len(paragraphs) + 1))[:count]
    sentences = sum(len(split_sentences(p)) for p in paragraphs)
    which = "the shortest paragraphs of the corpus" if args.quick else "corpus paragraphs in order"
    lines = [
        "",
        f"## (f) HTTP: `bitext serve` in a subprocess, {args.clients} concurrent clients, {count} "
        "single-paragraph requests",
        "",
        f"{which} ({sentences} sentences); beam 4 (model default), fp32 transformers engine, cache off. "
        "Output length is not forced",
        "over HTTP, but random weights almost never emit EOS, so each sentence runs to its own bound.",
        "",
        "| mode | requests | output tokens | seconds | tokens/s | ratio | mean sentences per engine call | "
        "server peak RSS MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rates: dict[bool, float] = {}
    for batching in (False, True):
        print(f"running f: HTTP, batching {'on' if batching else 'off'} …", file=sys.stderr, flush=True)
        result = http_load.throughput(checkpoint, paragraphs, batching, args.clients)
        rates[batching] = result.tokens / result.seconds
        ratio = f"{rates[True] / rates[False]:.2f}" if batching else "1.00"
        lines.append(
            f"| BITEXT_BATCHING={'true' if batching else 'false'} | {result.requests} | {result.tokens} | "
            f"{result.seconds:.1f} "
            f"| {rates[batching]:.0f} | {ratio} | {result.mean_batch_sentences:.1f} | {result.peak_rss_mb:.0f} |"
        )
        print("  " + lines[-1], file=sys.stderr, flush=True)
    sample = load_workload().paragraphs[1 : 1 + (4 if args.quick else 10)]
    print("running f: idle latency …", file=sys.stderr, flush=True)
    http = http_load.idle_latency(checkpoint, sample)
    raw = _raw_latency(sample)
    lines += [
        "",
        f"Idle server, one request at a time, {len(sample)} paragraphs "
        f"({sum(len(split_sentences(p)) for p in sample)} sentences), best of 3 each,"
        " vs `MarianEngine.translate` on the same sentences in a separate process (model defaults: beam 4, fp32):",
        "",
        "| | p50 s | p95 s |",
        "|---|---|---|",
        f"| HTTP request | {http_load.percentile(http, 50):.3f} | {http_load.percentile(http, 95):.3f} |",
        f"| raw engine call | {http_load.percentile(raw, 50):.3f} | {http_load.percentile(raw, 95):.3f} |",
        f"| ratio | {http_load.percentile(http, 50) / http_load.percentile(raw, 50):.2f} | "
        f"{http_load.percentile(http, 95) / http_load.percentile(raw, 95):.2f} |",
    ]
    del variants
    return lines


def _raw_latency(paragraphs: list[str]) -> list[float]:
    code = (
        "import json,sys; sys.path[:0]=[sys.argv[1], sys.argv[2]]; import variants, workload; "
        "print(json.dumps(variants.raw_latency(workload.full_size_checkpoint(), json.loads(sys.argv[3]))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(HERE), str(HERE.parent), json.dumps(paragraphs)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
