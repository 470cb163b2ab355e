"""The scheduler, the cache and `/metrics` through the HTTP app, with the fake engine."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings
from tests.support.fakes import FakeEngine
from tests.unit.test_scheduler import WAIT, GatedEngine


def _client(engine: FakeEngine, tmp_path: Path, **settings: object) -> TestClient:
    return TestClient(create_app(Settings(warmup=False, data_dir=tmp_path, **settings), engine=engine))  # type: ignore[arg-type]


def _post(client: TestClient, text: str) -> httpx.Response:
    return client.post("/v1/translate", content=text.encode(), headers={"Content-Type": "text/plain; charset=utf-8"})


def test_a_full_queue_is_a_503_with_retry_after(tmp_path: Path) -> None:
    engine = GatedEngine()
    with _client(engine, tmp_path, queue_max_sentences=1) as client:
        responses: dict[str, httpx.Response] = {}
        first = threading.Thread(target=lambda: responses.setdefault("first", _post(client, "Premier texte.")))
        first.start()
        assert engine.entered.wait(WAIT)  # the worker is busy with the first request
        second = threading.Thread(target=lambda: responses.setdefault("second", _post(client, "Deuxième texte.")))
        second.start()
        state = client.app.state.bitext  # type: ignore[attr-defined]
        for _ in range(1000):  # until the second request's sentence is queued
            if state.scheduler.pending == 1:
                break
            second.join(0.01)
        refused = _post(client, "Troisième texte.")
        engine.release.set()
        first.join(WAIT)
        second.join(WAIT)
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "overloaded"
    assert int(refused.headers["Retry-After"]) >= 1
    assert "Troisième" not in refused.text
    assert responses["first"].status_code == 200 and responses["second"].status_code == 200


@pytest.fixture
def client(fake_engine: FakeEngine, tmp_path: Path) -> Iterator[TestClient]:
    with _client(fake_engine, tmp_path) as test_client:
        yield test_client


def test_a_repeated_article_is_served_from_the_cache(client: TestClient, fake_engine: FakeEngine) -> None:
    article = "Le budget est voté. Il pleut sur Lyon.\n\nLe budget est voté."
    first = _post(client, article)
    calls = len(fake_engine.calls)
    second = _post(client, article)
    assert first.status_code == second.status_code == 200
    assert second.json()["blocks"] == first.json()["blocks"]
    assert len(fake_engine.calls) == calls  # nothing went to the engine the second time
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    lines = metrics.text.splitlines()
    assert "bitext_cache_hits_total 2.0" in lines and "bitext_cache_misses_total 2.0" in lines
    assert "bitext_cache_hit_ratio 0.5" in lines


def test_metrics_show_batches_and_tokens(client: TestClient) -> None:
    assert _post(client, "Une phrase. Et une autre.").status_code == 200
    text = client.get("/metrics").text
    assert "bitext_batch_sentences_count 1.0" in text
    assert "bitext_batch_requests_bucket" in text
    assert 'bitext_queue_sentences{priority="interactive"} 0.0' in text
    assert "bitext_output_tokens_total" in text and "bitext_engine_tokens_per_second" in text


def test_no_cache_when_disabled(fake_engine: FakeEngine, tmp_path: Path) -> None:
    with _client(fake_engine, tmp_path, cache_entries=0) as client:
        _post(client, "Le budget est voté.")
        _post(client, "Le budget est voté.")
        assert "bitext_cache_hits_total" not in client.get("/metrics").text
    assert fake_engine.calls == [["Le budget est voté."], ["Le budget est voté."]]
