"""One article on the CPU: the naive loop against bitext's service path, option by option, side by side.

    python bench/article_speed.py ARTICLE.md            # e.g. ../shared/examples/article-fr.md
    python bench/article_speed.py ARTICLE.md --quick    # greedy: the same rows in about a minute

The naive loop is what most scripts do: one `generate` per paragraph, beam 4, fp32, every core
on it. bitext's rows run the service's own path (the scheduler and its lanes, the pipeline) on
the paragraphs of ARTICLE, once as one article and once as 8 concurrent single-paragraph requests,
in each configuration:

- lanes 1 × 2 threads: one engine call at a time, torch on both cores (the old default);
- lanes 2 × 1 thread: two calls side by side on the one loaded model (`BITEXT_ENGINE_LANES=2`);
- lanes 2 with 8-, 4-, 2- and 1-sentence calls: how an article is cut into calls. On a CPU a
  decoding step costs about the same per row whatever the batch, and a row that has reached its
  bound still rides along until the longest row of its call is done, so smaller calls waste less.

Every sentence (and every naive paragraph) generates exactly its output bound (EOS forbidden
before it), so the random-weight checkpoint costs what opus-mt-fr-en costs per token. torch's
thread count is process-wide, so it is set before each row. The bitext rows must agree with one
another sentence for sentence ("same output"); the naive loop translates whole paragraphs, so
its text cannot be compared, only its time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run import _machine  # noqa: E402
from bench.workload import full_size_checkpoint  # noqa: E402
from models.budgets import BatchBudget  # noqa: E402
from models.document import BlockKind, Document  # noqa: E402
from models.engine import EngineSpec, GenerationOptions, max_new_tokens_for  # noqa: E402
from models.factory import load_engine  # noqa: E402
from models.parse import parse  # noqa: E402
from models.pipeline import translate_document  # noqa: E402
from service.scheduler import Scheduler  # noqa: E402


@dataclass(frozen=True)
class Config:
    name: str
    lanes: int
    threads: int
    max_sentences: int | None = None  # None: the engine's own budget


def paragraphs_of(path: Path) -> list[str]:
    """The article's translatable paragraphs (title and headings included), as the parser cuts them."""
    document = parse(path.read_text(encoding="utf-8"))
    kinds = (BlockKind.TITLE, BlockKind.HEADING, BlockKind.PARAGRAPH)
    return [block.text for block in document.blocks if block.kind in kinds and block.translate]


def naive(checkpoint: Path, paragraphs: list[str], beams: int, threads: int) -> list[float]:
    """Seconds per paragraph, one `generate` each."""
    import torch
    from transformers import MarianMTModel, MarianTokenizer

    torch.set_num_threads(threads)
    tokenizer = MarianTokenizer.from_pretrained(str(checkpoint))
    model = MarianMTModel.from_pretrained(str(checkpoint)).eval()

    def one(paragraph: str) -> None:
        encoded = tokenizer([paragraph], return_tensors="pt")
        bound = max_new_tokens_for(encoded["input_ids"].shape[1], 512)
        with torch.inference_mode():
            model.generate(**encoded, num_beams=beams, max_new_tokens=bound, min_new_tokens=bound, max_length=None)

    one(paragraphs[0][:80])  # warm
    times = []
    for paragraph in paragraphs:
        started = time.perf_counter()
        one(paragraph)
        times.append(time.perf_counter() - started)
    return times


def _document(paragraphs: list[str]) -> Document:
    return parse("\n\n".join(paragraphs), "text")


