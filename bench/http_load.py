"""Part (f): a real `bitext serve` in a subprocess, 32 concurrent clients, batching on vs off.

Clients post single paragraphs as text/plain with the model's default options (beam 4), as a
newsroom front end would. The cache is off (BITEXT_CACHE_ENTRIES=0) so repeats cannot flatter
either mode; tokens are those the responses report.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.live import LiveServer  # noqa: E402  (the one live-server helper, shared with the tests)


@dataclass(frozen=True, slots=True)
class LoadResult:
    tokens: int
    seconds: float
    requests: int
    peak_rss_mb: float
    mean_batch_sentences: float


@contextmanager
def server(checkpoint: Path, batching: bool, **env: str) -> Iterator[LiveServer]:
    """`bitext serve` on a free port (tests/support/live.py), cache off, batching as asked."""
    with tempfile.TemporaryDirectory() as data:
        settings = {
            "BITEXT_DEVICE": "cpu",
            "BITEXT_BATCHING": "true" if batching else "false",
            "BITEXT_CACHE_ENTRIES": "0",
            "BITEXT_DATA_DIR": data,
            **env,
        }
        with LiveServer(checkpoint, Path(data) / "serve.log", ready_timeout=180, **settings) as live:
            yield live


async def _post(client: httpx.AsyncClient, url: str, paragraph: str) -> tuple[int, float]:
    started = time.perf_counter()
    response = await client.post(
        f"{url}/v1/translate", content=paragraph.encode(), headers={"Content-Type": "text/plain; charset=utf-8"}
    )
    response.raise_for_status()
    return int(response.json()["stats"]["output_tokens"]), time.perf_counter() - started


async def _load(url: str, paragraphs: list[str], clients: int) -> tuple[int, float]:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for paragraph in paragraphs:
        queue.put_nowait(paragraph)
    tokens = 0

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal tokens
        while not queue.empty():
            n, _ = await _post(client, url, queue.get_nowait())
            tokens += n

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(timeout=900, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
        return tokens, time.perf_counter() - started


def _mean_batch(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    values = {
        line.split()[0]: float(line.split()[1])
        for line in text.splitlines()
        if line.startswith("bitext_batch_sentences_")
    }
    count = values.get("bitext_batch_sentences_count", 0.0)
    return values.get("bitext_batch_sentences_sum", 0.0) / count if count else float("nan")


def throughput(checkpoint: Path, paragraphs: list[str], batching: bool, clients: int = 32) -> LoadResult:
    with server(checkpoint, batching) as live:
        tokens, seconds = asyncio.run(_load(live.url, paragraphs, clients))
        return LoadResult(tokens, seconds, len(paragraphs), live.peak_rss_mb(), _mean_batch(live.url))


def idle_latency(checkpoint: Path, paragraphs: list[str], repeats: int = 3) -> list[float]:
    """One request at a time on an otherwise idle server (batching on, the default).

    Each paragraph's best of `repeats` (the cache is off): other load on a shared machine only
    ever adds time, so the minimum is the least noisy estimate of the request's own cost.
    """

    async def run(url: str) -> list[float]:
        async with httpx.AsyncClient(timeout=900) as client:
            await _post(client, url, "Bonjour à tous.")
            return [min([(await _post(client, url, p))[1] for _ in range(repeats)]) for p in paragraphs]

    with server(checkpoint, batching=True) as live:
        url = live.url
        return asyncio.run(run(url))


def percentile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]
