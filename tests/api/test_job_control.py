"""Listing a key's jobs, following one's progress as NDJSON events, and cancelling it (queued or running)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from models.document import Translation
from models.engine import PLAIN_CALL, CallControl, GenerationOptions
from models.interrupt import Interrupted
from service.app import create_app
from service.jobs.pace import PaceMeter
from tests.api.test_jobs import archive, settings
from tests.support.fakes import FakeEngine

OWNER = {"Authorization": "Bearer key-a"}
OTHER = {"Authorization": "Bearer key-b"}


class PacedEngine(FakeEngine):
    """The fake engine, each call taking `delay` seconds: a job of many documents runs for a while."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.calls_made = threading.Semaphore(0)

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        time.sleep(self.delay)
        self.calls_made.release()
        return super().translate(texts, options, control=control)


def _client(tmp_path: Path, engine: FakeEngine, **extra: Any) -> TestClient:
    return TestClient(create_app(settings(tmp_path, api_keys=["key-a", "key-b"], **extra), engine=engine))


def _submit(client: TestClient, count: int, name: str = "a.zip") -> str:
    response = client.post(f"/v1/jobs?filename={name}", content=archive(count), headers=OWNER)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def test_the_list_holds_the_keys_own_jobs_newest_first(tmp_path: Path) -> None:
    with _client(tmp_path, FakeEngine()) as client:
        first = _submit(client, 1, "first.zip")
        second = _submit(client, 1, "second.zip")
        listed = client.get("/v1/jobs", headers=OWNER)
        assert listed.status_code == 200
        jobs = listed.json()["jobs"]
        assert [job["id"] for job in jobs] == [second, first]
        assert [job["filename"] for job in jobs] == ["second.zip", "first.zip"]
        assert jobs[0]["links"]["events"] == f"/v1/jobs/{second}/events"
        assert jobs[0]["links"]["cancel"] == f"/v1/jobs/{second}/cancel"
        assert client.get("/v1/jobs", headers=OTHER).json() == {"jobs": [], "more": False}
        newest = client.get("/v1/jobs?limit=1", headers=OWNER).json()
        assert [job["id"] for job in newest["jobs"]] == [second] and newest["more"] is True
        assert client.get("/v1/jobs?limit=0", headers=OWNER).status_code == 422
        assert client.get("/v1/jobs").status_code == 401


def test_a_running_job_is_cancelled_stops_at_its_next_document_and_keeps_what_it_did(tmp_path: Path) -> None:
    engine = PacedEngine(delay=0.15)
    with _client(tmp_path, engine) as client:
        job = _submit(client, 20)
        assert engine.calls_made.acquire(timeout=30)  # running, mid-archive
        cancelled = client.post(f"/v1/jobs/{job}/cancel", headers=OWNER)
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] in ("cancelling", "cancelled")
        assert client.post(f"/v1/jobs/{job}/cancel", headers=OTHER).status_code == 404
        deadline = time.monotonic() + 30
        while (body := client.get(f"/v1/jobs/{job}", headers=OWNER).json())["status"] != "cancelled":
            assert body["status"] == "cancelling", body
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.3)  # a call already in this fake engine ends (it does not poll its stop check as Marian does)
        calls = len(engine.calls)
        time.sleep(0.5)
        assert len(engine.calls) == calls, "the runner went on translating after it was cancelled"
        progress = body["progress"]
        assert 1 <= progress["done"] < progress["total"]
        documents = client.get(f"/v1/jobs/{job}/documents", headers=OWNER).json()["documents"]
        assert len(documents) == progress["done"]  # what it finished stays browsable
        # asked again: the same answer; a cancelled job is finished: deleted like one, never resumed
        assert client.post(f"/v1/jobs/{job}/cancel", headers=OWNER).json()["status"] == "cancelled"
        assert client.delete(f"/v1/jobs/{job}", headers=OWNER).status_code == 204


