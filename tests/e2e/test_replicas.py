"""Two `bitext serve` replicas sharing a PostgreSQL job store and a data directory, behind "one address".

The client alternates between them for every request, as a round-robin load balancer would; a
replica killed mid-job has its job taken over by the other once the lease runs out.
"""

from __future__ import annotations

import io
import itertools
import json
import time
import zipfile
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.support.live import LiveServer
from tests.support.pg import database_url

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def _zip(documents: int, tag: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(documents):
            archive.writestr(
                f"{tag}/{i:03}.txt", f"Le titre {tag} {i}\n\nLe conseil a voté la mesure {i}. Les élus ont débattu.\n"
            )
    return buffer.getvalue()


def _env(tmp_path: Path, url: str, **extra: str) -> dict[str, str]:
    return {
        "BITEXT_JOBS_DATABASE_URL": url,
        "BITEXT_DATA_DIR": str(tmp_path / "shared-data"),  # a ReadWriteMany volume in a real deployment
        "BITEXT_DEVICE": "cpu",
        "BITEXT_THREADS": "1",
        "BITEXT_JOBS_POLL_SECONDS": "0.3",
        **extra,
    }


def _wait_done(urls: itertools.cycle, ident: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = httpx.get(f"{next(urls)}/v1/jobs/{ident}", timeout=10).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise TimeoutError(f"job {ident} not done: {job}")


def test_a_client_alternating_between_two_replicas_sees_one_service(tmp_path: Path, tiny_checkpoint: Path) -> None:
    env = _env(tmp_path, database_url())
    with (
        LiveServer(tiny_checkpoint, tmp_path / "a.log", **env) as a,
        LiveServer(tiny_checkpoint, tmp_path / "b.log", **env) as b,
    ):
        urls = itertools.cycle([a.url, b.url])
        translated = [
            httpx.post(f"{next(urls)}/v1/translate", json={"text": "Bonjour à tous."}, timeout=30) for _ in range(2)
        ]
        assert [r.status_code for r in translated] == [200, 200]
        assert translated[0].json()["blocks"] == translated[1].json()["blocks"], "the replicas serve the same model"

        ids = []
        for n in range(4):  # uploads land on alternating replicas
            response = httpx.post(
                f"{next(urls)}/v1/jobs", params={"filename": f"news{n}.zip"}, content=_zip(12, f"n{n}"), timeout=30
            )
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])
        for ident in ids:
            job = _wait_done(urls, ident)
            assert (job["status"], job["progress"]["ok"], job["progress"]["total"]) == ("done", 12, 12)
            views = [httpx.get(f"{url}/v1/jobs/{ident}", timeout=10).json() for url in (a.url, b.url)]
            assert views[0] == views[1], "both replicas read the same row"
            documents = httpx.get(f"{next(urls)}/v1/jobs/{ident}/documents", timeout=10).json()["documents"]
            assert len(documents) == 12
            one = httpx.get(f"{next(urls)}/v1/jobs/{ident}/documents/{documents[0]['id']}", timeout=10)
            assert one.status_code == 200 and one.json()["stats"]["sentences"] == documents[0]["sentences"]
            download = httpx.get(f"{next(urls)}/v1/jobs/{ident}/download", timeout=30)
            assert download.status_code == 200
            assert (
                sum(
                    name.startswith("docs/") and name.endswith(".json")
                    for name in zipfile.ZipFile(io.BytesIO(download.content)).namelist()
                )
                == 12
            )
        missing = httpx.get(f"{next(urls)}/v1/jobs/{'0' * 32}", timeout=10)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "job_not_found"


def test_a_replica_killed_mid_job_is_taken_over_after_the_lease(tmp_path: Path, tiny_checkpoint: Path) -> None:
    env = _env(tmp_path, database_url(), BITEXT_JOBS_LEASE_SECONDS="5", BITEXT_BATCH_GROUP_SENTENCES="4")
    documents = 120
    with LiveServer(tiny_checkpoint, tmp_path / "a.log", **env) as a:
        response = httpx.post(
            f"{a.url}/v1/jobs", params={"filename": "big.zip"}, content=_zip(documents, "big"), timeout=30
        )
        ident = response.json()["id"]
        deadline = time.monotonic() + 60
        while (
            httpx.get(f"{a.url}/v1/jobs/{ident}", timeout=10).json()["progress"]["done"] < 10
            and time.monotonic() < deadline
        ):
            time.sleep(0.02)
        assert a.process is not None
        a.process.kill()  # no shutdown: the row stays `running` with a heartbeat that stops
        a.process.wait(timeout=30)
    with LiveServer(tiny_checkpoint, tmp_path / "b.log", **env) as b:
        cut_off = httpx.get(f"{b.url}/v1/jobs/{ident}", timeout=10).json()
        assert cut_off["status"] == "running" and 10 <= cut_off["progress"]["done"] < documents, "killed mid-job"
        job = _wait_done(itertools.cycle([b.url]), ident)
        assert (job["status"], job["progress"]["ok"]) == ("done", documents)
        records = httpx.get(f"{b.url}/v1/jobs/{ident}/documents", timeout=10).json()["documents"]
    manifest = (
        (tmp_path / "shared-data" / "jobs" / ident / "out" / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    )
    ok = Counter(json.loads(line)["name"] for line in manifest if json.loads(line)["status"] == "ok")
    assert ok == Counter(f"big/{i:03}.txt" for i in range(documents)), (
        "each document translated once across both replicas"
    )
    assert len(records) == documents
