"""A bounded load test: ramp to N concurrent clients against a real `bitext serve` for a fixed time.

Every client loops posting one French paragraph (text/plain), checks each 200 against the JSON
contract (one block per paragraph, one English per sentence, offsets that slice the French), and
records latency and status. It reports throughput, p50/p95/p99, counts by status, transport errors
by kind (a reset connection is `ReadError`), malformed responses, and the server's RSS before and
after. Traffic goes to 127.0.0.1 only, and the run stops by itself after `--duration` seconds.

    python bench/load_test.py                           # 200 clients, 60 s, tiny checkpoint
    python bench/load_test.py --clients 20 --duration 5 --json out.json   # the CI smoke version
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

from http_load import server  # noqa: E402

from service.schemas import TranslateResponse  # noqa: E402


@dataclass
class LoadReport:
    clients: int
    seconds: float
    requests: int
    by_status: dict[str, int]
    malformed: int
    transport_errors: int
    by_error: dict[str, int]
    requests_per_second: float
    sentences_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    rss_before_mb: float
    rss_after_mb: float


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def well_formed(paragraph: str, body: bytes) -> bool:
    """A 200 that keeps the contract: one paragraph block, sentences that slice its French."""
    try:
        data = TranslateResponse.model_validate_json(body)
    except ValueError:
        return False
    if len(data.blocks) != 1 or data.blocks[0].fr != paragraph.strip():
        return False
    block = data.blocks[0]
    return all(block.fr[s.start : s.end] == s.fr and s.en for s in block.sentences)


def _quantile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def _run(
    url: str, paragraphs: list[str], clients: int, duration: float, ramp: float
) -> tuple[list[float], Counter[str], int, Counter[str], int, float]:
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()  # transport errors by exception name: every request is counted once
    malformed = sentences = 0
    started = time.monotonic()
    stop_at = started + duration

    async def client_loop(number: int, client: httpx.AsyncClient) -> None:
        nonlocal malformed, sentences
        await asyncio.sleep(ramp * number / clients)  # linear ramp-up
        rng = random.Random(number)
        while time.monotonic() < stop_at:
            paragraph = rng.choice(paragraphs)
            sent = time.perf_counter()
            try:
                response = await client.post(
                    f"{url}/v1/translate?format=text",
                    content=paragraph.encode(),
                    headers={"Content-Type": "text/plain; charset=utf-8"},
                )
            except httpx.TransportError as error:
                errors[type(error).__name__] += 1
                continue
            statuses[str(response.status_code)] += 1
            if response.status_code == 200:
                latencies.append(time.perf_counter() - sent)
                if well_formed(paragraph, response.content):
                    sentences += len(response.json()["blocks"][0]["sentences"])
                else:
                    malformed += 1
            elif response.status_code == 503:
                await asyncio.sleep(float(response.headers.get("Retry-After", "1")))

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=httpx.Timeout(duration + 120), limits=limits) as client:
        await asyncio.gather(*(client_loop(i, client) for i in range(clients)))
    return latencies, statuses, malformed, errors, sentences, time.monotonic() - started


def run_load(checkpoint: Path, paragraphs: list[str], clients: int, duration: float, ramp: float) -> LoadReport:
    with server(checkpoint, batching=True, BITEXT_CACHE_ENTRIES="0", BITEXT_THREADS="2") as live:
        rss_before = _rss_mb(live.pid)
        latencies, statuses, malformed, errors, sentences, seconds = asyncio.run(
            _run(live.url, paragraphs, clients, duration, ramp)
        )
        rss_after = _rss_mb(live.pid)
    ms = [value * 1000 for value in latencies]
    requests = sum(statuses.values())
    return LoadReport(
        clients=clients,
        seconds=round(seconds, 1),
        requests=requests,
        by_status=dict(sorted(statuses.items())),
        malformed=malformed,
        transport_errors=sum(errors.values()),
        by_error=dict(sorted(errors.items())),
        requests_per_second=round(requests / seconds, 2),
        sentences_per_second=round(sentences / seconds, 2),
        p50_ms=round(_quantile(ms, 50), 1),
        p95_ms=round(_quantile(ms, 95), 1),
        p99_ms=round(_quantile(ms, 99), 1),
        rss_before_mb=round(rss_before, 1),
        rss_after_mb=round(rss_after, 1),
    )


def _tiny_checkpoint(directory: Path) -> Path:
    from models.synthetic import TINY, build_marian_checkpoint

    data = ROOT / "tests" / "data"
    french = (data / "corpus.fr.txt").read_text(encoding="utf-8").splitlines()
    english = (data / "corpus.en.txt").read_text(encoding="utf-8").splitlines()
    return build_marian_checkpoint(directory, french, english, TINY)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load, ramp included")
    parser.add_argument(
        "--ramp", type=float, default=None, help="seconds to reach all clients (default: a quarter of the duration)"
    )
    parser.add_argument("--model", type=Path, default=None, help="checkpoint directory (default: build the tiny one)")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args()
    paragraphs = [p for p in (BENCH / "corpus" / "fr.txt").read_text(encoding="utf-8").split("\n\n") if p.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = args.model or _tiny_checkpoint(Path(tmp) / "tiny")
        report = run_load(
            checkpoint, paragraphs, args.clients, args.duration, args.duration / 4 if args.ramp is None else args.ramp
        )
    print(json.dumps(asdict(report), indent=2))
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