class StuckEngine(FakeEngine):
    """Each call runs until its control says every request of it is gone (or 30 s): a group of
    documents that would take a long while."""

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()
        self.stopped = threading.Event()

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        self.started.set()
        deadline = time.monotonic() + 30
        while not control.stopped() and time.monotonic() < deadline:
            time.sleep(0.01)
        if control.stopped():
            self.stopped.set()
            raise Interrupted()
        return super().translate(texts, options, control=control)


def test_a_cancel_does_not_wait_for_the_group_in_flight_and_fails_no_document(tmp_path: Path) -> None:
    """A group's engine call that would run 30 s: cancelling withdraws the group from the scheduler,
    the call stops at its next step, the job is `cancelled` within seconds, and none of its
    documents is recorded as failed (they were not translated, not broken)."""
    engine = StuckEngine()
    with _client(tmp_path, engine) as client:
        job = _submit(client, 6)
        assert engine.started.wait(30)
        asked = time.monotonic()
        assert client.post(f"/v1/jobs/{job}/cancel", headers=OWNER).status_code == 200
        while (body := client.get(f"/v1/jobs/{job}", headers=OWNER).json())["status"] != "cancelled":
            assert time.monotonic() - asked < 10, body
            time.sleep(0.02)
        assert engine.stopped.wait(5), "the engine call in flight was never told to stop"
        assert body["progress"]["failed"] == 0, body
        documents = client.get(f"/v1/jobs/{job}/documents", headers=OWNER).json()["documents"]
        assert all(document["status"] != "failed" for document in documents), documents


def test_a_queued_job_is_cancelled_at_once_and_never_runs(tmp_path: Path) -> None:
    engine = PacedEngine(delay=0.1)
    with _client(tmp_path, engine) as client:
        running = _submit(client, 10)
        assert engine.calls_made.acquire(timeout=30)
        queued = _submit(client, 3)
        assert client.get(f"/v1/jobs/{queued}", headers=OWNER).json()["status"] == "queued"
        answer = client.post(f"/v1/jobs/{queued}/cancel", headers=OWNER)
        assert answer.json()["status"] == "cancelled"
        wait_for_status(client, running, "done")
        assert client.get(f"/v1/jobs/{queued}", headers=OWNER).json()["progress"]["done"] == 0
        finished = client.post(f"/v1/jobs/{running}/cancel", headers=OWNER)
        assert finished.status_code == 409
        assert finished.json()["error"]["code"] == "job_finished"


