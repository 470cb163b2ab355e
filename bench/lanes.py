"""One call alone on every thread against the same sentences split over two lanes, by call size.

    python bench/lanes.py [--beams 4] [--sizes 2,4,8,16,32]

The scheduler runs a call alone (every lane's threads, the other lane waiting) when it is at most
`SMALL_CALL_ROWS` decoder rows (sentences x beams) and every lane is idle (`models.batching`,
`service.queueing`); the same runs give `STEP_ROWS`, a step's fixed cost. This measures why: on
a CPU a small call is bound by reading the weights once per decoding step, so two threads on one
call beat two one-thread calls, until the calls are large enough to be bound by arithmetic.
Full-size random checkpoint, forced output lengths, sentences of 30-40 tokens from the shipped
corpus (a call holds sentences of like length: the scheduler cuts by length); each size is timed
`--repeats` times each way, alternating, and the best of each is reported.

    python bench/lanes.py --uneven [--repeats 4]

Two calls side by side that do not end together (24 sentences on one lane, 8 on the other): the
time until both are done with `MarianEngine.widen_when_alone` on (the call left running takes
the idle lane's thread from its next decoding step) and off, alternating, medians reported.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import cpu_model  # noqa: E402
from bench.workload import full_size_checkpoint, load_workload  # noqa: E402
from models.engine import CallControl, EngineSpec, GenerationOptions  # noqa: E402
from models.factory import load_engine  # noqa: E402

ALONE = CallControl(alone=True)
SHARED = CallControl(alone=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beams", type=int, default=4)
    parser.add_argument("--sizes", default="2,4,8,16,32", help="sentences per call, comma-separated (even)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--uneven", action="store_true", help="two calls that end apart, widening on and off")
    args = parser.parse_args()
    engine = load_engine(EngineSpec(str(full_size_checkpoint()), device="cpu", lanes=2))
    sentences = [s for s in load_workload().sentences if 30 <= engine.count_tokens([s])[0] <= 40]
    options = GenerationOptions(num_beams=args.beams, exact_length=True)
    engine.translate(sentences[:2], options)  # the allocator's first touch
    if args.uneven:
        uneven(engine, sentences, options, args.repeats)
        return

    def alone(rows: list[str]) -> float:
        started = time.perf_counter()
        engine.translate(rows, options, control=ALONE)
        return time.perf_counter() - started

    def split(rows: list[str]) -> float:
        half = len(rows) // 2
        return side_by_side(engine, [rows[:half], rows[half:]], options)

    print(f"CPU: {cpu_model()}; beams {args.beams}; full-size random checkpoint, forced lengths")
    print("| sentences | one call alone (2 threads) | two calls side by side (1 thread each) | alone / split |")
    print("|---|---|---|---|")
    for size in (int(s) for s in args.sizes.split(",")):
        rows = sentences[:size]
        alones, splits = [], []
        for _ in range(args.repeats):
            alones.append(alone(rows))
            splits.append(split(rows))
        best_alone, best_split = min(alones), min(splits)
        print(f"| {size} | {best_alone:.2f} s | {best_split:.2f} s | {best_alone / best_split:.2f} |", flush=True)


def side_by_side(engine: Any, parts: list[list[str]], options: GenerationOptions) -> float:
    """Seconds until every part, each one call on its own lane, is done."""
    lanes = [
        threading.Thread(target=engine.translate, args=(part, options), kwargs={"control": SHARED}) for part in parts
    ]
    started = time.perf_counter()
    for lane in lanes:
        lane.start()
    for lane in lanes:
        lane.join()
    return time.perf_counter() - started


def uneven(engine: Any, sentences: list[str], options: GenerationOptions, repeats: int) -> None:
    parts = [sentences[:24], sentences[24:32]]
    times: dict[bool, list[float]] = {True: [], False: []}
    for repeat in range(repeats):
        for widen in (True, False) if repeat % 2 else (False, True):
            engine.widen_when_alone = widen
            times[widen].append(side_by_side(engine, parts, options))
    engine.widen_when_alone = True
    narrow, wide = statistics.median(times[False]), statistics.median(times[True])
    print(f"CPU: {cpu_model()}; beams {options.num_beams}; full-size random checkpoint, forced lengths")
    print("| 24 and 8 sentences side by side | both done (median) |")
    print("|---|---|")
    print(f"| each call on its lane's thread to the end | {narrow:.2f} s |")
    print(f"| the call left running takes the idle lane's thread | {wide:.2f} s ({wide / narrow:.2f}×) |")
    print("runs:", {("wide" if k else "narrow"): [round(t, 2) for t in v] for k, v in times.items()})


if __name__ == "__main__":
    main()
