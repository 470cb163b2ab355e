"""`/v1/memory` and its use in `/v1/translate`: units answer before the model, per key; TMX in and out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from translate.storage.tmx import tmxfile

from service.app import create_app
from service.settings import Settings
from tests.support.fakes import FakeEngine
from tests.support.memory import KEY_A, KEY_B, A, B, keyed_client, sentences_of

TMX = {"Content-Type": "application/x-tmx+xml"}
SENTENCE = "Le conseil municipal a voté le budget hier soir."
EDITED = "The city council passed the budget last night."


@pytest.fixture
def client(fake_engine: FakeEngine, tmp_path: Path) -> Iterator[TestClient]:
    yield from keyed_client(fake_engine, tmp_path)


def _sent(fake_engine: FakeEngine) -> list[str]:
    return [text for call in fake_engine.calls for text in call]


def test_a_unit_answers_its_sentence_without_the_model(client: TestClient, fake_engine: FakeEngine) -> None:
    added = client.post("/v1/memory/units", json={"source": SENTENCE, "english": EDITED}, headers=A)
    assert added.status_code == 201 and added.json()["origin"] == "edit"
    text = f"Il pleuvait. {SENTENCE} Les élus sont partis."
    response = client.post("/v1/translate", json={"text": text, "format": "text"}, headers=A)
    assert response.status_code == 200
    sentences = sentences_of(response.json())
    assert [(s["source"], s.get("match")) for s in sentences] == [
        ("model", None),
        ("memory:exact", 100),
        ("model", None),
    ]
    assert sentences[1]["en"] == EDITED
    assert SENTENCE not in _sent(fake_engine) and "Il pleuvait." in _sent(fake_engine)
    assert response.json()["blocks"][0]["en"] == f"EN<Il pleuvait.> {EDITED} EN<Les élus sont partis.>"

    # A correction supersedes, and the stream says the same.
    corrected = client.post("/v1/memory/units", json={"source": SENTENCE, "english": "Corrected."}, headers=A).json()
    assert corrected["supersedes"] == added.json()["id"]
    lines = client.post(
        "/v1/translate", json={"text": SENTENCE}, headers={**A, "Accept": "application/x-ndjson"}
    ).text.splitlines()
    assert '"en":"Corrected."' in lines[1] and '"source":"memory:exact"' in lines[1]


def test_key_a_memory_is_not_used_for_key_b(client: TestClient, fake_engine: FakeEngine) -> None:
    client.post("/v1/memory/units", json={"source": SENTENCE, "english": EDITED}, headers=A)
    response = client.post("/v1/translate", json={"text": SENTENCE}, headers=B)
    sentence = sentences_of(response.json())[0]
    assert sentence["source"] == "model" and sentence["en"] == f"EN<{SENTENCE}>"
    assert client.get("/v1/memory/units", params={"q": "budget"}, headers=B).json() == {"units": []}
    assert len(client.get("/v1/memory/units", params={"q": "BUDGET"}, headers=A).json()["units"]) == 1
    assert client.delete("/v1/memory", headers=B).json() == {"deleted": 0}
    assert client.delete("/v1/memory", headers=A).json() == {"deleted": 1}
    after = client.post("/v1/translate", json={"text": SENTENCE}, headers=A)
    assert sentences_of(after.json())[0]["source"] == "model"


def test_fuzzy_matches_are_suggested_or_applied_as_asked(client: TestClient, fake_engine: FakeEngine) -> None:
    client.post("/v1/memory/units", json={"source": SENTENCE, "english": EDITED}, headers=A)
    near = "Le conseil municipal a voté le budget ce soir."  # 1 edit in 10 tokens: 90 %
    suggested = sentences_of(client.post("/v1/translate", json={"text": near}, headers=A).json())[0]
    assert suggested["source"] == "model" and suggested["suggestion"] == {"fr": SENTENCE, "en": EDITED, "match": 90}
    applied = client.post("/v1/translate", json={"text": near, "options": {"memory": "apply"}}, headers=A).json()
    first = sentences_of(applied)[0]
    assert (first["source"], first["match"], first["en"]) == ("memory:fuzzy", 90, EDITED)
    strict = {"memory": "apply", "memory_threshold": 95}
    assert (
        sentences_of(client.post("/v1/translate", json={"text": near, "options": strict}, headers=A).json())[0][
            "source"
        ]
        == "model"
    )
    off = client.post("/v1/translate", json={"text": SENTENCE, "options": {"memory": "off"}}, headers=A).json()
    assert sentences_of(off)[0]["source"] == "model" and "suggestion" not in sentences_of(off)[0]
    bad = client.post("/v1/translate", json={"text": near, "options": {"memory": "always"}}, headers=A)
    assert bad.status_code == 422


def test_units_are_checked(client: TestClient) -> None:
    assert client.post("/v1/memory/units", json={"source": " ", "english": "x"}, headers=A).status_code == 422
    assert (
        client.post("/v1/memory/units", json={"source": "x", "english": "y", "origin": "magic"}, headers=A).status_code
        == 422
    )
    assert client.post("/v1/memory/units", json={"source": "x"}, headers=A).status_code == 422
    assert client.get("/v1/memory/units").status_code == 401


def test_tmx_exported_by_bitext_is_read_by_translate_toolkit(client: TestClient) -> None:
    client.post(
        "/v1/memory/units",
        json={"source": "« Bonjour\u00a0» & adieu.", "english": "'Hello' & <farewell>.", "previous": "Avant."},
        headers=A,
    )
    client.post("/v1/memory/units", json={"source": SENTENCE, "english": EDITED, "origin": "picked"}, headers=A)
    exported = client.get("/v1/memory/export.tmx", headers=A)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/x-tmx+xml")
    store = tmxfile.parsestring(exported.content, sourcelanguage="fr", targetlanguage="en")
    assert [(u.source, u.target) for u in store.units] == [
        ("« Bonjour\u00a0» & adieu.", "'Hello' & <farewell>."),
        (SENTENCE, EDITED),
    ]
    # … and comes back whole: delete, import, export again: the same units and context.
    client.delete("/v1/memory", headers=A)
    assert client.post("/v1/memory/import", content=exported.content, headers={**A, **TMX}).json() == {"imported": 2}
    again = tmxfile.parsestring(client.get("/v1/memory/export.tmx", headers=A).content)
    assert [(u.source, u.target) for u in again.units] == [(u.source, u.target) for u in store.units]
    assert b"x-bitext-previous" in client.get("/v1/memory/export.tmx", headers=A).content


def test_a_tmx_written_by_translate_toolkit_is_imported_and_used(client: TestClient, fake_engine: FakeEngine) -> None:
    store = tmxfile(sourcelanguage="fr", targetlanguage="en")
    store.addtranslation(SENTENCE, "fr", EDITED, "en")
    store.addtranslation("Le taux est de 3,5 %.", "fr-FR", "The rate is 3.5%.", "en-GB")
    response = client.post("/v1/memory/import", content=bytes(store), headers={**A, **TMX})
    assert response.json() == {"imported": 2}
    units = client.get("/v1/memory/units", headers=A).json()["units"]
    assert {u["origin"] for u in units} == {"import"}
    translated = client.post("/v1/translate", json={"text": f"{SENTENCE} Le taux est de 4,2 %."}, headers=A).json()
    assert [(s["source"], s["en"]) for s in sentences_of(translated)] == [
        ("memory:exact", EDITED),
        ("memory:placeables", "The rate is 4.2%."),
    ]
    assert fake_engine.calls == []


GOOD_TU = '<tu><tuv xml:lang="fr"><seg>Un.</seg></tuv><tuv xml:lang="en"><seg>One.</seg></tuv></tu>'


@pytest.mark.parametrize(
    ("body", "code", "line"),
    [
        (f'<?xml version="1.0"?>\n<tmx version="1.4"><header/><body>\n{GOOD_TU}\n<tu>\n<seg>', "invalid_tmx", 5),
        (
            f'<tmx version="1.4"><header/><body>\n{GOOD_TU}\n'
            '<tu><tuv xml:lang="fr"><seg>Deux.</seg></tuv></tu>\n</body></tmx>',
            "invalid_tmx",
            3,
        ),
        (
            '<?xml version="1.0"?>\n<!DOCTYPE tmx [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n'
            f'<tmx version="1.4"><header/><body>{GOOD_TU}<tu><tuv xml:lang="fr"><seg>&b;</seg></tuv>'
            '<tuv xml:lang="en"><seg>x</seg></tuv></tu></body></tmx>',
            "unsafe_xml",
            0,
        ),
        ("<html><body/></html>", "invalid_tmx", 1),
    ],
)
def test_bad_tmx_is_refused_with_its_line_and_nothing_is_imported(
    client: TestClient, body: str, code: str, line: int
) -> None:
    response = client.post("/v1/memory/import", content=body.encode(), headers={**A, **TMX})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == code and error["line"] == line
    assert client.get("/v1/memory/units", headers=A).json() == {"units": []}


def test_tmx_imports_are_capped_and_typed(fake_engine: FakeEngine, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, memory_max_import_bytes=2048, warmup=False)
    with TestClient(create_app(settings, engine=fake_engine)) as client:
        big = b"<tmx>" + b" " * 4096 + b"</tmx>"
        assert client.post("/v1/memory/import", content=big, headers=TMX).status_code == 413
        assert (
            client.post("/v1/memory/import", content=b"{}", headers={"Content-Type": "application/json"}).status_code
            == 415
        )


def test_libretranslate_suggest_writes_into_the_memory_and_is_then_used(
    client: TestClient, fake_engine: FakeEngine
) -> None:
    suggested = client.post(
        "/suggest", data={"q": SENTENCE, "s": EDITED, "source": "fr", "target": "en", "api_key": KEY_A}
    )
    assert suggested.status_code == 200 and suggested.json() == {"success": True}
    units = client.get("/v1/memory/units", headers=A).json()["units"]
    assert [(u["source"], u["english"], u["origin"]) for u in units] == [(SENTENCE, EDITED, "suggest")]
    translated = client.post("/translate", data={"q": SENTENCE, "source": "fr", "target": "en", "api_key": KEY_A})
    assert translated.json()["translatedText"] == EDITED and fake_engine.calls == []
    other = client.post("/translate", data={"q": SENTENCE, "source": "fr", "target": "en", "api_key": KEY_B})
    assert other.json()["translatedText"] == f"EN<{SENTENCE}>"
    assert client.post("/suggest", data={"q": SENTENCE, "api_key": KEY_A}).status_code == 400
    assert client.post("/suggest", data={"q": SENTENCE, "s": EDITED}).status_code == 403
