"""The server side of batch jobs: uploads on disk, one worker thread running jobs in turn, resume at start-up.

Job work goes through the scheduler's batch lane (`Scheduler.lane("batch")`), so interactive
`/v1/translate` requests keep priority when both share the engine.

With a shared job store (`BITEXT_JOBS_DATABASE_URL`, several replicas over one shared data
directory) a replica also polls the store for queued jobs, claims one atomically, beats a heartbeat
while it runs it, and takes over a running job whose owner stopped beating for the lease time.
"""

from __future__ import annotations

import hmac
import json
import logging
import queue
import re
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.engine import GenerationOptions
from service.jobs import outputs
from service.jobs.readers import ArchiveError
from service.jobs.runner import BatchBusy, BatchRun
from service.jobs.stores import PROGRESS, Job, JobStore, open_job_store

if TYPE_CHECKING:
    from service.scheduler import Scheduler
    from service.settings import Settings

log = logging.getLogger("bitext.jobs")

JOB_ID = re.compile(r"[0-9a-f]{32}")
RESULTS = "results.zip"


class _StoreObserver:
    """Progress into the job row, so `GET /v1/jobs/{id}` reads it from any process."""

    def __init__(self, store: JobStore, ident: str) -> None:
        self.store, self.ident = store, ident
        self.counts = dict.fromkeys(PROGRESS[1:], 0)  # all but `total`, which `started` sets

    def started(self, total: int, already_done: int) -> None:
        previous = self.store.get(self.ident)
        counted = previous.progress.as_dict() if previous is not None else {}
        self.counts = {key: counted.get(key, 0) for key in self.counts} | {"done": already_done}
        self.store.update(self.ident, total=total, done=already_done)

    def finished(self, record: dict[str, Any]) -> None:
        self.counts["done"] += 1
        self.counts[record["status"]] += 1
        self.counts["sentences"] += int(record.get("sentences", 0))
        self.store.update(self.ident, **self.counts)


class JobManager:
    """Owns the data directory and the worker; `start()` in the app's lifespan, `stop()` at its end."""

    def __init__(self, settings: Settings, scheduler: Scheduler) -> None:
        self.settings, self.scheduler = settings, scheduler
        self.root = Path(settings.data_dir) / "jobs"
        self._store: JobStore | None = None
        self.shared = bool(settings.jobs_database_url)  # replicas share the store: poll it, lease running jobs
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="bitext-jobs", daemon=True)

    @property
    def store(self) -> JobStore:
        """Opened on first use: an app that never sees a job never creates the data directory."""
        if self._store is None:
            self._store = open_job_store(self.settings.jobs_database_url, Path(self.settings.data_dir))
        return self._store

    @property
    def _stale_after(self) -> float | None:
        """Alone, every `running` job at start-up was ours and was cut off; shared, only those past the lease."""
        return self.settings.jobs_lease_seconds if self.shared else None

    def start(self) -> None:
        if self.shared or (Path(self.settings.data_dir) / "jobs.sqlite3").exists():
            for ident in self.store.unfinished(self._stale_after):
                log.info("resuming job %s", ident)
                self._queue.put(ident)
        self._thread.start()

    def stop(self, timeout: float = 60) -> None:
        """Ask the worker to stop after its current group; the job stays queued and resumes next start."""
        self._stop.set()
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._store is not None:
            self._store.close()
            self._store = None

    def job_dir(self, ident: str) -> Path:
        if not JOB_ID.fullmatch(ident):
            raise KeyError(ident)
        return self.root / ident

    def new_upload(self, filename: str) -> tuple[str, Path]:
        """A fresh job id and the path its archive is streamed to (not yet a job)."""
        ident = uuid.uuid4().hex
        directory = outputs.private_dir(self.job_dir(ident) / "upload")
        return ident, directory / filename

    def submit(self, ident: str, filename: str, options: GenerationOptions, owner: str = "") -> Job:
        self.store.create(ident, filename, json.dumps({"num_beams": options.num_beams}), owner)
        self._queue.put(ident)
        job = self.get(ident)
        assert job is not None  # just created
        return job

    def get(self, ident: str, owner: str | None = None) -> Job | None:
        """The job, or None; with `owner`, None too when another key made it (callers answer 404 alike)."""
        job = self.store.get(ident) if JOB_ID.fullmatch(ident) else None
        if job is not None and owner is not None and not hmac.compare_digest(job.owner, owner):
            return None
        return job

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                ident = self._queue.get(timeout=self.settings.jobs_poll_seconds) if self.shared else self._queue.get()
            except queue.Empty:  # idle replica: take queued (or abandoned) jobs from the shared store
                for found in self._poll():
                    self._queue.put(found)
                continue
            if ident is None or self._stop.is_set():
                return
            try:
                self._run(ident)
            except Exception as error:  # noqa: BLE001 - a job's failure must not kill the worker
                log.exception("job %s failed", ident)
                self.store.update(ident, status="failed", error=f"{type(error).__name__}: {error}"[:500])

    def _poll(self) -> list[str]:
        try:
            return self.store.unfinished(self._stale_after)
        except Exception:  # noqa: BLE001 - a database hiccup must not kill the worker; the next poll retries
            log.exception("polling the job store failed")
            return []

    def _run(self, ident: str) -> None:
        if not self.store.claim(ident):  # not queued any more: done, failed, or another replica has it
            return
        beating = threading.Event()
        heart = threading.Thread(
            target=self._heartbeat, args=(ident, beating), name="bitext-jobs-heartbeat", daemon=True
        )
        heart.start()
        try:
            self._run_claimed(ident)
        finally:
            beating.set()
            heart.join()

    def _heartbeat(self, ident: str, stop: threading.Event) -> None:
        """Keep the claim alive during long groups (progress updates beat too, once per document)."""
        while not stop.wait(self.settings.jobs_lease_seconds / 4):
            try:
                self.store.touch(ident)
            except Exception:  # noqa: BLE001 - a missed beat is retried; the lease allows several
                log.warning("job %s: heartbeat failed", ident)

    def _run_claimed(self, ident: str) -> None:
        job = self.store.get(ident)
        if job is None:
            return
        directory = self.job_dir(ident)
        options = GenerationOptions(**json.loads(job.options))
        run = BatchRun(
            directory / "upload" / job.filename,
            directory / "out",
            self.scheduler.lane("batch"),
            options,
            caps=self.settings.archive_limits(),
            group_sentences=self.settings.batch_group_sentences,
            max_sentences=self.settings.max_sentences,
            observer=_StoreObserver(self.store, ident),
            should_stop=self._stop.is_set,
        )
        try:
            summary = run.run()
        except BatchBusy:  # a replica whose lease lapsed is still writing this job: leave it to that one
            log.warning("job %s: its output directory is in use by another process", ident)
            return
        except ArchiveError as error:
            self.store.update(ident, status="failed", error=str(error))
            return
        if summary.interrupted:
            self.store.update(ident, status="queued")
            return
        outputs.write_results_zip(directory / "out", directory / RESULTS)
        self.store.update(ident, status="done")
