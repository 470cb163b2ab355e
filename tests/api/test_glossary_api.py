"""Fidelity through HTTP: request options `repair`, `glossary`, `keep`, the server glossary file, flags in JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from fastapi.testclient import TestClient

from models.document import Translation
from models.engine import PLAIN_CALL, CallControl, GenerationOptions
from service.app import create_app
from service.settings import Settings
from tests.support.fakes import FakeEngine


class LoopingEngine(FakeEngine):
    """Loops on a phrase unless repeated 3-grams are forbidden; records what it was sent."""

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        self.calls.append(list(texts))
        loop = "" if options.no_repeat_ngram_size else " of the city" * 8
        return [Translation(f"EN<{text}>{loop}", 3, 4) for text in texts]


def _client(engine: FakeEngine, **settings: object) -> TestClient:
    return TestClient(create_app(Settings(warmup=False, **settings), engine=engine))


def _sentences(response) -> list[dict]:
    assert response.status_code == 200, response.text
    return [s for block in response.json()["blocks"] for s in block["sentences"]]


def test_repair_per_request_and_the_server_default() -> None:
    body = {"text": "Le conseil a voté le budget.", "format": "text"}
    with _client(LoopingEngine()) as client:
        (repaired,) = _sentences(client.post("/v1/translate", json=body | {"options": {"repair": True}}))
        (raw,) = _sentences(client.post("/v1/translate", json=body))
    with _client(LoopingEngine(), repair=True) as client:
        assert _sentences(client.post("/v1/translate", json=body)) == [repaired]
        assert _sentences(client.post("/v1/translate", json=body | {"options": {"repair": False}})) == [raw]
    assert repaired["en"] == "EN<Le conseil a voté le budget.>"
    assert "repetition_repaired" in repaired["flags"] and "repetition" not in repaired["flags"]
    assert raw["en"].endswith("of the city") and "repetition" in raw["flags"]


def test_glossary_and_keep_from_the_request() -> None:
    engine = FakeEngine()
    body = {
        "text": "Selon Le Journal de Montréal, le ministère de l'Intérieur dément.",
        "format": "text",
        "options": {"glossary": {"ministère de l'Intérieur": "Home Office"}, "keep": ["Le Journal de Montréal"]},
    }
    with _client(engine) as client:
        (sentence,) = _sentences(client.post("/v1/translate", json=body))
    assert engine.calls[-1] == ["Selon QZ1, le QZ2 dément."]
    assert sentence["en"] == "EN<Selon Le Journal de Montréal, le Home Office dément.>"


def test_server_glossary_file_applies_and_requests_override_it(tmp_path: Path) -> None:
    path = tmp_path / "terms.json"
    path.write_text(json.dumps({"glossary": {"député": "MP"}, "keep": ["Le Devoir"]}), encoding="utf-8")
    with _client(FakeEngine(), glossary_file=path) as client:
        (plain,) = _sentences(client.post("/v1/translate", json={"text": "Le député lit Le Devoir.", "format": "text"}))
        override = {"text": "Le député lit Le Devoir.", "format": "text", "options": {"glossary": {"député": "member"}}}
        (overridden,) = _sentences(client.post("/v1/translate", json=override))
    assert plain["en"] == "EN<Le MP lit Le Devoir.>"
    assert overridden["en"] == "EN<Le member lit Le Devoir.>"


def test_unusable_terms_are_a_422_with_the_error_shape() -> None:
    with _client(FakeEngine()) as client:
        for options in (
            {"keep": [" "]},
            {"glossary": {"mot": ""}},
            {"keep": ["x" * 201]},
            {"glossary": ["not", "a", "map"]},
        ):
            response = client.post("/v1/translate", json={"text": "Un texte.", "options": options})
            assert response.status_code == 422, options
            error = response.json()["error"]
            assert error["code"] in ("invalid_option", "invalid_request") and error["message"]


def test_an_unreadable_server_glossary_stops_start_up_with_its_path(tmp_path: Path) -> None:
    import pytest

    from models.glossary import GlossaryError

    with pytest.raises(GlossaryError, match="missing.json"):
        create_app(Settings(warmup=False, glossary_file=tmp_path / "missing.json"), engine=FakeEngine())


def test_markup_inside_a_term_is_matched_literally_never_a_500() -> None:
    terms = ["**mot**", "<b>x</b>", "[a](b)", "`code`", "# titre", "<script>", "&amp;", "QZ1"]
    text = "Le **mot** et <b>x</b>, [a](b), `code` et &amp; ici."
    engine = FakeEngine()
    with TestClient(create_app(Settings(warmup=False), engine=engine), raise_server_exceptions=False) as client:
        for format in ("text", "markdown", "html", "auto"):
            for term in terms:
                for options in ({"glossary": {term: "**EN**"}}, {"keep": [term]}):
                    body = {"text": text, "format": format, "options": options}
                    response = client.post("/v1/translate", json=body)
                    assert response.status_code < 500, (format, term, response.text)
                    if format in ("text", "markdown"):  # a short HTML text may have no article (422)
                        assert response.status_code == 200, (format, term, response.text)
        body = {"text": "Le **mot** et [a](b).", "format": "text", "options": {"glossary": {"**mot**": "word"}}}
        (sentence,) = _sentences(client.post("/v1/translate", json=body))
    assert sentence["en"] == "EN<Le word et [a](b).>"


def test_more_terms_than_the_setting_allows_is_a_422_naming_the_limit() -> None:
    with _client(FakeEngine(), max_glossary_terms=3) as client:
        options = {"glossary": {"un": "one", "deux": "two"}, "keep": ["trois", "quatre"]}
        response = client.post("/v1/translate", json={"text": "Un texte.", "options": options})
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "invalid_option" and error["limit"] == 3 and "3" in error["message"]
        options = {"glossary": {"un": "one"}, "keep": ["trois", "quatre"]}
        assert client.post("/v1/translate", json={"text": "Un texte.", "options": options}).status_code == 200
