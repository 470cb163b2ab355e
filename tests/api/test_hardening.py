"""Hostile input, access control and the request middleware: a 2xx with text kept, or a 4xx with a reason."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from models.engine import PLAIN_CALL
from service.app import create_app
from service.settings import Settings
from tests.support.fakes import FakeEngine


@pytest.fixture
def client(fake_engine: FakeEngine) -> Iterator[TestClient]:
    with TestClient(
        create_app(Settings(max_body_bytes=3_000_000, max_chars=250_000), engine=fake_engine)
    ) as test_client:
        yield test_client


def _post(client: TestClient, body: bytes | str, content_type: str = "text/plain", **params: str):
    return client.post("/v1/translate", content=body, headers={"Content-Type": content_type}, params=params)


def _all_text_kept(data: dict) -> str:
    return "\n".join(b["prefix"] + b["fr"] + b["suffix"] for b in data["blocks"])


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Le texte\x00 contient un NUL\x01 et\x1b des contrôles.", id="nul-and-control"),
        pytest.param("Texte \u202eesrevni\u202c et \u2066isolé\u2069 dans la phrase.", id="bidi-overrides"),
        pytest.param("Il a dit 👋 bonjour à 東京 et à Москва, مرحبا !", id="emoji-and-scripts"),
        pytest.param("<script>alert(1)</script> Un <img src=x onerror=alert(1)> texte.", id="html-in-text"),
        pytest.param("?!... ;;; ((( ))) — « » …", id="only-punctuation"),
        pytest.param("\ufeff\u200b\u00a0Début avec BOM et espaces insécables.", id="bom-zero-width"),
    ],
)
def test_odd_text_is_translated_or_kept_verbatim(client: TestClient, text: str) -> None:
    response = _post(client, text.encode("utf-8"), format="text")
    assert response.status_code == 200, response.text
    data = response.json()
    assert "".join(ch for ch in _all_text_kept(data) if not ch.isspace()) in "".join(
        ch for ch in text if not ch.isspace()
    )
    for block in data["blocks"]:
        for sentence in block["sentences"]:
            assert sentence["en"] == f"EN<{sentence['fr']}>" or "kept_verbatim" in sentence["flags"]


def test_only_punctuation_is_kept_and_flagged(client: TestClient) -> None:
    block = _post(client, "?!... ;;; ((( )))", format="text").json()["blocks"][0]
    assert (block["translated"], block["en"]) == (False, "?!... ;;; ((( )))")


def test_200k_characters_without_spaces_are_kept_verbatim_not_sent_to_the_model(
    client: TestClient, fake_engine: FakeEngine
) -> None:
    text = "anticonstitutionnellement" * 8000
    response = _post(client, f"Un vrai paragraphe avant.\n{text}\nUn autre après.")
    assert response.status_code == 200
    blocks = response.json()["blocks"]
    assert blocks[1]["fr"] == blocks[1]["en"] == text
    assert blocks[1]["sentences"][0]["flags"] == ["kept_verbatim"]
    assert all(len(sentence) < 100 for call in fake_engine.calls for sentence in call)


def test_utf16_without_bom_or_charset_is_refused_with_a_reason(client: TestClient) -> None:
    response = _post(client, "Bonjour à tous.".encode("utf-16-le"))
    assert response.status_code == 400
    assert "UTF-16" in response.json()["error"]["message"]


def test_utf16_with_declared_charset_is_read(client: TestClient) -> None:
    response = _post(client, "Bonjour à tous.".encode("utf-16-le"), "text/plain; charset=utf-16-le")
    assert response.status_code == 200 and response.json()["blocks"][0]["fr"] == "Bonjour à tous."


def test_deeply_nested_json_is_a_4xx(client: TestClient) -> None:
    body = '{"text": ' + "[" * 5000 + "]" * 5000 + "}"
    response = _post(client, body, "application/json")
    assert 400 <= response.status_code < 500


def test_huge_json_is_413(client: TestClient) -> None:
    body = json.dumps({"article": {"paragraphs": ["Une phrase."] * 400_000}})
    assert _post(client, body, "application/json").status_code == 413


@pytest.mark.parametrize(
    "content_type", ["application/pdf", "multipart/form-data; boundary=x", "image/png", "application/octet-stream"]
)
def test_wrong_content_types_are_415(client: TestClient, content_type: str) -> None:
    assert _post(client, b"%PDF-1.7 binary", content_type).status_code == 415


def test_declared_oversize_body_is_refused_before_reading(fake_engine: FakeEngine) -> None:
    app = create_app(Settings(max_body_bytes=2048), engine=fake_engine)
    read = []

    async def receive() -> dict:
        read.append(1)
        return {"type": "http.request", "body": b"x" * 10, "more_body": False}

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    import anyio

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/translate",
        "headers": [(b"content-length", b"999999"), (b"content-type", b"text/plain")],
        "query_string": b"",
        "client": ("127.0.0.1", 1),
        "server": ("t", 80),
        "scheme": "http",
        "root_path": "",
        "http_version": "1.1",
    }
    anyio.run(app, scope, receive, send)
    assert sent[0]["status"] == 413 and read == []


def test_request_id_and_security_headers(client: TestClient) -> None:
    mine = client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert mine.headers["x-request-id"] == "abc-123"
    generated = client.get("/health/live", headers={"X-Request-ID": "<bad id>"})
    assert generated.headers["x-request-id"] != "<bad id>" and len(generated.headers["x-request-id"]) == 32
    assert generated.headers["x-content-type-options"] == "nosniff"
    assert generated.headers["x-frame-options"] == "DENY"


@pytest.fixture
def keyed(fake_engine: FakeEngine) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(api_keys="k-one, k-two"), engine=fake_engine)) as test_client:  # type: ignore[arg-type]
        yield test_client


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"X-API-Key": "k-on"}, {"Authorization": "Basic k-one"}]
)
def test_api_keys_refuse_without_saying_why(keyed: TestClient, headers: dict[str, str]) -> None:
    response = keyed.post("/v1/translate", content="Bonjour.", headers={"Content-Type": "text/plain", **headers})
    assert response.status_code == 401
    assert response.json()["error"] == {"code": "unauthorized", "message": "a valid API key is required"}


@pytest.mark.parametrize("headers", [{"Authorization": "Bearer k-one"}, {"X-API-Key": "k-two"}])
def test_api_keys_accept_either_header(keyed: TestClient, headers: dict[str, str]) -> None:
    response = keyed.post("/v1/translate", content="Bonjour.", headers={"Content-Type": "text/plain", **headers})
    assert response.status_code == 200
    assert keyed.get("/health/ready").status_code == 200  # probes need no key


def test_cors_is_off_by_default_and_configurable(fake_engine: FakeEngine, client: TestClient) -> None:
    preflight = {"Origin": "https://news.example", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in client.options("/v1/translate", headers=preflight).headers
    with TestClient(create_app(Settings(cors_origins="https://news.example"), engine=fake_engine)) as allowed:  # type: ignore[arg-type]
        assert (
            allowed.options("/v1/translate", headers=preflight).headers["access-control-allow-origin"]
            == "https://news.example"
        )


def test_metrics_count_requests_by_route_template_and_status(client: TestClient) -> None:
    _post(client, "Bonjour à tous.")
    client.get("/v1/jobs/does-not-exist")
    client.get("/no/such/path")
    text = client.get("/metrics").text
    assert 'bitext_http_requests_total{method="POST",route="/v1/translate",status="200"} 1.0' in text
    assert 'route="/v1/jobs/{job_id}"' in text and "does-not-exist" not in text
    assert 'route="unmatched"' in text
    assert "bitext_http_request_seconds_bucket" in text
    assert (
        "bitext_cache_hit_ratio" in text
        and "bitext_batch_sentences_bucket" in text
        and "bitext_queue_sentences" in text
    )


def test_access_log_is_structured_with_the_request_id(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="bitext.access"):
        client.get("/health/live", headers={"X-Request-ID": "trace-42"})
    record = json.loads(caplog.records[-1].getMessage())
    assert record["request_id"] == "trace-42" and record["status"] == 200 and record["route"] == "/health/live"


class OutOfMemoryEngine(FakeEngine):
    """Runs out of memory on any batch holding `ÉNORME`, as a GPU would on a huge sentence."""

    def translate(self, texts, options=None, *, control=PLAIN_CALL):  # type: ignore[no-untyped-def]
        from models.batching import run_halving

        def run(part):  # type: ignore[no-untyped-def]
            if any("ÉNORME" in text for text in part):
                raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB")
            return super(OutOfMemoryEngine, self).translate(part, control=control)

        return run_halving(list(texts), run)


def test_out_of_memory_fails_only_its_own_request_and_the_service_stays_up() -> None:
    engine = OutOfMemoryEngine()
    with TestClient(create_app(Settings(), engine=engine)) as test_client:
        failed = _post(test_client, "Une phrase normale. Une phrase ÉNORME. Une autre.", format="text")
        assert failed.status_code == 503
        assert failed.json()["error"]["code"] == "insufficient_memory" and failed.headers["Retry-After"]
        fine = _post(test_client, "Une phrase normale. Une autre.", format="text")
        assert fine.status_code == 200
        assert [s["en"] for s in fine.json()["blocks"][0]["sentences"]] == ["EN<Une phrase normale.>", "EN<Une autre.>"]


class SlowEngine(FakeEngine):
    """Takes 0.15 s per engine call, like a long article on a busy CPU."""

    def translate(self, texts, options=None, *, control=PLAIN_CALL):  # type: ignore[no-untyped-def]
        import time

        time.sleep(0.15)
        return super().translate(texts, control=control)


def test_a_request_past_its_deadline_gets_504_with_how_far_it_got_and_the_queue_is_freed() -> None:
    engine = SlowEngine()
    settings = Settings(request_timeout_seconds=0.5, batch_max_sentences=1, cache_entries=0)
    with TestClient(create_app(settings, engine=engine)) as test_client:
        text = " ".join(f"Phrase numéro {i}." for i in range(30))
        response = _post(test_client, text, format="text")
        assert response.status_code == 504
        error = response.json()["error"]
        assert error["code"] == "deadline_exceeded" and error["sentences"] == 30 and 0 < error["translated"] < 30
        calls_at_timeout = len(engine.calls)
        import time

        time.sleep(0.5)
        assert len(engine.calls) <= calls_at_timeout + 1  # the abandoned sentences left the queue
        assert _post(test_client, "Une phrase courte.", format="text").status_code == 200


@pytest.mark.parametrize(
    "charset",
    [
        "punycode",
        "rot13",
        "hex",
        "zlib",
        "base64",
        "idna",
        "unicode_escape",
        "raw_unicode_escape",
        "x-user-defined-but-long" * 5,
    ],
)
def test_charsets_that_are_not_text_encodings_are_refused(client: TestClient, charset: str) -> None:
    response = _post(client, b"a" * 2000, f"text/plain; charset={charset}")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_charset"
    assert "a" * 100 not in response.text  # the body is never echoed


@pytest.mark.parametrize(
    ("charset", "encoding"),
    [("ISO-8859-1", "latin-1"), ("windows-1252", "cp1252"), ('"utf-8"', "utf-8"), ("latin1", "latin-1")],
)
def test_web_text_charsets_are_read(client: TestClient, charset: str, encoding: str) -> None:
    response = _post(client, "Le député a voté « oui ».".encode(encoding), f"text/plain; charset={charset}")
    assert response.status_code == 200
    assert response.json()["blocks"][0]["fr"] == "Le député a voté « oui »."


@pytest.mark.parametrize("path", ["/translate", "/v2/translate"])
def test_compat_forms_refuse_non_text_charsets(client: TestClient, path: str) -> None:
    form = "q=Bonjour&text=Bonjour&source=fr&target=en&target_lang=EN"
    response = client.post(
        path, content=form, headers={"Content-Type": "application/x-www-form-urlencoded; charset=punycode"}
    )
    assert response.status_code in (400, 415), response.text


@pytest.mark.parametrize("path", ["/translate", "/v2/translate"])
def test_compat_deeply_nested_json_is_a_4xx(client: TestClient, path: str) -> None:
    body = "[" * 100_000 + "]" * 100_000
    response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500, response.status_code


@pytest.mark.parametrize("declared", ["²", "³", "1²"])
def test_a_content_length_of_superscript_digits_is_not_a_500(declared: str) -> None:
    """`str.isdigit` accepts "²" but `int` does not: the declared length must be ASCII digits to be read."""
    import asyncio

    from starlette.requests import Request

    from service.body import read_capped

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"Bonjour.", "more_body": False}

    headers = [(b"content-length", declared.encode("latin-1"))]
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    assert asyncio.run(read_capped(Request(scope, receive), 1024)) == b"Bonjour."


@pytest.mark.parametrize(
    ("module", "package"), [("trafilatura", "trafilatura"), ("lxml.html.clean", "lxml_html_clean")]
)
def test_a_missing_html_dependency_stops_start_up_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, module: str, package: str
) -> None:
    """Imported at start-up, not at the first HTML request: /health/ready is never true without it."""
    import sys

    from models.parse import MissingDependency

    monkeypatch.setitem(sys.modules, module, None)  # `import module` now raises ImportError
    app = create_app(Settings(warmup=False), engine=FakeEngine())
    with pytest.raises(MissingDependency, match=f"pip install {package}"):
        with TestClient(app):
            pass
    assert not app.state.bitext.ready


# --- Oversized integers and lone surrogates: a 400 with a reason, whatever the route (issue 21, finding 8) ----

HUGE = "9" * 5000  # json.loads raises a bare ValueError past 4300 digits (Python's int max str digits)
COMPAT_BODIES = {
    "/translate": {"q": "Bonjour.", "source": "fr", "target": "en"},
    "/detect": {"q": "Bonjour."},
    "/v2/translate": {"text": ["Bonjour."], "target_lang": "EN"},
    "/v2/languages": {"type": "target"},
    "/v2/usage": {},
}


def _json_with(fields: dict[str, object], raw: bytes) -> bytes:
    """`fields` as a JSON object with one more member written byte by byte: `"x": <raw>`."""
    return json.dumps(fields)[:-1].encode() + (b", " if fields else b"") + b'"x": ' + raw + b"}"


@pytest.mark.parametrize("keys", [[], ["k-one"]], ids=["keys-off", "keys-on"])
@pytest.mark.parametrize("path", sorted(COMPAT_BODIES))
@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(HUGE.encode(), "more than 4300 digits", id="huge-integer"),
        pytest.param(b'"\\ud800"', "lone surrogate", id="escaped-lone-surrogate"),
        pytest.param(b'"\xed\xa0\x80"', "lone surrogate", id="raw-lone-surrogate"),  # json.loads: surrogatepass
    ],
)
def test_compat_json_bodies_the_parser_cannot_hold_are_400_with_a_reason(
    fake_engine: FakeEngine, keys: list[str], path: str, raw: bytes, reason: str
) -> None:
    """Before the key check too: these routes read the body first (LibreTranslate and DeepL may carry the key in it)."""
    with TestClient(create_app(Settings(api_keys=keys), engine=fake_engine), raise_server_exceptions=False) as client:
        response = client.post(
            path, content=_json_with(COMPAT_BODIES[path], raw), headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400, response.text
    assert reason in response.text


def test_lt_alternatives_with_leading_zeros_is_still_a_number(client: TestClient) -> None:
    fields = {"q": "Bonjour.", "source": "fr", "target": "en", "alternatives": "0" * 5000 + "1"}
    response = client.post("/translate", json=fields)
    assert response.status_code == 200 and response.json()["alternatives"] == ["EN2<Bonjour.>"]


@pytest.mark.parametrize("path", ["/v1/translate", "/translate", "/v2/translate", "/health/live"])
def test_a_content_length_of_5000_digits_is_413_not_a_500(client: TestClient, path: str) -> None:
    response = client.post(path, content=b"Bonjour.", headers={"Content-Type": "text/plain", "Content-Length": HUGE})
    assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"


def test_read_capped_reads_a_5000_digit_content_length_as_too_large() -> None:
    import asyncio

    from starlette.requests import Request

    from service.body import read_capped
    from service.errors import ApiError

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"Bonjour.", "more_body": False}

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"content-length", HUGE.encode())]}
    with pytest.raises(ApiError) as refused:
        asyncio.run(read_capped(Request(scope, receive), 1024))
    assert refused.value.status == 413
