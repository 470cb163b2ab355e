"""Batch jobs translate with their owner's translation memory: matched sentences never reach the model."""

from __future__ import annotations

import io
import threading
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from models.document import Translation
from models.engine import PLAIN_CALL, CallControl, GenerationOptions
from service.app import create_app
from service.jobs import outputs
from service.settings import Settings
from tests.support.documents import zipped
from tests.support.fakes import FakeEngine

A = {"Authorization": "Bearer key-a"}
B = {"Authorization": "Bearer key-b"}
SENTENCE = "Le conseil municipal a voté le budget hier soir."
EDITED = "The city council passed the budget last night."
OTHER = "Les habitants étaient nombreux."


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
    data = zipped({"one.txt": f"Titre\n\n{SENTENCE} {OTHER}\n", "two.txt": SENTENCE.upper().replace(" ", "  ") + "\n"})
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
        found = sentences(client, run_job(client, zipped({"one.txt": f"{SENTENCE}\n"}), {}), {})
    assert [(s["source"], s["en"]) for s in found["one.txt"]] == [("model", f"EN<{SENTENCE}>")]
    assert not (tmp_path / "memory.sqlite3").exists()  # a job never creates a memory


SRT = f"1\n00:00:01,000 --> 00:00:03,000\n{SENTENCE}\n\n2\n00:00:04,000 --> 00:00:06,000\n{OTHER}\n"


def test_apply_memory_rewrites_only_the_documents_it_changes_without_the_model(tmp_path: Path) -> None:
    engine = FakeEngine()
    settings = Settings(data_dir=tmp_path, api_keys=["key-a", "key-b"], cache_entries=0, warmup=False)
    marked = SENTENCE.replace("conseil municipal", "**conseil municipal**")  # the memory knows it without markup
    data = zipped(
        {"one.txt": f"{OTHER} {SENTENCE}\n", "film.srt": SRT, "two.txt": f"Titre\n\n{OTHER}\n", "three.md": marked}
    )
    with TestClient(create_app(settings, engine=engine)) as client:
        job = run_job(client, data, A)  # translated before the memory held the sentence
        documents = {d["name"]: d for d in client.get(f"/v1/jobs/{job}/documents", headers=A).json()["documents"]}
        out = tmp_path / "jobs" / job / "out"
        untouched = [out / documents["two.txt"]["json"], out / documents["two.txt"]["html"]]
        before = [(path.read_bytes(), path.stat().st_mtime_ns) for path in untouched]
        film = documents["film.srt"]["files"]
        assert EDITED not in client.get(next(iter(film.values())), headers=A).text

        assert (
            client.post("/v1/memory/units", json={"source": SENTENCE, "english": EDITED}, headers=A).status_code == 201
        )
        assert client.post(f"/v1/jobs/{job}/apply-memory", headers=B).status_code == 404  # another key's job
        engine.calls.clear()
        applied = client.post(f"/v1/jobs/{job}/apply-memory", headers=A)
        assert applied.status_code == 200, applied.text
        report = applied.json()
        assert engine.calls == []  # the memory and the job's cache answered every sentence
        assert report["checked"] == 4 and report["sentences"] == 3
        assert sorted(d["name"] for d in report["documents"]) == ["film.srt", "one.txt", "three.md"]
        three = next(d["sentences"] for d in report["documents"] if d["name"] == "three.md")
        assert [(c["fr"], c["after"].replace("**", ""), c["source"]) for c in three] == [
            (marked, EDITED, "memory:exact")
        ]
        for document in report["documents"]:
            if document["name"] == "three.md":
                continue
            assert [(c["fr"], c["before"], c["after"]) for c in document["sentences"]] == [
                (SENTENCE, f"EN<{SENTENCE}>", EDITED)
            ]
        changes = {d["name"]: d["sentences"][0]["source"] for d in report["documents"]}
        assert changes == {"one.txt": "memory:exact", "film.srt": "memory:exact", "three.md": "memory:exact"}

        found = sentences(client, job, A)
        assert {s["fr"]: s["source"] for s in found["one.txt"]} == {OTHER: "model", SENTENCE: "memory:exact"}
        assert EDITED in client.get(next(iter(film.values())), headers=A).text  # the bilingual file too
        html = client.get(
            f"/v1/jobs/{job}/documents/{documents['one.txt']['id']}", params={"format": "html"}, headers=A
        )
        assert EDITED in html.text
        assert [(path.read_bytes(), path.stat().st_mtime_ns) for path in untouched] == before  # not written again
        with zipfile.ZipFile(io.BytesIO(client.get(f"/v1/jobs/{job}/download", headers=A).content)) as results:
            assert EDITED.encode() in results.read(documents["one.txt"]["json"])

        again = client.post(f"/v1/jobs/{job}/apply-memory", headers=A).json()  # nothing left to change
        assert (again["documents"], again["sentences"], engine.calls) == ([], 0, [])


