"""Translation-memory lookup cost beside translation, as ratios measured in one run.

    python bench/memory.py                 # 100,000 units, the full-size (opus-mt-fr-en-shaped) checkpoint
    python bench/memory.py --quick         # 100,000 units, the tiny test checkpoint (seconds, not minutes)
    python bench/memory.py --units 20000   # fewer units
    python bench/memory.py --fill-only --units 10000 [--postgres URL]   # only the time to store the units


A SQLite memory (the server's default store) is filled with UNITS synthetic units: sentences
of 8 to 30 words drawn from the shipped corpus's vocabulary, a number in one in four, plus five
sentences of the article itself (so the context/exact tier answers some). Then, side by side:

- one article (the corpus's first paragraphs, 30 sentences): the lookup `plan()` does for the
  whole article (`models.memory.remember`: the skeleton query and the trigram candidates of every
  unmatched sentence, re-scored), against translating the same article with the memory off;
- 1,000 sentences (corpus sentences, each with a varied number so few match exactly): lookup,
  against translation throughput measured on a sample of them and scaled to 1,000.

Figures are medians of repeats; the machine is shared, so they are noisy. Not part of the tests.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import cpu_model  # noqa: E402
from bench.workload import CORPUS, full_size_checkpoint, load_workload  # noqa: E402
from models.engine import Engine, EngineSpec  # noqa: E402
from models.factory import load_engine  # noqa: E402
from models.memory import MemoryUse, Unit, remember  # noqa: E402
from models.parse import parse  # noqa: E402
from models.pipeline import translate_request  # noqa: E402
from models.plan import plan  # noqa: E402
from models.request import TranslationRequest  # noqa: E402
from service.memory import MemoryStore, OwnedIndex, SqliteMemoryStore  # noqa: E402

OWNER = "bench"


def synthetic_units(count: int, seed: int = 7) -> list[Unit]:
    words = sorted({w.strip(".,;:!?«»()\"'") for w in (CORPUS / "fr.txt").read_text(encoding="utf-8").split()} - {""})
    rng = random.Random(seed)
    units = []
    for k in range(count):
        sentence = rng.sample(words, rng.randint(8, 30))
        if k % 4 == 0:
            sentence.insert(rng.randrange(len(sentence)), str(rng.randint(1, 5000)))
        text = " ".join(sentence).capitalize() + "."
        units.append(Unit(text, f"English {k}."))
    return units


def median_seconds(work: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def engine_for(quick: bool) -> tuple[Engine, str]:
    if quick:
        from models.synthetic import TINY, build_marian_checkpoint

        data = Path(__file__).resolve().parents[1] / "tests" / "data"
        target = Path(tempfile.mkdtemp(prefix="bitext-tiny-"))
        french = (data / "corpus.fr.txt").read_text(encoding="utf-8").splitlines()
        english = (data / "corpus.en.txt").read_text(encoding="utf-8").splitlines()
        return load_engine(
            EngineSpec(str(build_marian_checkpoint(target, french, english, TINY)), device="cpu")
        ), "tiny"
    return load_engine(EngineSpec(str(full_size_checkpoint()), device="cpu")), "full-size (opus-mt-fr-en shape)"


def fill_only(count: int, postgres: str | None) -> None:
    """Time storing `count` synthetic units in one import (`add_many`), twice over (a second import of the
    same units supersedes every one), in a fresh SQLite file or, with `postgres`, under a fresh owner."""
    units = synthetic_units(count)
    owner = f"{OWNER}-{time.time_ns()}"
    with tempfile.TemporaryDirectory() as directory:
        store: MemoryStore
        if postgres:
            from service.memory.postgres import PostgresMemoryStore

            store, backend = PostgresMemoryStore(postgres), "PostgreSQL"
        else:
            store, backend = SqliteMemoryStore(Path(directory) / "memory.sqlite3"), "SQLite"
        try:
            times = []
            for _ in range(2):
                started = time.perf_counter()
                store.add_many(owner, units, owner)
                times.append(time.perf_counter() - started)
        finally:
            store.delete_all(owner)
            store.close()
    print(f"# bench/memory.py --fill-only — {cpu_model()}")
    first, again = (f"{t:.2f} s, {t * 1000 / count:.3f} ms/unit" for t in times)
    print(f"{backend}: {count:,} units in one import: {first}; the same units again (each supersedes): {again}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="the tiny checkpoint instead of the full-size one")
    parser.add_argument("--sample", type=int, default=100, help="sentences translated to estimate throughput")
    parser.add_argument("--fill-only", action="store_true", help="only time storing the units (no model, no lookup)")
    parser.add_argument("--postgres", metavar="URL", help="with --fill-only: a PostgreSQL memory instead of SQLite")
    args = parser.parse_args()
    if args.fill_only:
        fill_only(args.units, args.postgres)
        return

    article = load_workload(30)
    text = "\n\n".join(article.paragraphs)
    with tempfile.TemporaryDirectory() as directory:
        store = SqliteMemoryStore(Path(directory) / "memory.sqlite3")
        started = time.perf_counter()
        store.add_many(OWNER, synthetic_units(args.units), OWNER)
        store.add_many(OWNER, [Unit(s, f"Known {k}.") for k, s in enumerate(article.sentences[:30:6])], OWNER)
        filled = time.perf_counter() - started
        engine, engine_name = engine_for(args.quick)
        use = MemoryUse(OwnedIndex(store, OWNER))
        request = TranslationRequest(parse(text, "text"))
        planned = plan(request, engine)
        sentences = sum(s.translate for block in planned.blocks for s in block)
        matched = remember(use, planned.blocks)
        lookup_article = median_seconds(lambda: remember(use, planned.blocks), 5)
        translate_article = median_seconds(lambda: translate_request(request, engine), 3 if args.quick else 1)
        with_memory = TranslationRequest(parse(text, "text"), memory=use)
        translate_with = median_seconds(lambda: translate_request(with_memory, engine), 3 if args.quick else 1)

        corpus = load_workload(1_000).sentences
        rng = random.Random(3)
        thousand = [f"{s} ({rng.randint(1, 99)})" for s in (corpus * (1 + 1_000 // max(1, len(corpus))))[:1_000]]
        archive = TranslationRequest(parse("\n\n".join(thousand), "text"))
        archive_plan = plan(archive, engine)
        lookup_thousand = median_seconds(lambda: remember(use, archive_plan.blocks), 3)
        sample = TranslationRequest(parse("\n\n".join(thousand[: args.sample]), "text"))
        translate_sample = median_seconds(lambda: translate_request(sample, engine), 1)
        translate_thousand = translate_sample * 1_000 / args.sample
        store.close()

    print(f"# bench/memory.py — {cpu_model()}")
    print(f"memory: {args.units:,} synthetic units + 5 article sentences in SQLite, filled in {filled:.1f} s")
    print(f"engine: {engine_name}; article: {sentences} sentences, {len(matched)} answered or suggested by the memory")
    print()
    print("| work | lookup s | translation s | lookup / translation |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| one article ({sentences} sentences) | {lookup_article:.4f} | {translate_article:.3f} |"
          f" {lookup_article / translate_article:.2%} |")  # fmt: skip
    print(f"| 1,000 sentences (translation from {args.sample}, scaled) | {lookup_thousand:.3f} |"
          f" {translate_thousand:.2f} | {lookup_thousand / translate_thousand:.2%} |")  # fmt: skip
    print()
    print(f"article with the memory on, end to end: {translate_with:.3f} s (off: {translate_article:.3f} s)")


if __name__ == "__main__":
    main()
