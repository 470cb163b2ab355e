"""The load test's short version: concurrent clients against a real server; correctness only.

Both tests count every request: the first through bench/load_test.py (clients posting back to back),
the second with clients that pause between requests and reuse their idle connections, where a
server that closes keep-alive connections too early resets requests (a transport error, never a status).
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest

from service.schemas import TranslateResponse
from tests.support.live import LiveServer, cli_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def test_concurrent_clients_get_no_5xx_and_only_well_formed_200s(tiny_checkpoint: Path, tmp_path: Path) -> None:
    report_file = tmp_path / "load.json"
    command = [
        sys.executable,
        str(ROOT / "bench" / "load_test.py"),
        "--clients",
        "16",
        "--duration",
        "6",
        "--ramp",
        "1",
        "--model",
        str(tiny_checkpoint),
        "--json",
        str(report_file),
    ]
    run = subprocess.run(command, capture_output=True, text=True, env=cli_env(), timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(report_file.read_text())
    assert report["requests"] > 16
    assert report["by_status"].get("200", 0) == report["requests"], report["by_status"]
    assert report["malformed"] == 0 and report["transport_errors"] == 0, report["by_error"]


# -- every request's outcome, with clients that reuse their idle connections --------------------------

CLIENTS = 100
ROUNDS = 2  # requests per client: the second goes out on a connection idle for almost POOL_EXPIRY
POOL_EXPIRY = 5.0  # httpx's default keep-alive expiry: its pool reuses a connection idle for less than this
# Seconds between the pool's check that an idle connection is still open and the request's first byte:
# a client whose event loop is busy (under load, with answers to read) takes that long or more.
BUSY = 0.05


def _paragraphs() -> list[str]:
    """Short paragraphs: the one-sentence lines of the tiny checkpoint's corpus."""
    return (ROOT / "tests" / "data" / "corpus.fr.txt").read_text(encoding="utf-8").splitlines()


def _well_formed(paragraph: str, body: bytes) -> bool:
    """One paragraph block whose sentences slice the French, each with an English."""
    try:
        data = TranslateResponse.model_validate_json(body)
    except ValueError:
        return False
    if len(data.blocks) != 1 or data.blocks[0].fr != paragraph:
        return False
    block = data.blocks[0]
    return bool(block.sentences) and all(block.fr[s.start : s.end] == s.fr and s.en for s in block.sentences)


def _outcome(paragraph: str, response: httpx.Response) -> str:
    """A request's outcome: `200` and the documented `503 overloaded` when well formed, else what it was."""
    if response.status_code == 200:
        return "200" if _well_formed(paragraph, response.content) else "200 malformed"
    if response.status_code == 503:
        try:
            code = response.json().get("error", {}).get("code")
        except ValueError:
            code = "not-json"
        retry = response.headers.get("retry-after", "")
        return "503" if code == "overloaded" and retry.isdigit() else f"503 {code} retry-after={retry!r}"
    return str(response.status_code)


async def _clients(url: str, paragraphs: list[str]) -> Counter[str]:
    """CLIENTS clients, ROUNDS requests each, pausing between them up to just under their pool's expiry.

    Under load a burst of answers leaves connections idle for seconds while a busy client works
    through it; a client pool reuses any connection idle for less than its expiry. The server must
    keep those connections open: one it closes as the next request goes out resets that request
    (`httpx.ReadError`), and nothing in the server's log says so. Every outcome is counted: a status,
    or the name of the transport error.
    """
    outcomes: Counter[str] = Counter()

    async def busy(event: str, info: dict[str, object]) -> None:
        if event == "http11.send_request_headers.started":
            await asyncio.sleep(BUSY)

    async def client(number: int, http: httpx.AsyncClient) -> None:
        rng = random.Random(number)
        await asyncio.sleep(rng.uniform(0, 1))  # a ramp, not one burst of connects
        for turn in range(ROUNDS):
            if turn:
                await asyncio.sleep(rng.uniform(POOL_EXPIRY - 0.4, POOL_EXPIRY))
            paragraph = rng.choice(paragraphs)
            try:
                response = await http.post(
                    f"{url}/v1/translate?format=text",
                    content=paragraph.encode(),
                    headers={"Content-Type": "text/plain; charset=utf-8"},
                    extensions={"trace": busy},
                )
            except httpx.TransportError as error:
                outcomes[type(error).__name__] += 1
                continue
            outcomes[_outcome(paragraph, response)] += 1

    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS, keepalive_expiry=POOL_EXPIRY)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        await asyncio.gather(*(client(number, http) for number in range(CLIENTS)))
    return outcomes


def test_every_request_is_answered_when_clients_reuse_idle_connections(tiny_checkpoint: Path, tmp_path: Path) -> None:
    with LiveServer(tiny_checkpoint, tmp_path / "server.log", BITEXT_CACHE_ENTRIES="0") as server:
        outcomes = asyncio.run(_clients(server.url, _paragraphs()))
    assert sum(outcomes.values()) == CLIENTS * ROUNDS, outcomes
    assert set(outcomes) <= {"200", "503"}, f"every request answered, well formed: {dict(outcomes)}"
