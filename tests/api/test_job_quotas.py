"""Per-key quotas under concurrent uploads: each upload takes a reservation before its body is read.

The races run in one event loop through `httpx.ASGITransport` (the app's lifespan in that loop, as
uvicorn runs it), with the uploads' bodies held back until every upload of the race has either been
answered or is streaming its body: so every upload has passed whatever check comes before its body
before any of them completes. A check-then-submit quota admits them all; reservations cannot.
"""

from __future__ import annotations

import asyncio
import io
import time
import zipfile
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service import clock
from service.app import create_app
from service.jobs.stores import NewJob, SqliteJobStore
from service.jobs.stores.base import Quota, Reservation
from service.settings import Settings
from tests.support.fakes import FakeEngine, GatedEngine
from tests.support.pg import database_url

HANG = 60  # seconds; a guard against a hung test, only reached when something is broken
UPLOAD = 120_000  # bytes of each upload in the byte-quota races
QUOTA = 300_000  # two uploads fit, a third does not


def _settings(data: Path, **extra: Any) -> Settings:
    return Settings(data_dir=data, warmup=False, batch_group_sentences=3, **extra)


def _archive(documents: int = 1) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for i in range(documents):
            zf.writestr(f"a/{i}.txt", f"Titre {i}\n\nLe conseil a voté la mesure {i}.\n")
    return buffer.getvalue()


