"""The cost of `alternatives` and `scores`: the same sentences with and without them, side by side in one run.

    python bench/alternatives.py                          # transformers and ct2, about 3 minutes on 2 cores
    python bench/alternatives.py --engines transformers --sentences 24 --rounds 3

Full-size random-weight checkpoint (the opus-mt-fr-en shape, `workload.full_size_checkpoint`).
Every sentence generates exactly its output bound (EOS forbidden before it, as in `variants.py`),
so each variant runs the same decoding steps and a ratio is the cost of returning and scoring
more of the beam, not of different output lengths. Variants are interleaved round by round and
the best round of each is kept, so a busy shared machine slows them alike. Not part of the tests.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from machine import cpu_model  # noqa: E402
from workload import CACHE, full_size_checkpoint, load_workload  # noqa: E402

from models.engine import Engine, EngineSpec, GenerationOptions  # noqa: E402
from models.factory import load_engine  # noqa: E402

BEAMS = 4
VARIANTS = {
    "off": GenerationOptions(num_beams=BEAMS, exact_length=True),
    "alternatives=3": GenerationOptions(num_beams=BEAMS, exact_length=True, alternatives=3),
    "scores": GenerationOptions(num_beams=BEAMS, exact_length=True, scores=True),
    "alternatives=3 + scores": GenerationOptions(num_beams=BEAMS, exact_length=True, alternatives=3, scores=True),
}


def measure(engine: Engine, sentences: list[str], rounds: int) -> dict[str, tuple[float, int, int]]:
    """Best seconds per variant, output tokens, and how many alternatives came back in all."""
    engine.translate(sentences[:4], VARIANTS["alternatives=3 + scores"])  # warm-up: lazy initialisation
    best: dict[str, tuple[float, int, int]] = {}
    for _ in range(rounds):
        for name, options in VARIANTS.items():
            started = time.perf_counter()
            results = engine.translate(sentences, options)
            seconds = time.perf_counter() - started
            tokens = sum(r.output_tokens for r in results)
            others = sum(len(r.alternatives) for r in results)
            if name not in best or seconds < best[name][0]:
                best[name] = (seconds, tokens, others)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=16, help="first sentences of the shipped corpus")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds; the best of each variant is kept")
    parser.add_argument("--engines", default="transformers,ct2", help="comma-separated: transformers, ct2")
    args = parser.parse_args()
    checkpoint = full_size_checkpoint()
    sentences = load_workload(args.sentences).sentences[: args.sentences]
    print(f"CPU: {cpu_model()}; {len(sentences)} sentences, beam {BEAMS}, best of {args.rounds} interleaved rounds")
    print()
    print("| engine | variant | seconds | output tokens | tokens/s | vs off | alternatives returned |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for kind in args.engines.split(","):
        dtype = "int8" if kind == "ct2" else "float32"
        spec = EngineSpec(str(checkpoint), kind=kind, device="cpu", dtype=dtype, cache_dir=CACHE / "ct2")
        engine = load_engine(spec)
        best = measure(engine, sentences, args.rounds)
        base = best["off"][0]
        for name, (seconds, tokens, others) in best.items():
            print(
                f"| {kind} ({dtype}) | {name} | {seconds:.2f} | {tokens} | {tokens / seconds:.0f} | "
                f"{seconds / base:.2f}x | {others} |"
            )


if __name__ == "__main__":
    main()
