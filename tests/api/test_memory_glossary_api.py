"""A key's term glossary: DeepL CSV/TSV imported with `POST /v1/memory/import` is applied inside every
sentence translated with the key's memory on (the request's own glossary wins), by jobs too; it is read
back (JSON, CSV, TSV), replaced or merged, capped at import, and deleted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings
from tests.api.test_job_memory import run_job, sent, sentences
from tests.support.documents import zipped
from tests.support.fakes import FakeEngine
from tests.support.memory import KEY_A, KEY_B, A, B, keyed_client, sentences_of

CSV = {"Content-Type": "text/csv"}
TSV = {"Content-Type": "text/tab-separated-values"}
SENTENCE = "Selon le Kremlin, Poutine a parlé hier avec les élus."


@pytest.fixture
def client(fake_engine: FakeEngine, tmp_path: Path) -> Iterator[TestClient]:
    yield from keyed_client(fake_engine, tmp_path)


def _import(
    client: TestClient, body: str, headers: dict[str, str] = CSV, who: dict[str, str] = A, **params: str
) -> Any:
    return client.post("/v1/memory/import", content=body.encode(), headers={**who, **headers}, params=params)


def _english(client: TestClient, text: str, who: dict[str, str] = A, **options: Any) -> str:
    body = {"text": text, "format": "text", "options": options}
    response = client.post("/v1/translate", json=body, headers=who)
    assert response.status_code == 200, response.text
    return " ".join(s["en"] for s in sentences_of(response.json()))


def _entries(client: TestClient, who: dict[str, str] = A) -> list[tuple[str, str]]:
    response = client.get("/v1/memory/glossary", headers=who)
    assert response.status_code == 200, response.text
    return [(e["source"], e["target"]) for e in response.json()["entries"]]


def test_an_imported_glossary_applies_inside_sentences_for_its_key_only(
    client: TestClient, fake_engine: FakeEngine
) -> None:
    imported = _import(client, "Poutine,Putin\n")
    assert imported.status_code == 200, imported.text
    assert imported.json()["imported"] == 1
    assert imported.json()["glossary"] | {"created": "", "updated": ""} == {
        "name": "glossary",
        "entries": 1,
        "created": "",
        "updated": "",
    }
    assert _english(client, SENTENCE) == "EN<Selon le Kremlin, Putin a parlé hier avec les élus.>"
    assert fake_engine.calls[-1] == ["Selon le Kremlin, QZ1 a parlé hier avec les élus."]  # the model saw a placeholder
    # Key B has no glossary; key A with its memory off neither.
    assert _english(client, SENTENCE, B) == f"EN<{SENTENCE}>"
    assert _english(client, SENTENCE, memory="off") == f"EN<{SENTENCE}>"
    # The request's own glossary wins over the key's on the same term (case aside).
    assert "Vladimir Putin" in _english(client, SENTENCE, glossary={"poutine": "Vladimir Putin"})
    # The stream (the page's path) protects them too.
    streamed = client.post(
        "/v1/translate",
        json={"text": SENTENCE, "format": "text"},
        headers={**A, "Accept": "application/x-ndjson"},
    )
    blocks = [json.loads(line)["block"] for line in streamed.text.splitlines() if '"type":"block"' in line]
    assert [b["en"] for b in blocks] == ["EN<Selon le Kremlin, Putin a parlé hier avec les élus.>"]
    # A sentence the memory answers keeps the memory's English: a person's correction wins over the glossary.
    client.post("/v1/memory/units", json={"source": "Poutine est parti.", "english": "Poutine left."}, headers=A)
    assert _english(client, "Poutine est parti.") == "Poutine left."
    # No memory unit was written by the import: the glossary is terms, not sentences.
    assert [u["source"] for u in client.get("/v1/memory/units", headers=A).json()["units"]] == ["Poutine est parti."]


def test_import_replaces_by_default_and_merges_when_asked(client: TestClient) -> None:
    assert _import(client, "Poutine,Putin\nKremlin,the Kremlin\n", name="politics").status_code == 200
    assert _import(client, "élus,elected officials\n").json()["glossary"]["entries"] == 1  # replaced as a whole
    assert _entries(client) == [("élus", "elected officials")]
    assert client.get("/v1/memory/glossary", headers=A).json()["name"] == "politics"  # the name stays unless given
    merged = _import(client, "Poutine,Putin\nÉLUS,councillors\n", TSV | CSV, mode="merge", name="news")
    assert merged.status_code == 200, merged.text
    assert merged.json()["glossary"]["name"] == "news"
    assert _entries(client) == [("ÉLUS", "councillors"), ("Poutine", "Putin")]  # same term replaced in place
    assert _english(client, "Les élus ont vu Poutine.") == "EN<Les councillors ont vu Putin.>"


def test_export_round_trips_in_deepls_csv_and_tsv(client: TestClient) -> None:
    entries = [("Poutine", "Putin"), ("Le chat, le chien", 'The "cat", the dog'), ("ministère", "ministry")]
    csv = "".join(f'"{s}","{t.replace(chr(34), chr(34) * 2)}"\n' for s, t in entries)
    assert _import(client, csv).status_code == 200
    assert _entries(client) == entries
    for kind, headers in (("csv", CSV), ("tsv", TSV)):
        exported = client.get("/v1/memory/glossary", params={"format": kind}, headers=A)
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith(headers["Content-Type"])
        assert exported.headers["content-disposition"] == f'attachment; filename="glossary.{kind}"'
        assert client.delete("/v1/memory/glossary", headers=A).json() == {"deleted": 3}
        assert _entries(client) == []
        assert _import(client, exported.content.decode(), headers).status_code == 200
        assert _entries(client) == entries, kind
    tsv = client.get("/v1/memory/glossary", params={"format": "tsv"}, headers=A).content.decode()
    assert tsv == "".join(f"{s}\t{t}\n" for s, t in entries)


def test_delete_the_glossary_or_the_whole_memory(client: TestClient) -> None:
    _import(client, "Poutine,Putin\n")
    _import(client, "Poutine,Putin\n", who=B)
    assert client.delete("/v1/memory/glossary", headers=A).json() == {"deleted": 1}
    assert client.delete("/v1/memory/glossary", headers=A).json() == {"deleted": 0}
    assert _english(client, SENTENCE) == f"EN<{SENTENCE}>"
    assert client.get("/v1/memory/glossary", headers=A).json() == {
        "name": None,
        "created": None,
        "updated": None,
        "entries": [],
    }
    assert client.get("/v1/memory/glossary", params={"format": "csv"}, headers=A).content == b""
    assert _entries(client, B) == [("Poutine", "Putin")]  # B's is B's
    client.post("/v1/memory/units", json={"source": "Bonjour.", "english": "Hello."}, headers=B)
    assert client.delete("/v1/memory", headers=B).json() == {"deleted": 2}  # one unit and one entry
    assert _entries(client, B) == []


def test_a_glossary_over_the_term_limit_is_refused_at_import(fake_engine: FakeEngine, tmp_path: Path) -> None:
    settings = Settings(api_keys=[KEY_A, KEY_B], data_dir=tmp_path, max_glossary_terms=2, warmup=False)
    with TestClient(create_app(settings, engine=fake_engine)) as capped:
        assert _import(capped, "a,b\nc,d\n").status_code == 200
        refused = _import(capped, "e,f\n", mode="merge")  # 3 entries after the merge
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "invalid_glossary" and refused.json()["error"]["limit"] == 2
        assert _entries(capped) == [("a", "b"), ("c", "d")]  # nothing half-written
        assert _import(capped, "a,b\nc,d\ne,f\n").status_code == 422


@pytest.mark.parametrize(
    ("params", "body", "headers"),
    [
        ({"mode": "merge"}, "<tmx/>", {"Content-Type": "application/x-tmx+xml"}),
        ({"name": "x"}, "<tmx/>", {"Content-Type": "application/x-tmx+xml"}),
        ({"mode": "sideways"}, "a,b\n", CSV),
        ({"name": " "}, "a,b\n", CSV),
        ({"name": "a\nb"}, "a,b\n", CSV),
        ({}, "Poutine,Putin\npoutine,putin\n", CSV),
        ({}, "x" * 300 + ",y\n", CSV),
    ],
)
def test_bad_glossary_imports_are_refused(
    client: TestClient, params: dict[str, str], body: str, headers: dict[str, str]
) -> None:
    response = _import(client, body, headers, **params)
    assert response.status_code == 422, response.text
    assert _entries(client) == []


def test_the_compatible_apis_use_the_keys_glossary(client: TestClient) -> None:
    _import(client, "Poutine,Putin\n")
    libre = client.post("/translate", json={"q": SENTENCE, "source": "fr", "target": "en", "api_key": KEY_A})
    assert libre.status_code == 200, libre.text
    assert "Putin" in libre.json()["translatedText"]
    deepl = {"Authorization": f"DeepL-Auth-Key {KEY_A}"}
    plain = client.post("/v2/translate", data={"text": SENTENCE, "target_lang": "EN"}, headers=deepl)
    assert plain.json()["translations"][0]["text"] == f"EN<{SENTENCE}>"  # DeepL: no memory unless asked
    for asked in ({"translation_memory": "default"}, {"glossary_id": "default"}, {"glossary_id": "glossary"}):
        used = client.post("/v2/translate", data={"text": SENTENCE, "target_lang": "EN", **asked}, headers=deepl)
        assert used.status_code == 200, (asked, used.text)
        assert "Putin" in used.json()["translations"][0]["text"], asked
    unknown = client.post(
        "/v2/translate", data={"text": SENTENCE, "target_lang": "EN", "glossary_id": "0a1b-2c3d"}, headers=deepl
    )
    assert unknown.status_code == 400 and "not found" in unknown.json()["message"]


def test_a_job_uses_its_keys_glossary(fake_engine: FakeEngine, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, api_keys=[KEY_A, KEY_B], cache_entries=0, warmup=False)
    data = zipped({"one.txt": f"Titre\n\n{SENTENCE}\n", "two.txt": "Poutine est parti.\n"})
    with TestClient(create_app(settings, engine=fake_engine)) as client:
        _import(client, "Poutine,Putin\n")
        found = sentences(client, run_job(client, data, A), A)
        assert [s["en"] for s in found["one.txt"]] == [
            "EN<Titre>",
            "EN<Selon le Kremlin, Putin a parlé hier avec les élus.>",
        ]
        assert [s["en"] for s in found["two.txt"]] == ["EN<Putin est parti.>"]
        assert not any("Poutine" in text for text in sent(fake_engine))
        fake_engine.calls.clear()
        theirs = sentences(client, run_job(client, data, B), B)
        assert [s["en"] for s in theirs["two.txt"]] == ["EN<Poutine est parti.>"]
