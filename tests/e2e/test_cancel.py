"""A client that goes away withdraws its waiting sentences, on a live server with the tiny checkpoint.

A long request is sent on a raw socket, the test waits until its sentences are queued, closes the
socket, and reads `/metrics`: the interactive queue empties, and far fewer sentences reached the
engine than were sent. Then a short request is answered. No timing is asserted beyond a liveness
bound (the queue must empty within 30 s, where the whole article would take much longer).
"""

from __future__ import annotations

import json
import re
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.support.live import LiveServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SENTENCES = 400
ENV = {
    "BITEXT_MAX_SENTENCES": "5000",
    "BITEXT_BATCH_MAX_SENTENCES": "2",
    "BITEXT_CACHE_ENTRIES": "0",
    "BITEXT_REQUEST_TIMEOUT_SECONDS": "600",
}


def metric(url: str, name: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    found = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def queued(url: str) -> float:
    return metric(url, 'bitext_queue_sentences{priority="interactive"}')


def translated(url: str) -> float:
    return metric(url, "bitext_batch_sentences_sum")


def open_request(server: LiveServer, stream: bool) -> socket.socket:
    text = "\n\n".join(f"Le conseil municipal numéro {i} a voté la mesure {i} hier soir." for i in range(SENTENCES))
    body = json.dumps({"text": text, "format": "text"}).encode()
    accept = "application/x-ndjson" if stream else "application/json"
    head = (
        f"POST /v1/translate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Accept: {accept}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.sendall(head.encode() + body)
    return sock


def wait_for(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("stream", [False, True], ids=["json", "ndjson"])
def test_a_closed_connection_empties_the_queue(tiny_checkpoint: Path, tmp_path: Path, stream: bool) -> None:
    with LiveServer(tiny_checkpoint, tmp_path / "server.log", **ENV) as server:
        before = translated(server.url)
        sock = open_request(server, stream)
        assert wait_for(lambda: queued(server.url) > SENTENCES / 2, 30), "the request's sentences never queued"
        if stream:
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        sock.close()
        assert wait_for(lambda: queued(server.url) == 0, 30), "the queue kept the closed request's sentences"
        done = translated(server.url) - before
        assert done < SENTENCES / 2, f"{done} of {SENTENCES} sentences were translated for nobody"
        reply = httpx.post(f"{server.url}/v1/translate", json={"text": "Bonjour."}, timeout=30)
        assert reply.status_code == 200
        # the short one, and at most the batch that was in flight when the connection closed
        assert translated(server.url) - before <= done + 1 + int(ENV["BITEXT_BATCH_MAX_SENTENCES"])
