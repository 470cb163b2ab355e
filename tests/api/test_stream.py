"""`POST /v1/translate` with `Accept: application/x-ndjson`: start, blocks in reading order, end."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient

from models.document import Translation
from models.engine import GenerationOptions
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
    assert start["blocks"] == len(data["blocks"]) and start["sentences"] == data["stats"]["sentences"]
    assert start["model"] == data["model"] and start["format"] == data["format"]
    assert [e["block"] for e in lines[1:-1]] == data["blocks"]
    assert end["warnings"] == data["warnings"]
    same = ("blocks", "sentences", "source_tokens", "output_tokens")
    assert {k: end["stats"][k] for k in same} == {k: data["stats"][k] for k in same}
    return lines


def test_stream_blocks_concatenate_to_the_full_answer(client: TestClient, article_text: str) -> None:
    lines = assert_same_as_full(client, article_text)
    assert [e["block"]["index"] for e in lines[1:-1]] == list(range(len(lines) - 2))


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
    def translate(self, texts: Sequence[str], options: GenerationOptions = GenerationOptions()) -> list[Translation]:
        if any("boum" in text for text in texts):
            raise RuntimeError("engine exploded")
        return super().translate(texts, options)


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


def stream_threads() -> int:
    return sum(1 for thread in threading.enumerate() if thread.name.startswith("bitext-stream"))


def test_streams_nobody_reads_share_a_bounded_pool_and_start_no_thread_each() -> None:
    """Issue 21: each NDJSON stream started threads of its own (20 unread streams: 67 threads).

    Twelve streams are opened and never read past their first line while the engine holds their
    sentences: their groups wait in the one pool of `stream_threads` (4 here), not in 2 threads each.
    """
    streams, workers = 12, 4
    engine = GatedEngine()
    app = create_app(Settings(stream_threads=workers, warmup=False, cache_entries=0), engine=engine)
    first_lines: list[bytes] = []
    before = stream_threads()

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
            assert stream_threads() - before <= workers
        finally:
            engine.release.set()
            for task in tasks:
                task.cancel()