def wait_for_status(client: TestClient, job: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while (body := client.get(f"/v1/jobs/{job}", headers=OWNER).json())["status"] != status:
        assert time.monotonic() < deadline, body
        time.sleep(0.02)
    return body


def test_deleting_a_running_job_says_how_to_stop_it(tmp_path: Path) -> None:
    engine = PacedEngine(delay=0.1)
    with _client(tmp_path, engine) as client:
        job = _submit(client, 10)
        assert engine.calls_made.acquire(timeout=30)
        refused = client.delete(f"/v1/jobs/{job}", headers=OWNER)
        assert refused.status_code == 409
        assert f"POST /v1/jobs/{job}/cancel" in refused.json()["error"]["message"]
        client.post(f"/v1/jobs/{job}/cancel", headers=OWNER)
        wait_for_status(client, job, "cancelled")


def _events(client: TestClient, job: str) -> list[dict[str, Any]]:
    with client.stream("GET", f"/v1/jobs/{job}/events", headers=OWNER) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        return [json.loads(line) for line in response.iter_lines() if line]


def test_the_events_stream_shows_progress_moving_then_the_end(tmp_path: Path) -> None:
    with _client(tmp_path, PacedEngine(delay=0.1), jobs_events_seconds=0.02) as client:
        job = _submit(client, 8)
        events = _events(client, job)
    kinds = [event["type"] for event in events]
    assert kinds[-1] == "end" and set(kinds[:-1]) == {"progress"}, kinds
    assert events[-1]["job"]["status"] == "done"
    assert events[-1]["job"]["progress"]["done"] == events[-1]["job"]["progress"]["total"] == 9  # and its `../` entry
    done = [event["job"]["progress"]["done"] for event in events[:-1]]
    assert done == sorted(done) and len(set(done)) >= 3, done  # seen moving, never back
    rates = [event["pace"]["sentences_per_second"] for event in events[:-1]]
    assert any(rate is not None and rate > 0 for rate in rates)
    assert any(event["pace"]["seconds_left"] is not None for event in events[:-1])


def test_the_events_of_a_cancelled_job_end_with_cancelled_and_others_get_404(tmp_path: Path) -> None:
    engine = PacedEngine(delay=0.1)
    with _client(tmp_path, engine, jobs_events_seconds=0.02) as client:
        job = _submit(client, 20)
        assert client.get(f"/v1/jobs/{job}/events", headers=OTHER).status_code == 404
        assert engine.calls_made.acquire(timeout=30)
        client.post(f"/v1/jobs/{job}/cancel", headers=OWNER)
        events = _events(client, job)
    assert events[-1]["type"] == "end"
    assert events[-1]["job"]["status"] == "cancelled"


def test_pace_is_measured_from_what_was_watched() -> None:
    meter = PaceMeter()
    assert meter.observe(10.0, 2, 40, 10).as_dict() == {"sentences_per_second": None, "seconds_left": None}
    pace = meter.observe(14.0, 4, 80, 10)  # 2 documents and 40 sentences in 4 s: 6 documents left at 2 s each
    assert pace.sentences_per_second == 10.0
    assert pace.seconds_left == 12.0
    assert meter.observe(20.0, 10, 150, 10).seconds_left == 0.0


def test_a_reloaded_page_keeps_the_pace_of_the_job_from_the_start_of_its_run(tmp_path: Path) -> None:
    """The pace is the run's, not the stream's: a stream opened mid-run (a page reloaded) has the rate
    and the time left in its first event, where a stream's own meter would know nothing yet."""
    with _client(tmp_path, PacedEngine(delay=0.1), jobs_events_seconds=0.02) as client:
        job = _submit(client, 30)
        deadline = time.monotonic() + 30
        while client.get(f"/v1/jobs/{job}", headers=OWNER).json()["progress"]["done"] < 3:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        with client.stream("GET", f"/v1/jobs/{job}/events", headers=OWNER) as response:
            first = json.loads(next(line for line in response.iter_lines() if line))
        assert first["type"] == "progress" and first["job"]["status"] == "running", first
        assert first["pace"]["sentences_per_second"] > 0 and first["pace"]["seconds_left"] > 0, first
        client.post(f"/v1/jobs/{job}/cancel", headers=OWNER)


def test_a_jobs_run_restarts_its_meter_and_streams_share_it() -> None:
    from service.jobs.pace import PaceBoard

    board = PaceBoard()
    watched = board.meter("a")
    assert board.meter("a") is watched  # every stream of the job here reads one meter
    run = board.restart("a")  # its run starts: queued time is not its pace
    assert run is not watched and board.meter("a") is run
    board.forget("a")
    assert board.meter("a") is not run


def test_a_meter_for_a_run_on_another_replica_measures_from_the_runs_recorded_start() -> None:
    from service import clock
    from service.jobs.pace import PaceBoard
    from service.jobs.stores import RunStart

    board = PaceBoard()
    watched = board.meter("a")  # watched while queued, before the store knew of a run
    started = RunStart(clock.seconds_ago(10), done=2, sentences=40)
    elsewhere = board.meter("a", started)
    assert elsewhere is not watched and board.meter("a", started) is elsewhere
    pace = elsewhere.observe(time.monotonic(), 4, 90, 12)  # 2 documents and 50 sentences in the run's 10 s
    assert pace.sentences_per_second is not None and 4.0 <= pace.sentences_per_second <= 5.5, pace
    assert pace.seconds_left is not None and 35 <= pace.seconds_left <= 55, pace  # 8 documents at 5 s each
    again = board.meter("a", RunStart(clock.now(), done=4, sentences=90))  # the job started another run
    assert again is not elsewhere
    here = board.restart("b")  # a run in this process keeps its own meter, whatever the store says
    assert board.meter("b", started) is here


def test_a_stream_on_a_replica_that_does_not_run_the_job_has_its_pace_in_its_first_event(tmp_path: Path) -> None:
    """Two replicas share a PostgreSQL store; a stream opened on the one not running the job reads the run's
    recorded start, so its first event has the rate and the time left (it used to start at that stream)."""
    from tests.support.pg import database_url

    shared = {"jobs_database_url": database_url(), "jobs_lease_seconds": 5, "jobs_poll_seconds": 0.2}
    engines = (PacedEngine(delay=0.1), PacedEngine(delay=0.1))
    with (
        _client(tmp_path, engines[0], jobs_events_seconds=0.02, **shared) as first,
        _client(tmp_path, engines[1], jobs_events_seconds=0.02, **shared) as second,
    ):
        job = _submit(first, 40)
        deadline = time.monotonic() + 30
        while first.get(f"/v1/jobs/{job}", headers=OWNER).json()["progress"]["done"] < 3:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        other = second if engines[0].calls else first
        with other.stream("GET", f"/v1/jobs/{job}/events", headers=OWNER) as response:
            opening = json.loads(next(line for line in response.iter_lines() if line))
        assert opening["type"] == "progress" and opening["job"]["status"] == "running", opening
        assert opening["pace"]["sentences_per_second"] > 0 and opening["pace"]["seconds_left"] > 0, opening
        first.post(f"/v1/jobs/{job}/cancel", headers=OWNER)
        wait_for_status(first, job, "cancelled")


def test_the_events_stream_closes_without_an_end_when_the_server_drains(tmp_path: Path) -> None:
    engine = PacedEngine(delay=0.1)
    with _client(tmp_path, engine, jobs_events_seconds=0.02) as client:
        job = _submit(client, 20)
        assert engine.calls_made.acquire(timeout=30)
        client.app.state.bitext.draining = True  # type: ignore[attr-defined]
        events = _events(client, job)  # returns: the stream does not wait for the job to finish
        client.app.state.bitext.draining = False  # type: ignore[attr-defined]
        assert client.get(f"/v1/jobs/{job}", headers=OWNER).json()["status"] == "running"
        client.post(f"/v1/jobs/{job}/cancel", headers=OWNER)
        wait_for_status(client, job, "cancelled")
    assert [event["type"] for event in events] == ["progress"]  # where the job is, then the stream ends


def test_a_cancel_answered_by_one_replica_stops_the_job_running_on_the_other(tmp_path: Path) -> None:
    from tests.support.pg import database_url

    url = database_url()
    shared = {"jobs_database_url": url, "jobs_lease_seconds": 5, "jobs_poll_seconds": 0.2}
    engines = (PacedEngine(delay=0.1), PacedEngine(delay=0.1))
    with _client(tmp_path, engines[0], **shared) as first, _client(tmp_path, engines[1], **shared) as second:
        job = _submit(first, 60)
        deadline = time.monotonic() + 30
        while not any(engine.calls for engine in engines):  # running on one of them (either may claim it)
            assert time.monotonic() < deadline
            time.sleep(0.01)
        running = 0 if engines[0].calls else 1
        other = (first, second)[1 - running]
        assert other.post(f"/v1/jobs/{job}/cancel", headers=OWNER).json()["status"] == "cancelling"
        deadline = time.monotonic() + 15  # the runner's next heartbeat (a quarter of the lease) sees it
        while (body := other.get(f"/v1/jobs/{job}", headers=OWNER).json())["status"] != "cancelled":
            assert body["status"] == "cancelling" and time.monotonic() < deadline, body
            time.sleep(0.05)
        assert body["progress"]["done"] < body["progress"]["total"]
        time.sleep(0.3)  # a call already in the fake engine ends (it does not poll its stop check)
        calls = len(engines[running].calls)
        time.sleep(0.5)
        assert len(engines[running].calls) == calls and not engines[1 - running].calls
