"""The event loop keeps answering while worst-case requests are in flight on a live server.

CPU work on a request (decoding, parsing, language detection, glossary compilation, rendering)
must run off the loop: a health probe that waits behind it is a frozen server. The bound is
generous (1 s) because a blocked loop shows as many seconds, not milliseconds.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.support.live import LiveServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LIMIT = 200_000
# Each is a shape that made a step super-linear or long somewhere: a heading with a long run of
# blanks, many unclosed image lines, a charset with a quadratic decoder, an article-sized body
# with thousands of sentences, a glossary that compiles into a large pattern.
WORST = [
    ("text/markdown", ("# a" + " " * (LIMIT - 8) + "b").encode()),
    ("text/plain", ("![a\n" * (LIMIT // 4 - 1)).encode()),
    ("text/plain; charset=punycode", b"a" * (LIMIT * 2)),
    ("text/plain", ("Le conseil a voté. " * (LIMIT // 20)).encode()),
    ("text/html", ("<div>" * 3000 + "<p>Le conseil a voté la mesure.</p>" + "</div>" * 3000).encode()),
]


def test_health_answers_within_a_second_while_worst_cases_run(tiny_checkpoint: Path, tmp_path: Path) -> None:
    env = {"BITEXT_REQUEST_TIMEOUT_SECONDS": "4", "BITEXT_MAX_BODY_BYTES": str(LIMIT * 3)}
    with LiveServer(tiny_checkpoint, tmp_path / "server.log", **env) as server:
        statuses: list[int] = []
        worst_probe = 0.0
        for media, body in WORST:
            done = threading.Event()

            def send(media: str = media, body: bytes = body, done: threading.Event = done) -> None:
                try:
                    reply = httpx.post(
                        f"{server.url}/v1/translate", content=body, headers={"Content-Type": media}, timeout=120
                    )
                    statuses.append(reply.status_code)
                finally:
                    done.set()

            sender = threading.Thread(target=send)
            sender.start()
            time.sleep(0.05)
            while not done.is_set():
                started = time.perf_counter()
                assert httpx.get(f"{server.url}/health/live", timeout=30).status_code == 200
                worst_probe = max(worst_probe, time.perf_counter() - started)
                time.sleep(0.05)
            sender.join()
        assert worst_probe < 1.0, f"/health/live took {worst_probe:.2f} s behind a worst-case request"
        assert all(status < 500 or status in (503, 504) for status in statuses), statuses
