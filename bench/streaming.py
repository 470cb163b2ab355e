"""Streaming and cancellation, measured side by side on the full-size random checkpoint (CPU).

Two questions, each answered as a ratio of runs in this one process:

1. *Abandoned work*: a 200-sentence request is queued and its client goes away (its `CancelToken`
   is cancelled, as a closed connection does); a short request sent right after is timed and
   compared with the same short request on an idle server. Target: ≤ 1.5×.
2. *Streaming*: an article posted to the service's own app (served by uvicorn in this process,
   read over HTTP with `Accept: application/x-ndjson`, cache off) against the same article's JSON
   answer: the time to the `start` line (the whole French on screen), the first English block as a
   share of the article's non-streamed time (target ≤ 15 %), and the whole stream against the
   non-streamed answer (target ≤ 1.1×). Two articles: the corpus's paragraphs, and the same
   preceded by one short sentence (a short first block must not wait for the long paragraphs).

Every call generates exactly its output bound (`exact_length`), so random weights cost what the
real opus-mt-fr-en costs per token. The engine, the scheduler, the lanes and the pipeline are the
service's own. The figures are of this run on this machine only: compare the ratios, side by side.

    python bench/streaming.py            # ~60 article sentences, beam 4
    python bench/streaming.py --quick    # ~30 article sentences, greedy: a few minutes on 2 cores
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import cpu_model  # noqa: E402
from bench.workload import full_size_checkpoint, load_workload  # noqa: E402
from models.document import Translation  # noqa: E402
from models.engine import PLAIN_CALL, CallControl, DelegatingEngine, Engine, EngineSpec, GenerationOptions  # noqa: E402
from models.factory import load_engine  # noqa: E402
from service.app import create_app  # noqa: E402
from service.scheduler import Cancelled, CancelToken, Scheduler  # noqa: E402
from service.settings import Settings  # noqa: E402


class Exact(DelegatingEngine):
    """Every call generates exactly its output bound, at the bench's beam width."""

    def __init__(self, engine: object, beams: int) -> None:
        super().__init__(engine)  # type: ignore[arg-type]
        self.beams = beams

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        return self.engine.translate(texts, replace(options, num_beams=self.beams, exact_length=True), control=control)


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


@contextmanager
def serving(engine: Engine) -> Iterator[str]:
    """The service's app on `engine`, cache off, on a free localhost port in this process."""
    import uvicorn

    settings = Settings(
        warmup=False, cache_entries=0, max_chars=10_000_000, max_sentences=100_000, request_timeout_seconds=3600
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(settings, engine=engine), log_level="warning", ws="none"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1/translate"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def streamed(client: httpx.Client, url: str, text: str) -> tuple[float, float, float]:
    """(start line, first block line, end line) in seconds from the request."""
    started = time.perf_counter()
    marks: dict[str, float] = {}
    body = {"text": text, "format": "text"}
    with client.stream("POST", url, json=body, headers={"Accept": "application/x-ndjson"}) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line:
                continue
            kind = json.loads(line)["type"]
            if kind == "error":
                raise RuntimeError(f"the stream failed: {line}")
            marks.setdefault(kind, time.perf_counter() - started)
    return marks["start"], marks["block"], marks["end"]


def answered(client: httpx.Client, url: str, text: str) -> float:
    started = time.perf_counter()
    client.post(url, json={"text": text, "format": "text"}).raise_for_status()
    return time.perf_counter() - started


def streaming(url: str, text: str, repeats: int) -> tuple[float, float, float, float]:
    """Medians of (start, first block, whole stream, non-streamed answer), the two ways alternated.

    The article is translated once before anything is timed: the first run of a full-size article
    pays the allocator's first touch of its batch sizes, and would bias whichever way went first."""
    runs = []
    with httpx.Client(timeout=None) as client:
        answered(client, url, text)
        for repeat in range(repeats):
            if repeat % 2:
                plain = answered(client, url, text)
                start, first, whole = streamed(client, url, text)
            else:
                start, first, whole = streamed(client, url, text)
                plain = answered(client, url, text)
            runs.append((start, first, whole, plain))
            print(
                f"  run {repeat + 1}: first block {first:.2f} s, whole {whole:.2f} s, non-streamed {plain:.2f} s",
                flush=True,
            )
    return tuple(statistics.median(run[i] for run in runs) for i in range(4))  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="greedy, a shorter article, one repeat")
    parser.add_argument("--sentences", type=int, default=None, help="article size (default 60, quick 30)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--lanes", type=int, default=0, help="engine lanes (default: the service's default)")
    parser.add_argument("--repeats", type=int, default=None, help="runs of each measure (default 2, quick 1)")
    parser.add_argument("--streaming-only", action="store_true", help="leave out the abandoned-work measure")
    args = parser.parse_args()
    beams = 1 if args.quick else 4
    size = args.sentences or (30 if args.quick else 60)
    repeats = args.repeats or (1 if args.quick else 2)

    engine = load_engine(EngineSpec(str(full_size_checkpoint()), device="cpu", threads=args.threads, lanes=args.lanes))
    scheduler = Scheduler(Exact(engine, beams), engine.traits.budget, max_wait=0.005)  # type: ignore[arg-type]
    idle = after = float("nan")
    if not args.streaming_only:
        scheduler.start()
        try:
            scheduler.translate(["Bonjour à tous."])  # warm
            long = load_workload(200).sentences[:200]
            idle, after = abandoned(scheduler, long, repeats)
        finally:
            scheduler.close()
    paragraphs = load_workload(size).paragraphs
    articles = {
        "corpus paragraphs": "\n\n".join(paragraphs),
        "short first sentence, then the paragraphs": "\n\n".join(["Le maire a parlé.", *paragraphs]),
    }
    with serving(Exact(engine, beams)) as url:
        answered(httpx.Client(timeout=None), url, "Bonjour à tous.")  # warm
        figures = {name: streaming(url, text, repeats) for name, text in articles.items()}
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores")
    print(
        f"beams {beams}, budget {engine.traits.budget}, lanes {scheduler.workers}, article {size} sentences, "  # type: ignore[attr-defined]
        f"repeats {repeats}"
    )
    print()
    print("| measure | seconds | ratio | target |")
    print("|---|---|---|---|")
    print(f"| short request, idle server | {idle:.3f} | 1.00× | |")
    print(f"| short request after a 200-sentence request was abandoned | {after:.3f} | {after / idle:.2f}× | ≤ 1.5× |")
    for name, (start, first, whole, plain) in figures.items():
        print(f"| {name}: non-streamed answer | {plain:.2f} | 1.00× | |")
        print(f"| {name}: streamed, `start` (all French on screen) | {start:.3f} | {start / plain:.1%} | |")
        print(f"| {name}: streamed, first English block | {first:.2f} | {first / plain:.0%} | ≤ 15 % |")
        print(f"| {name}: streamed, whole | {whole:.2f} | {whole / plain:.2f}× | ≤ 1.1× |")


if __name__ == "__main__":
    main()
