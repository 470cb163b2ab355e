"""The jobs API end to end with the fake engine, including a restart of the app in the middle of a job."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from models.document import Translation
from models.engine import PLAIN_CALL, CallControl, GenerationOptions
from service.app import create_app
from service.jobs.stores import JobStatus, SqliteJobStore
from service.settings import Settings
from tests.support.fakes import FakeEngine

DOCUMENTS = 24
RESULTS_NAME = "results.zip"


class SlowEngine(FakeEngine):
    """The fake engine, a little slow, so a job is still running when the test restarts the app."""

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        time.sleep(0.05)
        return super().translate(texts, options, control=control)


def archive(count: int = DOCUMENTS) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for i in range(count):
            zf.writestr(f"a/{i:02}.txt", f"Titre {i}\n\nLe conseil a voté la mesure {i}. Abonnez-vous.\n")
        zf.writestr("../../slip.txt", "Sortie.")
    return buffer.getvalue()


def settings(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(data_dir=tmp_path / "data", warmup=False, batch_group_sentences=3, **extra)


def wait_for(client: TestClient, job: str, ready: Any, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/v1/jobs/{job}").json()
        if ready(body):
            return body
        time.sleep(0.02)
    raise AssertionError(f"job never reached the state: {body}")


def test_job_survives_a_restart_and_every_document_is_done_once(tmp_path: Path) -> None:
    first_engine = SlowEngine()
    with TestClient(create_app(settings(tmp_path), engine=first_engine)) as client:
        response = client.post(
            "/v1/jobs", params={"filename": "news.zip"}, content=archive(), headers={"content-type": "application/zip"}
        )
        assert response.status_code == 202
        job = response.json()["id"]
        assert response.json()["links"]["download"] == f"/v1/jobs/{job}/download"
        partway = wait_for(client, job, lambda b: b["progress"]["ok"] >= 3)
        assert partway["status"] == "running"
    # The app is gone mid-job; mark it `running` as a kill -9 would have left it.
    store = SqliteJobStore(tmp_path / "data" / "jobs.sqlite3")
    stopped = store.get(job)
    assert stopped is not None and stopped.status == "queued" and stopped.progress.done < DOCUMENTS + 1
    store.set_status(job, JobStatus.RUNNING)
    store.close()
    sent_before = {text for call in first_engine.calls for text in call}

    second_engine = FakeEngine()
    with TestClient(create_app(settings(tmp_path), engine=second_engine)) as client:
        done = wait_for(client, job, lambda b: b["status"] in ("done", "failed"))
        assert done["status"] == "done", done
        assert done["progress"] | {"sentences": 0} == {
            "total": DOCUMENTS + 1,
            "done": DOCUMENTS + 1,
            "ok": DOCUMENTS,
            "failed": 0,
            "skipped": 1,
            "sentences": 0,
        }
        sent_after = [text for call in second_engine.calls for text in call]
        assert "Abonnez-vous." not in sent_after, "the on-disk cache of the job is reused after the restart"
        assert sent_before and not sent_before & set(sent_after), (
            "nothing translated before the restart is translated again"
        )
        assert len(sent_after) < 2 * DOCUMENTS

        documents = client.get(f"/v1/jobs/{job}/documents").json()["documents"]
        ok = [d for d in documents if d["status"] == "ok"]
        assert Counter(d["name"] for d in ok) == Counter(f"a/{i:02}.txt" for i in range(DOCUMENTS))
        assert [d["reason"] for d in documents if d["status"] == "skipped"] == ["path_traversal"]

        one = client.get(f"/v1/jobs/{job}/documents/{ok[0]['id']}")
        assert one.status_code == 200 and one.json()["blocks"][0]["kind"] == "title"
        page = client.get(f"/v1/jobs/{job}/documents/{ok[0]['id']}", params={"format": "html"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")

        zipped = client.get(f"/v1/jobs/{job}/download")
        assert zipped.status_code == 200 and zipped.headers["content-type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(zipped.content)) as results:
            names = set(results.namelist())
            assert {"index.html", "manifest.jsonl", "summary.json"} <= names
            assert {f"docs/{d['id']}.json" for d in ok} | {f"docs/{d['id']}.html" for d in ok} <= names
            manifest_ok = [
                json.loads(line)
                for line in results.read("manifest.jsonl").splitlines()
                if json.loads(line)["status"] == "ok"
            ]
            assert sorted(r["id"] for r in manifest_ok) == sorted(d["id"] for d in ok), (
                "each document recorded ok exactly once"
            )


@pytest.fixture
def client(tmp_path: Path, fake_engine: FakeEngine) -> Any:
    with TestClient(create_app(settings(tmp_path, jobs_max_upload_bytes=2048), engine=fake_engine)) as test_client:
        yield test_client


def test_refusals_have_the_error_shape(client: TestClient) -> None:
    def error(response: Any) -> tuple[int, str]:
        return response.status_code, response.json()["error"]["code"]

    assert error(client.get("/v1/jobs/0123456789abcdef0123456789abcdef")) == (404, "job_not_found")
    assert client.get("/v1/jobs/not-an-id/documents").status_code == 404
    assert error(client.post("/v1/jobs", params={"filename": "a.rar"}, content=b"Rar!")) == (415, "unsupported_archive")
    assert error(client.post("/v1/jobs", params={"filename": "a.zip"}, content=b"")) == (400, "empty_upload")
    assert error(client.post("/v1/jobs", params={"filename": "a.zip"}, content=b"x" * 5000)) == (
        413,
        "payload_too_large",
    )
    assert error(client.post("/v1/jobs", content=b"x")) == (422, "invalid_request")


def test_a_corrupt_archive_fails_the_job_with_a_reason_and_download_waits(client: TestClient) -> None:
    job = client.post("/v1/jobs", params={"filename": "broken.zip"}, content=b"PK\x03\x04 not a zip at all").json()[
        "id"
    ]
    body = wait_for(client, job, lambda b: b["status"] in ("done", "failed"))
    assert body["status"] == "failed" and "corrupt" in body["error"]
    response = client.get(f"/v1/jobs/{job}/download")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "job_not_finished")


def test_jobs_belong_to_the_key_that_made_them(tmp_path: Path) -> None:
    owner, other = {"Authorization": "Bearer key-a"}, {"X-API-Key": "key-b"}
    with TestClient(create_app(settings(tmp_path, api_keys=["key-a", "key-b"]), engine=FakeEngine())) as client:
        assert client.post("/v1/jobs?filename=a.zip", content=archive(2)).status_code == 401
        created = client.post("/v1/jobs?filename=a.zip", content=archive(2), headers=owner)
        assert created.status_code == 202
        job = created.json()["id"]
        deadline = time.monotonic() + 30
        while client.get(f"/v1/jobs/{job}", headers=owner).json()["status"] != "done":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        documents = client.get(f"/v1/jobs/{job}/documents", headers=owner).json()["documents"]
        doc = next(d["id"] for d in documents if d["status"] == "ok")
        base = f"/v1/jobs/{job}"
        for path in (base, f"{base}/documents", f"{base}/documents/{doc}", f"{base}/download"):
            assert client.get(path, headers=owner).status_code == 200, path
            refused = client.get(path, headers=other)
            assert refused.status_code == 404, path  # another key cannot even tell the job exists
            assert refused.json()["error"]["code"] == "job_not_found"
            assert client.get(path).status_code == 401, path
    stored = SqliteJobStore(tmp_path / "data" / "jobs.sqlite3").get(job)
    assert stored is not None and len(stored.owner) == 64
    assert "key-a" not in repr(stored)  # the store keeps a hash, never the key


def _finished_job(client: TestClient) -> tuple[str, str]:
    created = client.post("/v1/jobs?filename=a.zip", content=archive(2))
    assert created.status_code == 202, created.text
    job = created.json()["id"]
    wait_for(client, job, lambda b: b["status"] == "done")
    documents = client.get(f"/v1/jobs/{job}/documents").json()["documents"]
    return job, next(d["id"] for d in documents if d["status"] == "ok")


def test_a_jobs_html_page_gets_the_export_csp_that_allows_its_inline_style(tmp_path: Path) -> None:
    from service.web.export import EXPORT_CSP

    with TestClient(create_app(settings(tmp_path), engine=FakeEngine())) as client:
        job, doc = _finished_job(client)
        page = client.get(f"/v1/jobs/{job}/documents/{doc}", params={"format": "html"})
        data = client.get(f"/v1/jobs/{job}/documents/{doc}")
    assert page.status_code == 200 and "<style" in page.text
    assert page.headers["content-security-policy"] == EXPORT_CSP
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in data.headers or data.headers["content-security-policy"] != EXPORT_CSP


def test_everything_a_job_writes_under_the_data_directory_is_private(tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o022)  # the usual umask: without explicit modes, files would be world-readable
    try:
        with TestClient(create_app(settings(tmp_path), engine=FakeEngine())) as client:
            _finished_job(client)
            client.get("/v1/jobs")
    finally:
        os.umask(old)
    data = tmp_path / "data"
    paths = [data, *data.rglob("*")]
    assert any(p.name == "jobs.sqlite3" for p in paths) and any(p.name == RESULTS_NAME for p in paths)
    assert any(p.suffix == ".html" for p in paths) and any(p.name == "a.zip" for p in paths)
    modes = {p: p.stat().st_mode for p in paths}
    exposed = [f"{p.relative_to(tmp_path)} {stat.filemode(mode)}" for p, mode in modes.items() if mode & 0o077]
    assert not exposed


# ---- quotas, retention, deletion --------------------------------------------------------------


def _left_behind(data: Path) -> list[str]:
    """Everything under the data directory but the job store itself."""
    return sorted(str(p.relative_to(data)) for p in data.rglob("*") if not p.name.startswith("jobs.sqlite3"))


def test_a_refused_upload_leaves_nothing_behind(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path, jobs_max_upload_bytes=2048), engine=FakeEngine())) as client:
        assert client.post("/v1/jobs", params={"filename": "a.zip"}, content=b"").status_code == 400
        assert client.post("/v1/jobs", params={"filename": "a.zip"}, content=b"x" * 5000).status_code == 413

        def chunked() -> Any:  # no Content-Length: refused while streaming, past the limit
            for _ in range(5):
                yield b"x" * 1000

        assert client.post("/v1/jobs", params={"filename": "a.zip"}, content=chunked()).status_code == 413
        assert client.post("/v1/jobs", params={"filename": "a.rar"}, content=b"Rar!").status_code == 415
        assert _left_behind(tmp_path / "data") == []


def test_jobs_in_flight_per_key_are_capped(tmp_path: Path) -> None:
    key_a, key_b = {"Authorization": "Bearer key-a"}, {"Authorization": "Bearer key-b"}
    app = create_app(settings(tmp_path, api_keys=["key-a", "key-b"], jobs_max_active_per_key=1), engine=FakeEngine())
    with TestClient(app) as client:
        manager = app.state.bitext.jobs
        first = client.post("/v1/jobs?filename=a.zip", content=archive(2), headers=key_a).json()["id"]
        deadline = time.monotonic() + 30
        while client.get(f"/v1/jobs/{first}", headers=key_a).json()["status"] != "done":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        manager.store.set_status(first, JobStatus.RUNNING)  # as if it were still at work
        refused = client.post("/v1/jobs?filename=b.zip", content=archive(2), headers=key_a)
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_many_jobs"
        assert refused.headers["retry-after"].isdigit() and refused.json()["error"]["limit"] == 1
        assert client.post("/v1/jobs?filename=b.zip", content=archive(2), headers=key_b).status_code == 202
        assert client.delete(f"/v1/jobs/{first}", headers=key_a).status_code == 409  # running: not deleted
        manager.store.set_status(first, JobStatus.DONE)
        assert client.post("/v1/jobs?filename=b.zip", content=archive(2), headers=key_a).status_code == 202


def test_bytes_stored_per_key_are_capped(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path, jobs_max_bytes_per_key=60_000), engine=FakeEngine())) as client:
        job, _ = _finished_job(client)
        stored = sum(p.stat().st_size for p in (tmp_path / "data" / "jobs" / job).rglob("*") if p.is_file())
        assert 0 < stored < 60_000
        too_big = client.post("/v1/jobs?filename=b.zip", content=b"x" * (60_000 - stored + 1))
        assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "quota_exceeded"
        assert _left_behind(tmp_path / "data") == sorted(
            str(p.relative_to(tmp_path / "data"))
            for p in [tmp_path / "data" / "jobs", *(tmp_path / "data" / "jobs").rglob("*")]
        )
        (tmp_path / "data" / "jobs" / job / "filler").write_bytes(b"x" * 60_000)
        full = client.post("/v1/jobs?filename=b.zip", content=archive(1))
        assert full.status_code == 429 and full.json()["error"]["code"] == "quota_exceeded"
        assert client.delete(f"/v1/jobs/{job}").status_code == 204  # deleting frees the quota
        assert client.post("/v1/jobs?filename=b.zip", content=archive(1)).status_code == 202


def test_the_owner_deletes_a_job_and_nothing_of_it_remains(tmp_path: Path) -> None:
    owner, other = {"Authorization": "Bearer key-a"}, {"Authorization": "Bearer key-b"}
    with TestClient(create_app(settings(tmp_path, api_keys=["key-a", "key-b"]), engine=FakeEngine())) as client:
        job = client.post("/v1/jobs?filename=a.zip", content=archive(2), headers=owner).json()["id"]
        deadline = time.monotonic() + 30
        while client.get(f"/v1/jobs/{job}", headers=owner).json()["status"] != "done":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert client.delete(f"/v1/jobs/{job}", headers=other).status_code == 404
        assert client.delete(f"/v1/jobs/{job}").status_code == 401
        assert client.delete(f"/v1/jobs/{job}", headers=owner).status_code == 204
        assert client.get(f"/v1/jobs/{job}", headers=owner).status_code == 404
        assert client.delete(f"/v1/jobs/{job}", headers=owner).status_code == 404
    assert not (tmp_path / "data" / "jobs" / job).exists()
    assert SqliteJobStore(tmp_path / "data" / "jobs.sqlite3").get(job) is None


def test_finished_jobs_expire_at_start_up_and_in_the_workers_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.jobs.manager import JobManager

    with TestClient(create_app(settings(tmp_path), engine=FakeEngine())) as client:
        kept, _ = _finished_job(client)
    time.sleep(1.1)  # timestamps are to the second: older than 0.1 s once the second has turned
    # Start-up: a retention shorter than the job's age deletes it before anything else runs.
    with TestClient(create_app(settings(tmp_path, jobs_retention_hours=0.1 / 3600), engine=FakeEngine())) as client:
        assert client.get(f"/v1/jobs/{kept}").status_code == 404
        assert not (tmp_path / "data" / "jobs" / kept).exists()
    # The worker's periodic sweep: a job that finishes while the server runs goes once it is old enough.
    monkeypatch.setattr(JobManager, "SWEEP_SECONDS", 0.2)
    with TestClient(create_app(settings(tmp_path, jobs_retention_hours=0.1 / 3600), engine=FakeEngine())) as client:
        job, _ = _finished_job(client)
        deadline = time.monotonic() + 10
        while client.get(f"/v1/jobs/{job}").status_code != 404:
            assert time.monotonic() < deadline, "the sweep never deleted the expired job"
            time.sleep(0.1)
        assert not (tmp_path / "data" / "jobs" / job).exists()


def test_a_job_past_its_output_cap_is_done_and_says_what_it_skipped(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path, jobs_max_output_bytes=1024), engine=FakeEngine())) as client:
        job = client.post("/v1/jobs?filename=a.zip", content=archive(6)).json()["id"]
        body = wait_for(client, job, lambda b: b["status"] in ("done", "failed"))
        assert body["status"] == "done" and body["error"].startswith("output_quota"), body
        documents = client.get(f"/v1/jobs/{job}/documents").json()["documents"]
        assert {d["reason"] for d in documents if d["status"] == "skipped"} >= {"output_quota"}
        written = sum(p.stat().st_size for p in (tmp_path / "data" / "jobs" / job / "out" / "docs").iterdir())
        assert written <= 1024


def test_the_jobs_api_reads_an_archive_up_to_archive_max_entries(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path, archive_max_entries=3), engine=FakeEngine())) as client:
        job = client.post("/v1/jobs?filename=a.zip", content=archive(6)).json()["id"]
        body = wait_for(client, job, lambda b: b["status"] in ("done", "failed"))
        assert body["status"] == "done"
        documents = client.get(f"/v1/jobs/{job}/documents").json()["documents"]
        assert len([d for d in documents if d["status"] == "ok"]) <= 3
        assert "too_many_entries" in {d.get("reason") for d in documents}


def test_a_tar_member_named_in_latin1_and_odd_jsonl_ids_do_not_fail_the_job(tmp_path: Path) -> None:
    """Issue 21, finding 7: names from archives are data, escaped in the manifest, listing and index."""
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        members = {
            b"caf\xe9.txt": "Le conseil a voté la mesure hier soir.".encode(),  # Latin-1 bytes: no UTF-8
            b"ids.jsonl": b'{"id": "\\ud800", "text": "Les \xc3\xa9lus ont d\xc3\xa9battu."}\n',
            "fin\u202etxt.exe.txt".encode(): "Les écoles seront rénovées.".encode(),
        }
        for raw, data in members.items():
            info = tarfile.TarInfo(raw.decode("utf-8", "surrogateescape"))
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with TestClient(create_app(settings(tmp_path), engine=FakeEngine())) as client:
        response = client.post("/v1/jobs", params={"filename": "odd.tar"}, content=buffer.getvalue())
        job = response.json()["id"]
        done = wait_for(client, job, lambda b: b["status"] in ("done", "failed"))
        assert (done["status"], done["progress"]["ok"]) == ("done", 3), done
        listed = client.get(f"/v1/jobs/{job}/documents")
        assert listed.status_code == 200
        names = {document["name"] for document in listed.json()["documents"]}
        assert names == {"caf\\xe9.txt", "ids.jsonl#\\ud800", "fin\\u202etxt.exe.txt"}
        download = client.get(f"/v1/jobs/{job}/download")
        assert download.status_code == 200
        with zipfile.ZipFile(io.BytesIO(download.content)) as results:
            assert "caf\\xe9.txt" in results.read("index.html").decode("utf-8")
