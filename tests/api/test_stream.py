"""`POST /v1/translate` with `Accept: application/x-ndjson`: start, blocks in reading order, end."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient

from models.document import Translation
from models.engine import PLAIN_CALL, CallControl, GenerationOptions
from service.app import create_app
from service.settings import Settings
from tests.support.fakes import FakeEngine, GatedEngine

NDJSON = {"Accept": "application/x-ndjson"}


@pytest.fixture
def client(fake_engine: FakeEngine) -> Iterator[TestClient]:
    settings = Settings(max_body_bytes=100_000, max_chars=20_000, max_sentences=50)
    with TestClient(create_app(settings, engine=fake_engine)) as test_client:
        yield test_client


def events(response: Any) -> list[dict[str, Any]]:
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines() if line]


def assert_same_as_full(client: TestClient, body: str) -> list[dict[str, Any]]:
    headers = {"Content-Type": "text/plain; charset=utf-8"}
    full = client.post("/v1/translate", content=body.encode(), headers=headers)
    streamed = client.post("/v1/translate", content=body.encode(), headers={**headers, **NDJSON})
    assert full.status_code == streamed.status_code == 200
    lines = events(streamed)
    data = full.json()
    assert [e["type"] for e in lines] == ["start"] + ["block"] * len(data["blocks"]) + ["end"]
    start, end = lines[0], lines[-1]
    # the start carries every block's French and kind, exactly as the blocks that follow have them
    source_fields = ("index", "kind", "fr", "translated", "prefix", "suffix", "url", "markup", "cell")
    announced = [{k: block[k] for k in source_fields if k in block} for block in data["blocks"]]
    assert start["blocks"] == announced and start["sentences"] == data["stats"]["sentences"]
    assert start["model"] == data["model"] and start["format"] == data["format"]
    assert [e["block"] for e in lines[1:-1]] == data["blocks"]
    assert end["warnings"] == data["warnings"]
    same = ("blocks", "sentences", "source_tokens", "output_tokens")
    assert {k: end["stats"][k] for k in same} == {k: data["stats"][k] for k in same}
    return lines


def test_stream_blocks_concatenate_to_the_full_answer(client: TestClient, article_text: str) -> None:
    lines = assert_same_as_full(client, article_text)
    assert [e["block"]["index"] for e in lines[1:-1]] == list(range(len(lines) - 2))


def test_the_start_carries_all_the_french_of_every_kind(client: TestClient) -> None:
    """Issue 24: the page draws the whole French column from `start`, before any English."""
    body = (
        "# Le budget\n\n## Les écoles\n\n![Une piscine en plein air](https://example.org/p.jpg)\n\n"
        "Le conseil a voté **le budget** hier. Les élus ont parlé.\n\n"
        "| Poste | Montant |\n| --- | --- |\n| Écoles | 12 |\n\n```\ncode = 1\n```\n\nLa piscine ouvrira en juin."
    )
    lines = assert_same_as_full(client, body)
    start = lines[0]
    kinds = {block["kind"] for block in start["blocks"]}
    assert {"heading", "image", "paragraph", "cell", "verbatim"} <= kinds
    assert all("en" not in block and "sentences" not in block for block in start["blocks"])
    french = "".join(block["prefix"] + block["fr"] + block["suffix"] for block in start["blocks"])
    for piece in (
        "Le budget",
        "Les écoles",
        "Une piscine en plein air",
        "**le budget**",
        "Écoles",
        "code = 1",
        "ouvrira en juin",
    ):
        assert piece in french


def test_without_the_accept_header_nothing_changes(client: TestClient) -> None:
    response = client.post("/v1/translate", json={"text": "Bonjour."}, headers={"Accept": "application/json"})
    assert response.headers["content-type"] == "application/json"
    assert response.json()["blocks"][0]["en"] == "EN<Bonjour.>"


def test_errors_before_the_start_keep_their_status(client: TestClient) -> None:
    too_many = " ".join(f"Phrase {i}." for i in range(60))
    response = client.post("/v1/translate", json={"text": too_many}, headers=NDJSON)
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_many_sentences"
    response = client.post("/v1/translate", json={"text": "x", "options": {"num_beams": 99}}, headers=NDJSON)
    assert response.status_code == 422


class FailingEngine(FakeEngine):
    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        if any("boum" in text for text in texts):
            raise RuntimeError("engine exploded")
        return super().translate(texts, options, control=control)


def test_a_failure_after_the_start_ends_the_stream_with_an_error() -> None:
    settings = Settings(max_sentences=50)
    with TestClient(create_app(settings, engine=FailingEngine())) as client:
        body = "Premier paragraphe.\n\nDeuxième paragraphe.\n\nTroisième.\n\nQuatrième.\n\nEt boum ici.\n\nFin."
        response = client.post("/v1/translate", content=body, headers={"Content-Type": "text/plain", **NDJSON})
    assert response.status_code == 200
    lines = events(response)
    assert lines[0]["type"] == "start" and lines[-1]["type"] == "error"
    assert set(lines[-1]["error"]) >= {"code", "message"}
    blocks = [e["block"] for e in lines if e["type"] == "block"]
    assert all("boum" not in block["fr"] for block in blocks)
    assert [b["index"] for b in blocks] == list(range(len(blocks)))


def test_openapi_documents_the_stream(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    content = spec["paths"]["/v1/translate"]["post"]["responses"]["200"]["content"]
    assert "application/x-ndjson" in content and "application/json" in content
    assert "StreamEvent" in spec["components"]["schemas"]


@pytest.mark.integration
def test_stream_equals_full_answer_on_the_tiny_checkpoint(tiny_checkpoint: Path, article_text: str) -> None:
    settings = Settings(model=str(tiny_checkpoint), device="cpu", max_sentences=500)
    with TestClient(create_app(settings)) as client:
        assert_same_as_full(client, article_text)


def waiting_threads() -> list[str]:
    """Threads blocked on a `concurrent.futures.Future` (a stream group waiting for its translations)."""
    frames = sys._current_frames()
    waiting = []
    for thread in threading.enumerate():
        frame = frames.get(thread.ident or 0)
        while frame is not None:
            code = frame.f_code
            if code.co_name == "result" and code.co_filename.endswith(
                os.path.join("concurrent", "futures", "_base.py")
            ):
                waiting.append(thread.name)
                break
            frame = frame.f_back
    return waiting


def test_streams_nobody_reads_hold_no_thread_while_they_wait() -> None:
    """Issue 21, then 22: each NDJSON stream started threads of its own (20 unread streams: 67
    threads), then waited in a shared pool. Now a stream hands its work to the scheduler and awaits
    it on the event loop: twelve unread streams whose sentences the engine holds keep no thread
    waiting on them."""
    streams = 12
    engine = GatedEngine()
    app = create_app(Settings(warmup=False, cache_entries=0), engine=engine)
    first_lines: list[bytes] = []

    async def unread(index: int) -> None:
        body = json.dumps({"text": f"Le conseil numéro {index} a voté la mesure."}).encode()
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/v1/translate",
            "raw_path": b"/v1/translate",
            "root_path": "",
            "query_string": b"",
            "headers": [(b"content-type", b"application/json"), (b"accept", b"application/x-ndjson")],
            "client": ("127.0.0.1", 1),
            "server": ("testserver", 80),
        }
        sent = False
        own_lines: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await anyio.sleep_forever()  # connected, never disconnects
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                if own_lines:  # past the `start` line this client reads nothing more
                    await anyio.sleep_forever()
                own_lines.append(message["body"])
                first_lines.append(message["body"])

        await app(scope, receive, send)

    with TestClient(app) as client:
        tasks = [client.portal.start_task_soon(unread, index) for index in range(streams)]
        try:
            deadline = time.monotonic() + 30
            while (len(first_lines) < streams or not engine.entered.is_set()) and time.monotonic() < deadline:
                client.portal.call(anyio.sleep, 0.01)  # the streams' loop runs on
            assert len(first_lines) == streams and engine.entered.is_set(), "the streams never started"
            for _ in range(20):  # a few more turns of the loop: every stream past its first line
                client.portal.call(anyio.sleep, 0.01)
            assert waiting_threads() == []
        finally:
            engine.release.set()
            for task in tasks:
                task.cancel()
