"""Streaming and cancellation, measured side by side on the full-size random checkpoint (CPU).

Two questions, each answered as a ratio of runs in this one process:

1. *Abandoned work*: a 200-sentence request is queued and its client goes away (its `CancelToken`
   is cancelled, as a closed connection does); a short request sent right after is timed and
   compared with the same short request on an idle server. Target: ≤ 1.5×.
2. *Streaming*: an article through `DocumentStream` on the scheduler (what
   `Accept: application/x-ndjson` runs): time to its first paragraph block against the whole
   article's time (target ≤ 15 %), and the whole stream against the non-streaming
   `translate_document` on the same scheduler (target ≤ 1.1×).

Every call generates exactly its output bound (`exact_length`), so random weights cost what the
real opus-mt-fr-en costs per token. The engine, the scheduler, the lanes and the pipeline are the
service's own; HTTP is left out (it adds the same few milliseconds to both sides).

    python bench/streaming.py            # ~60 article sentences, beam 4
    python bench/streaming.py --quick    # ~30 article sentences, greedy: a few minutes on 2 cores
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run import _machine  # noqa: E402
from bench.workload import full_size_checkpoint, load_workload  # noqa: E402
from models.document import Translation  # noqa: E402
from models.engine import DelegatingEngine, EngineSpec, GenerationOptions  # noqa: E402
from models.factory import load_engine  # noqa: E402
from models.parse import parse  # noqa: E402
from models.pipeline import DocumentStream, translate_document  # noqa: E402
from models.request import TranslationRequest
from service.scheduler import Cancelled, CancelToken, Scheduler  # noqa: E402


class Exact(DelegatingEngine):
    """Every call generates exactly its output bound, at the bench's beam width."""

    def __init__(self, engine: object, beams: int) -> None:
        super().__init__(engine)  # type: ignore[arg-type]
        self.beams = beams

    def translate(self, texts, options=GenerationOptions()) -> list[Translation]:  # type: ignore[no-untyped-def]
        return self.engine.translate(texts, replace(options, num_beams=self.beams, exact_length=True))


def _short(run: int) -> list[str]:
    return [f"Le conseil municipal s'est réuni le {run + 1} mars pour la {run + 2}e fois."]


def abandoned(scheduler: Scheduler, long: list[str], repeats: int) -> tuple[float, float]:
    """Median latency of a short request: on an idle scheduler, then right after a 200-sentence one was abandoned."""
    idle, after = [], []
    for run in range(repeats):
        started = time.perf_counter()
        scheduler.translate(_short(run))
        idle.append(time.perf_counter() - started)
    for run in range(repeats):
        token = CancelToken()
        lane = scheduler.lane("interactive", None, token)
        texts = [f"{text} ({run})" for text in long]  # never the same sentences twice

        def send(lane=lane, texts=texts) -> None:  # type: ignore[no-untyped-def]
            try:
                lane.translate(texts)
            except Cancelled:
                pass

        thread = threading.Thread(target=send)
        thread.start()
        while scheduler.pending == 0:  # queued all at once…
            time.sleep(0.001)
        while scheduler.pending >= len(texts):  # …then a worker has taken a batch of it
            time.sleep(0.001)
        time.sleep(0.05)  # the worker has started a batch of it
        token.cancel()
        started = time.perf_counter()
        scheduler.translate(_short(repeats + run))
        after.append(time.perf_counter() - started)
        thread.join()
    return statistics.median(idle), statistics.median(after)


def streaming(scheduler: Scheduler, text: str) -> tuple[float, float, float]:
    """(first block, whole stream, non-streaming) in seconds, the two sides alternated."""
    document = parse(text, "text")
    stream = DocumentStream(TranslationRequest(document), scheduler.lane())
    started = time.perf_counter()
    first = None
    for _ in stream:
        if first is None:
            first = time.perf_counter() - started
    total = time.perf_counter() - started
    started = time.perf_counter()
    translate_document(document, scheduler.lane())
    plain = time.perf_counter() - started
    assert first is not None
    return first, total, plain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="greedy, a shorter article, one repeat")
    parser.add_argument("--sentences", type=int, default=None, help="article size (default 60, quick 30)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--lanes", type=int, default=0, help="engine lanes (default: the service's default)")
    args = parser.parse_args()
    beams = 1 if args.quick else 4
    size = args.sentences or (30 if args.quick else 60)
    repeats = 1 if args.quick else 2

    engine = load_engine(EngineSpec(str(full_size_checkpoint()), device="cpu", threads=args.threads, lanes=args.lanes))
    scheduler = Scheduler(Exact(engine, beams), engine.traits.budget, max_wait=0.005)  # type: ignore[arg-type]
    scheduler.start()
    try:
        scheduler.translate(["Bonjour à tous."])  # warm
        long = load_workload(200).sentences[:200]
        idle, after = abandoned(scheduler, long, repeats)
        article = "\n\n".join(load_workload(size).paragraphs)
        streamed = [streaming(scheduler, article) for _ in range(repeats)]
    finally:
        scheduler.close()
    first = statistics.median(s[0] for s in streamed)
    total = statistics.median(s[1] for s in streamed)
    plain = statistics.median(s[2] for s in streamed)
    print(f"machine: {_machine()}")
    print(
        f"beams {beams}, budget {engine.traits.budget}, lanes {scheduler.workers}, article {size} sentences, "  # type: ignore[attr-defined]
        f"repeats {repeats}"
    )
    print()
    print("| measure | seconds | ratio | target |")
    print("|---|---|---|---|")
    print(f"| short request, idle server | {idle:.3f} | 1.00× | |")
    print(f"| short request after a 200-sentence request was abandoned | {after:.3f} | {after / idle:.2f}× | ≤ 1.5× |")
    print(f"| article, non-streaming | {plain:.2f} | 1.00× | |")
    print(f"| article, streamed: first block | {first:.2f} | {first / total:.0%} of the stream | ≤ 15 % |")
    print(f"| article, streamed: whole | {total:.2f} | {total / plain:.2f}× | ≤ 1.1× |")


if __name__ == "__main__":
    main()
