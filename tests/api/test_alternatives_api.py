"""`options.alternatives` and `options.scores` on `POST /v1/translate`: JSON, stream, refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings
from tests.support.fakes import FakeEngine

TEXT = "Bonjour. Au revoir.\n\n2024"
ASKED = {"alternatives": 2, "scores": True}


@pytest.fixture
def client(fake_engine: FakeEngine) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(max_chars=5_000, max_sentences=50), engine=fake_engine)) as test_client:
        yield test_client


def _sentences(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [sentence for block in blocks for sentence in block["sentences"]]


def test_json_answer_carries_alternatives_and_score(client: TestClient) -> None:
    response = client.post("/v1/translate", json={"text": TEXT, "options": ASKED})
    assert response.status_code == 200
    first, second, verbatim = _sentences(response.json()["blocks"])
    assert first["alternatives"] == ["EN2<Bonjour.>", "EN3<Bonjour.>"] and first["score"] == -0.25
    assert second["alternatives"] == ["EN2<Au revoir.>", "EN3<Au revoir.>"]
    assert "alternatives" not in verbatim and "score" not in verbatim  # kept as is: nothing to offer


def test_without_the_options_there_are_no_such_fields(client: TestClient) -> None:
    for body in ({"text": TEXT}, {"text": TEXT, "options": {"scores": False}}):
        for sentence in _sentences(client.post("/v1/translate", json=body).json()["blocks"]):
            assert "alternatives" not in sentence and "score" not in sentence
    only_scores = _sentences(
        client.post("/v1/translate", json={"text": TEXT, "options": {"scores": True}}).json()["blocks"]
    )
    assert only_scores[0]["score"] == -0.25 and "alternatives" not in only_scores[0]


def test_the_stream_carries_them_as_the_json_answer_does(client: TestClient) -> None:
    body = {"text": TEXT, "options": ASKED}
    full = client.post("/v1/translate", json=body).json()
    streamed = client.post("/v1/translate", json=body, headers={"Accept": "application/x-ndjson"})
    lines = [json.loads(line) for line in streamed.text.splitlines() if line]
    blocks = [line["block"] for line in lines if line["type"] == "block"]
    assert blocks == full["blocks"]
    assert _sentences(blocks)[0]["alternatives"] == ["EN2<Bonjour.>", "EN3<Bonjour.>"]


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"num_beams": 1, "alternatives": 2}, "alternatives (2) may be at most the beam size (1)"),
        ({"alternatives": 5}, "alternatives (5) may be at most the beam size (4)"),  # the model's own beam
        ({"num_beams": 2, "alternatives": 3}, "at most the beam size (2)"),
        ({"alternatives": 0}, "alternatives"),
        ({"alternatives": 9}, "alternatives"),
        ({"alternatives": "two"}, "alternatives"),
        ({"scores": "maybe"}, "scores"),
    ],
)
def test_impossible_requests_are_refused_with_a_reason(
    client: TestClient, options: dict[str, object], fragment: str
) -> None:
    response = client.post("/v1/translate", json={"text": TEXT, "options": options})
    assert response.status_code == 422
    assert fragment in response.json()["error"]["message"]


def test_as_many_alternatives_as_beams_is_allowed(client: TestClient) -> None:
    response = client.post("/v1/translate", json={"text": "Bonjour.", "options": {"num_beams": 2, "alternatives": 2}})
    assert response.status_code == 200
    assert _sentences(response.json()["blocks"])[0]["alternatives"] == ["EN2<Bonjour.>"]  # a beam of 2 has 1 other


def test_openapi_documents_the_options_and_fields(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert {"alternatives", "scores"} <= set(schemas["Options"]["properties"])
    assert {"alternatives", "score"} <= set(schemas["SentenceOut"]["properties"])
    assert "not a calibrated probability" in schemas["SentenceOut"]["properties"]["score"]["description"]


@pytest.mark.integration
def test_the_tiny_model_gives_distinct_alternatives_over_http(tiny_checkpoint: Path) -> None:
    settings = Settings(model=str(tiny_checkpoint), device="cpu")
    with TestClient(create_app(settings)) as live:
        body = {"text": "Le conseil municipal a adopté un budget.", "options": {"alternatives": 3, "scores": True}}
        [sentence] = _sentences(live.post("/v1/translate", json=body).json()["blocks"])
    assert sentence["en"] not in sentence["alternatives"] and len(sentence["alternatives"]) <= 3
    assert len(set(sentence["alternatives"])) == len(sentence["alternatives"]) and sentence["score"] < 0
