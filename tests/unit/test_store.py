"""The job store's contract, run against both backends: embedded SQLite and a real PostgreSQL server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service import clock
from service.jobs.stores import (
    Job,
    JobStatus,
    JobStore,
    NewJob,
    Progress,
    RunStart,
    SqliteJobStore,
    open_job_store,
)
from service.jobs.stores.base import Quota, Refusal, Reservation, Usage
from tests.support.pg import database_url


@pytest.fixture(params=["sqlite", "postgres"])
def opened(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, JobStore]]:
    kind = request.param
    url = database_url() if kind == "postgres" else None
    job_store = open_job_store(url, tmp_path)
    yield (url or str(tmp_path)), job_store
    job_store.close()


def _again(target: str) -> JobStore:
    """A second, independent connection to the same store (another process or replica)."""
    return (
        open_job_store(target, Path("unused"))
        if target.startswith("postgres")
        else SqliteJobStore(Path(target) / "jobs.sqlite3")
    )


def _age(monkeypatch: pytest.MonkeyPatch, stamp: str) -> None:
    """Make the stores write `stamp` as the time: a heartbeat from long ago."""
    monkeypatch.setattr(clock, "now", lambda: stamp)


def _status(jobs: JobStore, ident: str) -> str | None:
    job = jobs.get(ident)
    return job.status if job is not None else None


def test_rows_have_the_same_shape_and_progress_updates(opened: tuple[str, JobStore]) -> None:
    _, jobs = opened
    jobs.create(NewJob("a" * 32, "news.zip", '{"num_beams": null}'))
    row = jobs.get("a" * 32)
    assert isinstance(row, Job)
    assert row.status is JobStatus.QUEUED  # typed as it is read back, on either backend
    assert row.owner == ""  # made with keys off: no owner
    assert (row.status, row.filename, row.options, row.error, row.progress) == (
        "queued",
        "news.zip",
        '{"num_beams": null}',
        None,
        Progress(),
    )
    jobs.set_progress("a" * 32, Progress(total=10, done=3, ok=2, skipped=1, sentences=17))
    row = jobs.get("a" * 32)
    assert row is not None and row.progress == Progress(total=10, done=3, ok=2, failed=0, skipped=1, sentences=17)
    assert jobs.get("b" * 32) is None
    with pytest.raises(ValueError, match="paused"):
        jobs.set_status("a" * 32, "paused")  # type: ignore[arg-type]  # what a caller outside the types could send
    assert getattr(jobs.get("a" * 32), "status", None) is JobStatus.QUEUED


def test_a_status_comes_with_its_error_and_progress_with_every_counter(opened: tuple[str, JobStore]) -> None:
    _, jobs = opened
    jobs.create(NewJob("a" * 32, "news.zip", "{}"))
    counts = Progress(total=6, done=5, ok=1, failed=2, skipped=2, sentences=40)
    jobs.set_progress("a" * 32, counts)
    jobs.set_status("a" * 32, JobStatus.DONE, "output_quota: 2 document(s) were skipped")
    row = jobs.get("a" * 32)
    assert row is not None and (row.status, row.error, row.progress) == (
        JobStatus.DONE,
        "output_quota: 2 document(s) were skipped",
        counts,
    )
    jobs.set_progress("a" * 32, Progress())  # every counter is written, zeros too
    jobs.set_status("a" * 32, JobStatus.FAILED)  # a status says what holds now: no error left from before
    row = jobs.get("a" * 32)
    assert row is not None and (row.status, row.error, row.progress) == (JobStatus.FAILED, None, Progress())
    jobs.set_status("b" * 32, JobStatus.DONE)  # no such job: nothing written, nothing raised
    jobs.set_progress("b" * 32, counts)
    assert jobs.get("b" * 32) is None


def test_a_job_is_claimed_once_even_by_racing_connections(opened: tuple[str, JobStore]) -> None:
    target, jobs = opened
    jobs.create(NewJob("c" * 32, "x.zip", "{}"))
    others = [_again(target) for _ in range(4)]
    wins: list[bool] = []
    barrier = threading.Barrier(len(others))

    def race(other: JobStore) -> None:
        barrier.wait()
        wins.append(other.claim("c" * 32))

    threads = [threading.Thread(target=race, args=(other,)) for other in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for other in others:
        other.close()
    assert sorted(wins) == [False, False, False, True]
    assert _status(jobs, "c" * 32) == "running"
    assert not jobs.claim("c" * 32), "a running job cannot be claimed again"


def test_unfinished_requeues_every_running_job_when_alone(opened: tuple[str, JobStore]) -> None:
    _, jobs = opened
    for ident in ("1" * 32, "2" * 32, "3" * 32):
        jobs.create(NewJob(ident, "x.zip", "{}"))
    assert jobs.claim("2" * 32)
    jobs.set_status("3" * 32, JobStatus.DONE)
    assert jobs.unfinished() == ["1" * 32, "2" * 32]
    assert _status(jobs, "2" * 32) == "queued"


def test_shared_stores_take_over_only_jobs_whose_heartbeat_stopped(
    opened: tuple[str, JobStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, jobs = opened
    jobs.create(NewJob("d" * 32, "dead.zip", "{}"))
    jobs.create(NewJob("e" * 32, "alive.zip", "{}"))
    assert jobs.claim("d" * 32) and jobs.claim("e" * 32)
    with monkeypatch.context() as patched:
        _age(patched, "2000-01-01T00:00:00+00:00")
        jobs.touch("d" * 32)  # its owner's last beat, long ago
    jobs.touch("e" * 32)  # beating now
    assert jobs.unfinished(stale_after=60) == ["d" * 32]
    assert _status(jobs, "e" * 32) == "running"
    assert jobs.claim("d" * 32), "the abandoned job can be claimed by a live replica"


def test_open_job_store_picks_the_backend_from_the_url(tmp_path: Path) -> None:
    embedded = open_job_store(None, tmp_path)
    assert isinstance(embedded, SqliteJobStore) and (tmp_path / "jobs.sqlite3").is_file()
    embedded.close()
    url = database_url()
    shared = open_job_store(url.replace("postgresql://", "postgresql+psycopg://", 1), tmp_path / "other")
    assert type(shared).__name__ == "PostgresJobStore"
    shared.close()


def test_an_unreachable_database_is_a_clear_error_without_the_password() -> None:
    pytest.importorskip("psycopg")
    from service.jobs.stores.postgres import PostgresJobStore

    with pytest.raises(RuntimeError, match="cannot reach the jobs database") as caught:
        PostgresJobStore("postgresql://bitext:s3cret-pw@127.0.0.1:1/nothing", connect_timeout=2)
    assert "s3cret-pw" not in str(caught.value)


def test_a_store_from_before_owners_opens_and_its_jobs_have_no_owner(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "jobs.sqlite3"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE jobs (id TEXT PRIMARY KEY, status TEXT NOT NULL, filename TEXT NOT NULL, options TEXT NOT NULL,"
        " created TEXT NOT NULL, updated TEXT NOT NULL, error TEXT, total INTEGER NOT NULL DEFAULT 0,"
        " done INTEGER NOT NULL DEFAULT 0, ok INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,"
        " skipped INTEGER NOT NULL DEFAULT 0, sentences INTEGER NOT NULL DEFAULT 0)"
    )
    old.execute(
        "INSERT INTO jobs (id, status, filename, options, created, updated) VALUES ('d', 'done', 'x.zip', "
        "'{}', 't', 't')"
    )
    old.commit()
    old.close()
    store = SqliteJobStore(path)
    assert getattr(store.get("d"), "owner", None) == ""
    assert getattr(store.get("d"), "stored_bytes", None) == 0  # charged what its directory holds at the next upload
    store.create(NewJob("e" * 32, "y.zip", "{}", owner="f" * 64))
    assert getattr(store.get("e" * 32), "owner", None) == "f" * 64
    store.close()


def test_layouts_are_kept_with_the_job_and_an_older_row_has_none(opened: tuple[str, JobStore]) -> None:
    _, jobs = opened
    jobs.create(NewJob("a" * 32, "film.srt", "{}", layouts=("english", "side-by-side")))
    jobs.create(NewJob("b" * 32, "news.zip", "{}"))  # as a caller from before layouts creates it
    first, second = jobs.get("a" * 32), jobs.get("b" * 32)
    assert first is not None and first.layouts == ("english", "side-by-side")
    assert second is not None and second.layouts == ()
    with pytest.raises(ValueError, match="comma"):
        jobs.create(NewJob("c" * 32, "x.zip", "{}", layouts=("a,b",)))


def test_a_runs_start_is_kept_with_the_job_and_read_by_another_connection(opened: tuple[str, JobStore]) -> None:
    target, jobs = opened
    jobs.create(NewJob("a" * 32, "news.zip", "{}"))
    assert getattr(jobs.get("a" * 32), "run", "?") is None  # never ran
    jobs.start_run("a" * 32, RunStart("2026-12-05T10:00:00+00:00", 3, 40))
    jobs.set_progress("a" * 32, Progress(total=10, done=5, sentences=70))  # the run's progress leaves its start
    other = _again(target)
    try:
        row = other.get("a" * 32)
        assert row is not None and row.run == RunStart("2026-12-05T10:00:00+00:00", 3, 40)
        assert row.progress.done == 5
        jobs.start_run("a" * 32, RunStart("2026-12-05T11:00:00+00:00", 5, 70))  # run again (a resume)
        assert getattr(other.get("a" * 32), "run", None) == RunStart("2026-12-05T11:00:00+00:00", 5, 70)
    finally:
        other.close()


def test_a_store_from_before_layouts_gains_the_column(tmp_path: Path) -> None:
    import sqlite3

    SqliteJobStore(tmp_path / "jobs.sqlite3").close()
    old = sqlite3.connect(tmp_path / "jobs.sqlite3")
    for column in ("layouts", "run_started", "run_done", "run_sentences"):
        old.execute(f"ALTER TABLE jobs DROP COLUMN {column}")
    old.execute(
        "INSERT INTO jobs (id, status, filename, options, created, updated) VALUES ('d', 'done', 'x', '{}', 't', 't')"
    )
    old.commit()
    old.close()
    store = SqliteJobStore(tmp_path / "jobs.sqlite3")
    assert getattr(store.get("d"), "layouts", None) == ()
    assert getattr(store.get("d"), "run", "?") is None  # the run's start columns were added too
    store.start_run("d", RunStart("2026-12-05T10:00:00+00:00", 1, 2))
    assert getattr(store.get("d"), "run", None) == RunStart("2026-12-05T10:00:00+00:00", 1, 2)
    store.create(NewJob("e" * 32, "y.srt", "{}", layouts=("english",)))
    assert getattr(store.get("e" * 32), "layouts", None) == ("english",)
    store.close()


def test_a_postgres_table_from_before_layouts_gains_the_column() -> None:
    import psycopg

    url = database_url()
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(
            "CREATE TABLE bitext_jobs (id TEXT PRIMARY KEY, status TEXT NOT NULL, filename TEXT NOT NULL,"
            " options TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL, error TEXT,"
            " total INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0, ok INTEGER NOT NULL DEFAULT 0,"
            " failed INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0,"
            " sentences INTEGER NOT NULL DEFAULT 0, seq BIGSERIAL)"
        )
        db.execute(
            "INSERT INTO bitext_jobs (id, status, filename, options, created, updated)"
            " VALUES ('d', 'done', 'x', '{}', 't', 't')"
        )
    store = open_job_store(url, Path("unused"))
    try:
        old = store.get("d")
        assert old is not None and (old.owner, old.layouts, old.stored_bytes, old.run) == ("", (), 0, None)
        store.start_run("d", RunStart("2026-12-05T10:00:00+00:00", 1, 2))
        assert getattr(store.get("d"), "run", None) == RunStart("2026-12-05T10:00:00+00:00", 1, 2)
        store.create(NewJob("e" * 32, "y.srt", "{}", layouts=("side-by-side",)))
        assert getattr(store.get("e" * 32), "layouts", None) == ("side-by-side",)
    finally:
        store.close()


def test_owned_expired_and_delete_which_never_removes_a_running_job(
    opened: tuple[str, JobStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, jobs = opened
    _age(monkeypatch, "2000-01-01T00:00:00+00:00")
    for ident, owner, status in (
        ("a", "k1", "done"),
        ("b", "k1", "failed"),
        ("c", "k1", "running"),
        ("d", "k2", "queued"),
    ):
        jobs.create(NewJob(ident * 32, "x.zip", "{}", owner))
        jobs.set_status(ident * 32, JobStatus(status))
    monkeypatch.undo()
    assert sorted(job.id[0] for job in jobs.owned("k1")) == ["a", "b", "c"]
    assert [job.id[0] for job in jobs.owned("k2")] == ["d"] and jobs.owned("nobody") == []
    assert sorted(ident[0] for ident in jobs.expired(clock.now())) == ["a", "b"]  # finished ones only
    assert jobs.expired("1999-01-01T00:00:00+00:00") == []
    assert jobs.delete("c" * 32) is False and _status(jobs, "c" * 32) == "running"
    assert jobs.delete("a" * 32) is True and jobs.get("a" * 32) is None
    assert jobs.delete("a" * 32) is False
    assert jobs.delete("d" * 32) is True and jobs.claim("d" * 32) is False  # a deleted queued job never runs


def test_cancel_stops_a_queued_job_at_once_and_a_running_one_through_cancelling(
    opened: tuple[str, JobStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    target, jobs = opened
    for ident in "abcd":
        jobs.create(NewJob(ident * 32, "x.zip", "{}", "k"))
    assert jobs.claim("a" * 32) and jobs.claim("b" * 32)
    jobs.set_status("d" * 32, JobStatus.DONE)
    assert jobs.cancel("c" * 32) and _status(jobs, "c" * 32) == "cancelled"  # queued: at once
    assert jobs.claim("c" * 32) is False  # and never runs
    assert jobs.cancel("a" * 32) and _status(jobs, "a" * 32) == "cancelling"  # running: its worker stops it
    assert jobs.delete("a" * 32) is False  # the worker may still be writing its directory
    assert jobs.cancel("a" * 32) is False and jobs.cancel("d" * 32) is False
    replica = _again(target)
    assert _status(replica, "a" * 32) == "cancelling"  # seen by replicas, whose workers stop
    replica.close()
    # a stopping job whose worker died is cancelled, never resumed; a cut-off running one is requeued
    assert jobs.unfinished() == ["b" * 32]
    assert _status(jobs, "a" * 32) == "cancelled"
    assert sorted(ident[0] for ident in jobs.expired("9999")) == ["a", "c", "d"]  # finished: swept in time
    assert jobs.delete("a" * 32) is True


# ---- quotas are reservations ------------------------------------------------------------------------------------


def _reserve(jobs: JobStore, ident: str, quota: Quota, need: int, ask: int | None = None, owner: str = "k") -> Any:
    job = NewJob(ident, "x.zip", "{}", owner, ("english",))
    return jobs.reserve(job, quota=quota, need=need, ask=need if ask is None else ask)


@pytest.mark.parametrize(
    ("quota", "refused"),
    [(Quota(3, 10_000, 10_000, 60), "too_many_jobs"), (Quota(8, 1000, 10_000, 60), "over_quota")],
    ids=["jobs-in-flight", "bytes"],
)
def test_reservations_racing_from_replicas_never_pass_a_quota(
    opened: tuple[str, JobStore], quota: Quota, refused: str
) -> None:
    target, jobs = opened
    replicas = [_again(target) for _ in range(8)]  # eight connections, as eight replicas would have
    outcomes: list[Reservation | Refusal] = []
    barrier = threading.Barrier(len(replicas))

    def race(n: int, replica: JobStore) -> None:
        barrier.wait()
        outcomes.append(_reserve(replica, f"{n:032x}", quota, need=300))

    threads = [threading.Thread(target=race, args=(n, replica)) for n, replica in enumerate(replicas)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for replica in replicas:
        replica.close()
    granted = [outcome for outcome in outcomes if isinstance(outcome, Reservation)]
    assert len(granted) == 3 and {outcome.size for outcome in granted} == {300}  # 3 slots, or 900 of 1000 bytes
    assert [outcome.reason for outcome in outcomes if isinstance(outcome, Refusal)] == [refused] * 5
    held = jobs.owned("k")
    assert sorted(job.id for job in held) == sorted(outcome.ident for outcome in granted)
    assert {job.status for job in held} == {"uploading"} and sum(job.stored_bytes for job in held) == 900
    assert isinstance(_reserve(jobs, "f" * 32, quota, need=300, owner="other"), Reservation)  # per key


def test_a_reservation_grows_becomes_a_job_or_is_released(opened: tuple[str, JobStore]) -> None:
    _, jobs = opened
    quota = Quota(max_active=1, max_bytes=1000, max_upload=800, lease=60)
    first = _reserve(jobs, "a" * 32, quota, need=0, ask=500)
    assert first == Reservation("a" * 32, "k", 500)
    row = jobs.get("a" * 32)
    assert row is not None and (row.status, row.stored_bytes, row.layouts) == ("uploading", 500, ("english",))
    assert jobs.unfinished() == [] and not jobs.claim("a" * 32)  # an upload is never run
    busy = _reserve(jobs, "b" * 32, quota, need=0)
    assert isinstance(busy, Refusal) and (busy.reason, busy.limit, busy.usage) == ("too_many_jobs", 1, Usage(1, 500))
    assert jobs.grow(first, quota=quota, need=600, ask=1200) == Reservation("a" * 32, "k", 800)  # the upload limit
    past = jobs.grow(first, quota=quota, need=801, ask=801)
    assert isinstance(past, Refusal) and (past.reason, past.limit) == ("over_upload", 800)
    assert jobs.release("a" * 32) and jobs.get("a" * 32) is None and not jobs.release("a" * 32)
    gone = jobs.grow(first, quota=quota, need=900, ask=900)
    assert isinstance(gone, Refusal) and gone.reason == "lapsed"

    second = _reserve(jobs, "b" * 32, quota, need=100)
    assert second == Reservation("b" * 32, "k", 100)
    assert jobs.activate("b" * 32, 90) and not jobs.activate("b" * 32, 90)
    job = jobs.get("b" * 32)
    assert job is not None and (job.status, job.stored_bytes) == ("queued", 90) and jobs.unfinished() == ["b" * 32]
    assert not jobs.release("b" * 32) and jobs.get("b" * 32) is not None  # release never drops a job
    assert getattr(_reserve(jobs, "c" * 32, quota, need=0), "reason", None) == "too_many_jobs"  # queued: in flight
    jobs.set_status("b" * 32, JobStatus.DONE)
    jobs.charge("b" * 32, 50)  # what its directory holds now: never less than it holds
    jobs.charge("b" * 32, 950)
    assert getattr(jobs.get("b" * 32), "stored_bytes", None) == 950
    over = _reserve(jobs, "c" * 32, quota, need=100)
    assert isinstance(over, Refusal) and (over.reason, over.limit) == ("over_quota", 50)  # room before upload limit
    assert _reserve(jobs, "c" * 32, quota, need=0, ask=100) == Reservation("c" * 32, "k", 50)  # what room is left
    assert jobs.release("c" * 32)
    jobs.charge("b" * 32, 1000)
    full = _reserve(jobs, "c" * 32, quota, need=0)
    assert isinstance(full, Refusal) and (full.reason, full.usage) == ("quota_full", Usage(0, 1000))
    assert jobs.delete("b" * 32)
    assert _reserve(jobs, "c" * 32, quota, need=800) == Reservation("c" * 32, "k", 800)  # deleted: room again
    with pytest.raises(ValueError, match="only a reservation"):
        jobs.set_status("c" * 32, JobStatus.UPLOADING)


def test_a_reservation_without_a_heartbeat_lapses(
    opened: tuple[str, JobStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, jobs = opened
    quota = Quota(max_active=1, max_bytes=1000, max_upload=1000, lease=60)
    with monkeypatch.context() as patched:
        _age(patched, "2000-01-01T00:00:00+00:00")  # uploads whose processes died long ago
        dead = _reserve(jobs, "d" * 32, quota, need=600)
        _reserve(jobs, "e" * 32, quota, need=600, owner="other")
        _reserve(jobs, "f" * 32, quota, need=600, owner="third")
    jobs.touch("f" * 32)  # this one still beats
    assert isinstance(dead, Reservation)
    assert _reserve(jobs, "a" * 32, quota, need=600) == Reservation("a" * 32, "k", 600)  # the key's next upload
    assert jobs.get("d" * 32) is None and not jobs.activate("d" * 32, 600)
    assert jobs.lapsed(clock.seconds_ago(60)) == ["e" * 32]  # the sweep, for keys that never upload again
    assert _status(jobs, "f" * 32) == "uploading"