class Held(FakeEngine):
    """The fake engine, held until the test lets it go: its job stays running meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        assert self.go.wait(30)
        return super().translate(texts, options, control=control)


def test_apply_memory_answers_only_for_a_finished_job_of_the_caller(tmp_path: Path) -> None:
    engine = Held()
    settings = Settings(data_dir=tmp_path, api_keys=["key-a", "key-b"], cache_entries=0, warmup=False)
    with TestClient(create_app(settings, engine=engine)) as client:
        assert (
            client.post("/v1/memory/units", json={"source": SENTENCE, "english": EDITED}, headers=A).status_code == 201
        )
        created = client.post("/v1/jobs", params={"filename": "a.zip"}, content=zipped({"a.txt": OTHER}), headers=A)
        job = created.json()["id"]
        early = client.post(f"/v1/jobs/{job}/apply-memory", headers=A)
        assert (early.status_code, early.json()["error"]["code"]) == (409, "job_not_finished")
        engine.go.set()
        assert client.post("/v1/jobs/not-a-job/apply-memory", headers=A).status_code == 404
        assert client.post(f"/v1/jobs/{job}/apply-memory").status_code == 401


def test_apply_memory_stopped_midway_is_finished_by_the_next_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = FakeEngine()
    settings = Settings(data_dir=tmp_path, api_keys=["key-a"], cache_entries=0, warmup=False)
    names = ["a.txt", "b.txt", "c.txt"]
    data = zipped({name: f"{OTHER} {SENTENCE}\n" for name in names})
    real = outputs.write_atomic
    writes: list[Path] = []

    def crashing(path: Path, data: bytes) -> None:
        if path.parent.name == outputs.DOCS and len(writes) == 3:  # after one document and the next one's JSON
            raise OSError("no space left on device")
        real(path, data)
        writes.append(path)

    with TestClient(create_app(settings, engine=engine), raise_server_exceptions=False) as client:
        job = run_job(client, data, A)
        client.post("/v1/memory/units", json={"source": SENTENCE, "english": EDITED}, headers=A)
        engine.calls.clear()
        never = client.get(f"/v1/jobs/{job}/apply-memory", headers=A)
        assert (never.status_code, never.json()["error"]["code"]) == (404, "not_applied")
        monkeypatch.setattr(outputs, "write_atomic", crashing)
        assert client.post(f"/v1/jobs/{job}/apply-memory", headers=A).status_code >= 500
        monkeypatch.setattr(outputs, "write_atomic", real)
        stopped = client.get(f"/v1/jobs/{job}/apply-memory", headers=A).json()  # what it did before it stopped
        assert stopped["finished"] is False and len(stopped["documents"]) == 1 and stopped["sentences"] == 1

        report = client.post(f"/v1/jobs/{job}/apply-memory", headers=A).json()
        assert sorted(d["name"] for d in report["documents"]) == names and report["sentences"] == 3
        assert report["finished"] is True and report["checked"] == 3
        assert client.get(f"/v1/jobs/{job}/apply-memory", headers=A).json() == report  # the answer, kept
        assert client.post(f"/v1/jobs/{job}/apply-memory", headers=A).json()["documents"] == []  # nothing left
        assert client.get(f"/v1/jobs/{job}/apply-memory", headers=A).json() == report
        assert engine.calls == []
        for name, found in sentences(client, job, A).items():
            assert [s["source"] for s in found] == ["model", "memory:exact"], name
        with zipfile.ZipFile(io.BytesIO(client.get(f"/v1/jobs/{job}/download", headers=A).content)) as results:
            htmls = [n for n in results.namelist() if n.endswith(".html") and n.startswith("docs/")]
            assert len(htmls) == 3 and all(EDITED in results.read(n).decode() for n in htmls)
