"""Batch jobs translate with their owner's translation memory: matched sentences never reach the model."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings
from tests.support.fakes import FakeEngine

A = {"Authorization": "Bearer key-a"}
B = {"Authorization": "Bearer key-b"}
SENTENCE = "Le conseil municipal a voté le budget hier soir."
EDITED = "The city council passed the budget last night."
OTHER = "Les habitants étaient nombreux."


def archive(documents: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in documents.items():
            zf.writestr(name, text)
    return buffer.getvalue()


def run_job(client: TestClient, data: bytes, headers: dict[str, str]) -> str:
    created = client.post("/v1/jobs", params={"filename": "a.zip"}, content=data, headers=headers)
    assert created.status_code == 202, created.text
    job = str(created.json()["id"])
    deadline = time.monotonic() + 30
    while (status := client.get(f"/v1/jobs/{job}", headers=headers).json()["status"]) != "done":
        assert status in ("queued", "running") and time.monotonic() < deadline, status
        time.sleep(0.02)
    return job


def sentences(client: TestClient, job: str, headers: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Each document's sentences, by the document's name."""
    out = {}
    for document in client.get(f"/v1/jobs/{job}/documents", headers=headers).json()["documents"]:
        body = client.get(f"/v1/jobs/{job}/documents/{document['id']}", headers=headers).json()
        out[document["name"]] = [s for block in body["blocks"] for s in block["sentences"]]
    return out


def sent(engine: FakeEngine) -> list[str]:
    return [text for call in engine.calls for text in call]


def test_a_job_uses_its_owners_memory_and_no_one_elses(tmp_path: Path) -> None:
    engine = FakeEngine()
    settings = Settings(data_dir=tmp_path, api_keys=["key-a", "key-b"], cache_entries=0, warmup=False)
    data = archive({"one.txt": f"Titre\n\n{SENTENCE} {OTHER}\n", "two.txt": SENTENCE.upper().replace(" ", "  ") + "\n"})
    with TestClient(create_app(settings, engine=engine)) as client:
        added = client.post("/v1/memory/units", json={"source": SENTENCE, "english": EDITED}, headers=A)
        assert added.status_code == 201

        job = run_job(client, data, A)
        found = sentences(client, job, A)
        one = {s["fr"]: s for s in found["one.txt"]}
        assert (one[SENTENCE]["en"], one[SENTENCE]["source"], one[SENTENCE]["match"]) == (EDITED, "memory:exact", 100)
        assert one[OTHER]["source"] == "model" and one["Titre"]["source"] == "model"
        assert [s["source"] for s in found["two.txt"]] == ["memory:exact"]  # spaces and case normalised
        assert not any("BUDGET" in text.upper() for text in sent(engine))  # no model call for them
        assert OTHER in sent(engine)

        engine.calls.clear()
        theirs = sentences(client, run_job(client, data, B), B)  # key B's job: A's memory is not B's
        assert {s["source"] for s in theirs["one.txt"]} == {"model"}
        assert SENTENCE in sent(engine)


def test_a_job_without_a_memory_translates_as_before(tmp_path: Path) -> None:
    engine = FakeEngine()
    with TestClient(create_app(Settings(data_dir=tmp_path, warmup=False), engine=engine)) as client:
        found = sentences(client, run_job(client, archive({"one.txt": f"{SENTENCE}\n"}), {}), {})
    assert [(s["source"], s["en"]) for s in found["one.txt"]] == [("model", f"EN<{SENTENCE}>")]
    assert not (tmp_path / "memory.sqlite3").exists()  # a job never creates a memory
