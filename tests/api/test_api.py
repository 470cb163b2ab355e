"""The HTTP contract with the fake engine: successes, every refusal, and readiness."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings
from tests.support.fakes import FakeEngine

SECRET = "Texte confidentiel à ne jamais renvoyer"


@pytest.fixture
def client(fake_engine: FakeEngine) -> Iterator[TestClient]:
    settings = Settings(max_body_bytes=100_000, max_chars=20_000, max_sentences=50)
    with TestClient(create_app(settings, engine=fake_engine)) as test_client:
        yield test_client


def _post_text(client: TestClient, body: bytes | str, content_type: str = "text/plain; charset=utf-8", **params: str):
    return client.post("/v1/translate", content=body, headers={"Content-Type": content_type}, params=params)


def test_plain_text_article_gives_aligned_blocks(client: TestClient, article_text: str) -> None:
    response = _post_text(client, article_text.encode())
    assert response.status_code == 200
    data = response.json()
    assert (data["source_lang"], data["target_lang"], data["format"]) == ("fr", "en", "markdown")
    assert data["model"] == {"name": "fake", "engine": "fake", "device": "cpu", "dtype": "float32"}
    assert len(data["blocks"]) == len(article_text.strip().splitlines())
    image = data["blocks"][0]
    assert (
        image["kind"] == "image"
        and image["url"] == "https://images.example.org/lyon/budget-2025.jpg?w=1200&h=494&crop=1"
    )
    assert image["en"] == f"EN<{image['fr']}>"
    assert "url" not in data["blocks"][1]
    assert data["stats"]["blocks"] == len(data["blocks"])
    assert data["stats"]["sentences"] == sum(len(b["sentences"]) for b in data["blocks"])


def test_json_text_and_json_article(client: TestClient) -> None:
    response = client.post(
        "/v1/translate", json={"text": "Bonjour. Au revoir.", "format": "text", "options": {"num_beams": 2}}
    )
    assert response.status_code == 200
    assert [s["en"] for s in response.json()["blocks"][0]["sentences"]] == ["EN<Bonjour.>", "EN<Au revoir.>"]
    article = {
        "title": "Titre",
        "source": "AFP",
        "image": {"url": "https://x.org/i.png", "alt": "Photo"},
        "paragraphs": ["Un.", "Deux."],
    }
    response = client.post("/v1/translate", json={"article": article})
    assert response.status_code == 200
    blocks = response.json()["blocks"]
    assert [(b["kind"], b["translated"]) for b in blocks] == [
        ("image", True),
        ("title", True),
        ("source", False),
        ("paragraph", True),
        ("paragraph", True),
    ]
    assert blocks[2]["en"] == "AFP"


def test_format_query_parameter_overrides_detection(client: TestClient) -> None:
    response = _post_text(client, "# Pas un titre\nTexte.", format="text")
    assert response.json()["blocks"][0]["fr"] == "# Pas un titre"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"", "text/plain", 400, "empty_text"),
        (b"   \n\n  ", "text/plain", 400, "empty_text"),
        (SECRET.encode("latin-1"), "text/plain", 400, "invalid_encoding"),
        (SECRET.encode(), "application/pdf", 415, "unsupported_media_type"),
        (SECRET.encode(), "", 415, "unsupported_media_type"),
        (SECRET.encode(), "text/plain; charset=klingon", 415, "unsupported_charset"),
        (b"{" + SECRET.encode(), "application/json", 400, "invalid_json"),
        (json.dumps({"text": SECRET, "article": {"title": "x"}}).encode(), "application/json", 422, "invalid_request"),
        (json.dumps({"text": SECRET, "format": "docx"}).encode(), "application/json", 422, "invalid_request"),
        (
            json.dumps({"text": SECRET, "options": {"num_beams": 99}}).encode(),
            "application/json",
            422,
            "invalid_request",
        ),
        (json.dumps({"text": SECRET, "colour": "red"}).encode(), "application/json", 422, "invalid_request"),
        (json.dumps({"article": {"paragraphs": [SECRET, 3]}}).encode(), "application/json", 422, "invalid_request"),
        (json.dumps({"article": {}}).encode(), "application/json", 422, "unparsable"),
        (json.dumps([SECRET]).encode(), "application/json", 422, "invalid_request"),
    ],
)
def test_bad_requests_get_a_clear_4xx_without_echoing_the_input(
    client: TestClient, body: bytes, content_type: str, status: int, code: str
) -> None:
    response = _post_text(client, body, content_type)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert SECRET not in response.text and "confidentiel" not in response.text


def test_unknown_format_parameter_is_422(client: TestClient) -> None:
    response = _post_text(client, SECRET, format="docx")
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"


def test_a_5_mb_body_is_413(client: TestClient) -> None:
    response = _post_text(client, b"a" * 5_000_000)
    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "payload_too_large",
        "message": "the body is 5000000 bytes; the limit is 100000",
        "limit": 100000,
    }


def test_a_streamed_body_over_the_limit_is_413_without_content_length(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(30):
            yield b"Une phrase. " * 500

    response = client.post("/v1/translate", content=chunks(), headers={"Content-Type": "text/plain"})
    assert response.status_code == 413


def test_characters_and_sentences_limits(client: TestClient) -> None:
    too_long = _post_text(client, "Mot. " * 5000)
    assert too_long.status_code == 413 and too_long.json()["error"]["code"] == "too_many_characters"
    too_many = _post_text(client, "Une phrase. " * 60)
    assert too_many.status_code == 413 and too_many.json()["error"] == {
        "code": "too_many_sentences",
        "message": "the text has 60 sentences; the limit is 50",
        "limit": 50,
    }


def test_utf16_body_with_bom_is_decoded(client: TestClient) -> None:
    response = _post_text(client, "Bonjour à tous.".encode("utf-16"), "text/plain")
    assert response.status_code == 200
    assert response.json()["blocks"][0]["fr"] == "Bonjour à tous."


def test_health_and_readiness(fake_engine: FakeEngine) -> None:
    app = create_app(Settings(), engine=fake_engine)
    cold = TestClient(app)  # no lifespan: the model is not loaded yet
    assert cold.get("/health/live").json() == {"status": "ok", "model": None}
    assert cold.get("/health/ready").status_code == 503
    refused = cold.post("/v1/translate", content="Bonjour.", headers={"Content-Type": "text/plain"})
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    with TestClient(app) as warm:
        ready = warm.get("/health/ready")
        assert ready.status_code == 200 and ready.json()["model"]["name"] == "fake"


def test_unknown_route_and_method_use_the_error_shape(client: TestClient) -> None:
    assert client.get("/v1/nope").json()["error"]["code"] == "not_found"
    assert client.get("/v1/translate").json()["error"]["code"] == "method_not_allowed"


def test_openapi_documents_both_body_types(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    content = spec["paths"]["/v1/translate"]["post"]["requestBody"]["content"]
    assert set(content) == {"text/plain", "application/json"}
    assert client.get("/docs").status_code == 200