@asynccontextmanager
async def _serving(*apps: FastAPI) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Each app started (its lifespan in this loop) with a client on it; all stopped on exit."""
    async with AsyncExitStack() as stack:
        clients = []
        for app in apps:
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            clients.append(await stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url="http://t")))
        yield clients


async def _race(clients: Sequence[httpx.AsyncClient], bodies: Sequence[bytes], declared: bool) -> list[httpx.Response]:
    """Every upload at once (round robin over `clients`); no body is sent past its start until all have arrived.

    An upload arrives when the server first pulls its body (it was admitted to stream) or when it is
    answered without reading it, whichever comes first. `declared`: with a Content-Length, else chunked.
    """
    arrived = 0
    everyone = asyncio.Event()

    def arrive() -> None:
        nonlocal arrived
        arrived += 1
        if arrived == len(bodies):
            everyone.set()

    async def upload(n: int, data: bytes) -> httpx.Response:
        here = False

        def once() -> None:
            nonlocal here
            if not here:
                here = True
                arrive()

        async def content() -> AsyncIterator[bytes]:
            once()
            await everyone.wait()
            for start in range(0, len(data), 32_768):
                yield data[start : start + 32_768]

        headers = {"Content-Length": str(len(data))} if declared else {}
        try:
            return await clients[n % len(clients)].post(
                "/v1/jobs", params={"filename": f"u{n}.zip"}, content=content(), headers=headers
            )
        finally:
            once()

    return await asyncio.wait_for(asyncio.gather(*(upload(n, data) for n, data in enumerate(bodies))), HANG)


def _codes(responses: Sequence[httpx.Response]) -> list[tuple[int, str]]:
    return sorted((r.status_code, r.json()["error"]["code"] if r.status_code != 202 else "") for r in responses)


def test_eight_concurrent_uploads_get_exactly_the_jobs_in_flight_allowed(tmp_path: Path) -> None:
    engine = GatedEngine(guard=HANG)
    app = create_app(_settings(tmp_path / "data", jobs_max_active_per_key=2), engine=engine)

    async def scenario() -> list[httpx.Response]:
        async with _serving(app) as clients:
            try:
                return await _race(clients, [_archive()] * 8, declared=True)
            finally:
                engine.release.set()

    responses = asyncio.run(scenario())
    assert _codes(responses) == [(202, "")] * 2 + [(429, "too_many_jobs")] * 6
    refused = [r for r in responses if r.status_code == 429]
    assert all(r.headers["retry-after"].isdigit() and r.json()["error"]["limit"] == 2 for r in refused)


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_eight_concurrent_uploads_never_store_more_than_the_byte_quota(tmp_path: Path, declared: bool) -> None:
    engine = GatedEngine(guard=HANG)
    app = create_app(
        _settings(tmp_path / "data", jobs_max_active_per_key=8, jobs_max_bytes_per_key=QUOTA), engine=engine
    )

    async def scenario() -> list[httpx.Response]:
        async with _serving(app) as clients:
            try:
                return await _race(clients, [b"x" * UPLOAD] * 8, declared=declared)
            finally:
                engine.release.set()

    responses = asyncio.run(scenario())
    admitted = [r for r in responses if r.status_code == 202]
    assert len(admitted) * UPLOAD <= QUOTA
    assert {code for status, code in _codes(responses) if status != 202} <= {"quota_exceeded"}
    if declared:  # each asks for what it declares: exactly as many as fit
        assert _codes(responses) == [(202, "")] * 2 + [(413, "quota_exceeded")] * 6
    else:  # a chunked upload holds room ahead of its bytes: at least one, never more than fit
        assert admitted
    uploads = [p for p in (tmp_path / "data" / "jobs").glob("*/upload/*") if p.is_file()]
    assert len(uploads) == len(admitted) and sum(p.stat().st_size for p in uploads) <= QUOTA


def test_replicas_sharing_a_postgres_store_hold_the_quota_between_them(tmp_path: Path) -> None:
    url = database_url()
    engine = GatedEngine(guard=HANG)
    replicas = [
        create_app(_settings(tmp_path / "shared-data", jobs_database_url=url, jobs_max_active_per_key=2), engine=engine)
        for _ in range(2)
    ]

    async def scenario() -> list[httpx.Response]:
        async with _serving(*replicas) as clients:
            try:
                return await _race(clients, [_archive()] * 8, declared=True)
            finally:
                engine.release.set()

    responses = asyncio.run(scenario())
    assert _codes(responses) == [(202, "")] * 2 + [(429, "too_many_jobs")] * 6


# ---- a reservation is released: failed uploads, finished, failed and deleted jobs, crashes ----------------------


def _wait(client: TestClient, job: str, statuses: set[str]) -> None:
    deadline = time.monotonic() + HANG  # a hang guard, not a timing assertion
    while (status := client.get(f"/v1/jobs/{job}").json()["status"]) not in statuses:
        assert time.monotonic() < deadline, f"job {job} stayed {status}"
        time.sleep(0.02)


def _uploading(app: FastAPI) -> list[str]:
    return [job.id for job in app.state.bitext.jobs.store.owned("") if job.status == "uploading"]


def test_a_refused_or_broken_upload_releases_its_reservation(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path / "data", jobs_max_active_per_key=1, jobs_max_upload_bytes=2048), FakeEngine())

    def too_long() -> Any:  # chunked, so refused while streaming (413) after it was granted a reservation
        for _ in range(5):
            yield b"x" * 1000

    def cut_off() -> Any:  # the connection breaks mid-body
        yield b"x" * 1000
        raise ConnectionResetError("the client went away")

    with TestClient(app) as client:
        assert client.post("/v1/jobs?filename=a.zip", content=b"").json()["error"]["code"] == "empty_upload"
        assert client.post("/v1/jobs?filename=a.zip", content=too_long()).json()["error"]["code"] == "payload_too_large"
        with pytest.raises(ConnectionResetError):
            client.post("/v1/jobs?filename=a.zip", content=cut_off())
        assert _uploading(app) == []
        assert [p.name for p in (tmp_path / "data").iterdir() if not p.name.startswith("jobs.sqlite3")] == []
        assert client.post("/v1/jobs?filename=a.zip", content=_archive()).status_code == 202  # the one slot is free


def test_a_job_holds_its_slot_until_it_is_done_failed_or_deleted(tmp_path: Path) -> None:
    engine = GatedEngine(guard=HANG)
    # No translation cache: every job's sentences reach the held engine (a cached job finished at once, and
    # whether it was still in flight when the next upload asked depended on timing).
    settings = _settings(tmp_path / "data", jobs_max_active_per_key=2, cache_entries=0)
    with TestClient(create_app(settings, engine=engine)) as client:

        def upload(body: bytes = _archive()) -> httpx.Response:
            return client.post("/v1/jobs?filename=a.zip", content=body)

        def refused() -> bool:
            return bool(upload().json()["error"]["code"] == "too_many_jobs")

        broken = upload(b"not a zip").json()["id"]  # fails when the worker opens it, before any translation
        _wait(client, broken, {"failed"})
        running = upload().json()["id"]
        assert engine.entered.wait(HANG)  # the worker is held inside this job: running
        queued = upload().json()["id"]
        assert refused()  # two in flight; the failed job is not one
        assert client.delete(f"/v1/jobs/{queued}").status_code == 204  # a queued job deleted (cancelled)
        later = upload()
        assert later.status_code == 202 and refused()
        engine.release.set()
        for job in (running, later.json()["id"]):
            _wait(client, job, {"done"})
        engine.release.clear()  # held again, so the next two stay in flight
        assert upload().status_code == 202 and upload().status_code == 202 and refused()
        engine.release.set()


def test_a_reservation_left_by_a_crash_lapses_after_the_lease(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    app = create_app(_settings(data, jobs_max_active_per_key=1), engine=FakeEngine())
    crashed = SqliteJobStore(data / "jobs.sqlite3")
    with monkeypatch.context() as aged:  # an upload whose process died long ago, mid-body
        aged.setattr(clock, "now", lambda: "2000-01-01T00:00:00+00:00")
        left = crashed.reserve(NewJob("d" * 32, "a.zip", "{}"), quota=Quota(1, 10_000, 10_000, 60), need=10, ask=10)
    crashed.close()
    assert left == Reservation("d" * 32, "", 10)
    (data / f".upload-{'d' * 32}").write_bytes(b"half an archive")
    with TestClient(app) as client:  # the sweep at start-up drops it, and what it left
        assert app.state.bitext.jobs.store.get("d" * 32) is None
        assert not (data / f".upload-{'d' * 32}").exists()
        assert client.post("/v1/jobs?filename=a.zip", content=_archive()).status_code == 202


def test_requests_arriving_together_open_one_job_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store is opened on first use; eight first uses at once (eight uploads to a fresh server) open it
    once, where each used to open its own connection and race to create the file ("database is locked")."""
    import threading

    from service.jobs import manager as manager_module
    from service.jobs.manager import JobManager
    from service.scheduler import Scheduler

    opened: list[Any] = []
    real = manager_module.open_job_store

    def slow_open(url: str | None, data_dir: Path) -> Any:
        time.sleep(0.05)  # a file being created: every thread arriving now finds no store yet
        store = real(url, data_dir)
        opened.append(store)
        return store

    monkeypatch.setattr(manager_module, "open_job_store", slow_open)
    jobs = JobManager(Settings(data_dir=str(tmp_path / "data")), Scheduler(FakeEngine()))
    start = threading.Barrier(8)
    seen: list[Any] = []

    def first_use() -> None:
        start.wait(10)
        seen.append(jobs.store)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    try:
        assert len(opened) == 1 and len(seen) == 8 and all(store is opened[0] for store in seen)
    finally:
        for store in opened:
            store.close()