def run_config(checkpoint: Path, config: Config, paragraphs: list[str], beams: int, repeats: int) -> dict[str, object]:
    import torch

    engine = load_engine(EngineSpec(str(checkpoint), device="cpu", lanes=config.lanes, threads=config.threads))
    torch.set_num_threads(1 if config.lanes > 1 else config.threads)
    budget = engine.traits.budget
    if config.max_sentences is not None:
        budget = BatchBudget(max_sentences=config.max_sentences, max_tokens=budget.max_tokens)
    scheduler = Scheduler(engine, budget, max_wait=0.005)
    scheduler.start()
    options = GenerationOptions(num_beams=beams, exact_length=True)
    try:
        translate_document(_document(["Bonjour à tous. Merci."]), scheduler.lane(), options)  # warm
        article = _document(paragraphs)

        def one_article() -> list[str]:
            result = translate_document(article, scheduler.lane(), options)
            return [s.en for b in result.blocks for s in b.sentences]

        def concurrent() -> list[str]:
            chosen = paragraphs[:8]
            out: list[list[str]] = [[] for _ in chosen]

            def send(k: int) -> None:
                result = translate_document(_document([chosen[k]]), scheduler.lane(), options)
                out[k] = [s.en for b in result.blocks for s in b.sentences]

            threads = [threading.Thread(target=send, args=(k,)) for k in range(len(chosen))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return [text for part in out for text in part]

        article_s, english = _timed(one_article, repeats)
        concurrent_s, concurrent_english = _timed(concurrent, repeats)
    finally:
        scheduler.close()
    return {"article": article_s, "concurrent": concurrent_s, "english": english, "concurrent_en": concurrent_english}


def _timed(call: Callable[[], list[str]], repeats: int) -> tuple[float, list[str]]:
    times, out = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        out = call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("article", type=Path, help="a French article (markdown or text)")
    parser.add_argument("--quick", action="store_true", help="greedy decoding, one repeat")
    parser.add_argument("--threads", type=int, default=2, help="cores to use (default 2)")
    parser.add_argument("--repeats", type=int, default=None, help="runs per row, the median kept (default 2, quick 1)")
    args = parser.parse_args()
    beams = 1 if args.quick else 4
    repeats = args.repeats or (1 if args.quick else 2)
    checkpoint = full_size_checkpoint()
    paragraphs = paragraphs_of(args.article)
    configs = [
        Config("lanes 1 × 2 threads", 1, args.threads),
        Config("lanes 2 × 1 thread", 2, args.threads),
        Config("lanes 2 × 1 thread, 8-sentence calls", 2, args.threads, 8),
        Config("lanes 2 × 1 thread, 4-sentence calls", 2, args.threads, 4),
        Config("lanes 2 × 1 thread, 2-sentence calls", 2, args.threads, 2),
        Config("lanes 2 × 1 thread, 1-sentence calls", 2, args.threads, 1),
    ]
    naive_times = naive(checkpoint, paragraphs, beams, args.threads)
    naive_s, naive_8 = sum(naive_times), sum(naive_times[:8])
    rows = [(config, run_config(checkpoint, config, paragraphs, beams, repeats)) for config in configs]
    reference = rows[0][1]
    sentences = len(reference["english"])  # type: ignore[arg-type]
    print(f"machine: {_machine()}")
    print(
        f"article: {args.article.name}, {len(paragraphs)} paragraphs, {sentences} sentences; beams {beams}; "
        f"forced output lengths; median of {repeats}"
    )
    print()
    print("| row | one article s | × naive | 8 concurrent paragraphs s | × naive (8 paragraphs) | same output |")
    print("|---|---|---|---|---|---|")
    print(f"| naive loop: one generate per paragraph, {args.threads} threads | {naive_s:.2f} | 1.00× | | | |")
    for config, measured in rows:
        same = measured["english"] == reference["english"] and measured["concurrent_en"] == reference["concurrent_en"]
        article_s = float(measured["article"])  # type: ignore[arg-type]
        concurrent_s = float(measured["concurrent"])  # type: ignore[arg-type]
        print(
            f"| {config.name} | {article_s:.2f} | {naive_s / article_s:.2f}× | {concurrent_s:.2f} | "
            f"{naive_8 / concurrent_s:.2f}× | {'yes' if same else 'no'} |"
        )
    print()
    print("targets: one article ≥ 3× naive; 8 concurrent single-paragraph requests ≥ 3× naive")


if __name__ == "__main__":
    main()
