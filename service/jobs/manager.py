"""The server side of batch jobs: uploads on disk, one worker thread running jobs in turn, resume at start-up.

Job work goes through the scheduler's batch lane (`Scheduler.lane("batch")`), so interactive
`/v1/translate` requests keep priority when both share the engine.

With a shared job store (`BITEXT_JOBS_DATABASE_URL`, several replicas over one shared data
directory) a replica also polls the store for queued jobs, claims one atomically, beats a heartbeat
while it runs it, and takes over a running job whose owner stopped beating for the lease time.

Per-key quotas (jobs in flight, bytes stored) are reservations in the store: an upload first
`reserve`s (a job slot and bytes, checked and taken in one store transaction, so concurrent uploads
on any replica count each other), may `grow` its bytes as its body streams, and becomes a queued
job by `submit`; a failed upload is `release`d. A job holds its slot until it is done, failed or
deleted, and its bytes until it is deleted; a reservation whose upload died with its process lapses
after `jobs_lease_seconds` without a heartbeat.

Nothing is kept for ever: an upload is streamed to a hidden temp file in the data directory and
becomes a job directory only once it is complete (`incoming`, then `submit`), so a failed upload
leaves nothing behind; finished jobs are deleted (directory, then row) `jobs_retention_hours`
after they finished, by a sweep at start-up and every `SWEEP_SECONDS` in the worker, which also
drops lapsed reservations; an owner may delete a job that is not running.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import queue
import re
import shutil
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from models.engine import GenerationOptions
from models.memory import MemoryUse
from service import clock, formats
from service.jobs import outputs
from service.jobs.names import safe_text
from service.jobs.outdir import BatchBusy
from service.jobs.pace import PaceBoard, PaceMeter
from service.jobs.readers import ArchiveError
from service.jobs.reasons import Reason
from service.jobs.records import DocumentStatus, Record
from service.jobs.retro import Applied, apply_with_cache
from service.jobs.runner import BatchRun, RunSpec
from service.jobs.stores import Job, JobStatus, JobStore, NewJob, Progress, RunStart, open_job_store
from service.jobs.stores.base import Quota, Refusal, Reservation
from service.waiting import Cancelled, CancelToken

if TYPE_CHECKING:
    from service.memory import Memories
    from service.scheduler import Scheduler
    from service.settings import Settings

log = logging.getLogger("bitext.jobs")

JOB_ID = re.compile(r"[0-9a-f]{32}")
RESULTS = "results.zip"
INCOMING_PREFIX = ".upload-"
# A chunked upload (no Content-Length) holds at least this much ahead of its bytes, and twice what it has sent.
RESERVE_STEP = 1 << 20
# A job directory without a row, or an upload temp file, this old was left by a crash (or by a version
# that made the directory before the upload was complete); younger ones may be another replica's, mid-upload.
ABANDONED_SECONDS = 3600.0


def tree_bytes(path: Path) -> int:
    """Bytes of the files under `path` (0 when it is gone)."""
    total = 0
    for directory, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(directory, name)).st_size
            except FileNotFoundError:  # removed while we counted
                pass
    return total


def job_layouts(job: Job) -> tuple[str, ...]:
    """The layouts a job writes; a job stored before layouts were asked for gets the default."""
    return job.layouts or (formats.DEFAULT_LAYOUT,)


SUBTITLE_STYLE = "subtitle_style"  # kept in the job's stored options, beside the generation options


def job_style(job: Job) -> formats.CueStyle:
    """How the job sets a subtitle's English apart; a job stored before it could be asked for gets the default."""
    stored = json.loads(job.options or "{}").get(SUBTITLE_STYLE)
    return formats.CueStyle.parse(stored) if isinstance(stored, str) else formats.DEFAULT_CUE_STYLE


def job_options(job: Job) -> GenerationOptions:
    """The generation options the job was submitted with (its stored options less the subtitle style)."""
    return GenerationOptions(**{k: v for k, v in json.loads(job.options).items() if k != SUBTITLE_STYLE})


class _StoreObserver:
    """Progress into the job row, so `GET /v1/jobs/{id}` reads it from any process."""

    def __init__(self, store: JobStore, ident: str, meter: PaceMeter) -> None:
        self.store, self.ident, self.meter = store, ident, meter
        self.progress = Progress()

    def started(self, total: int, already_done: int) -> None:
        """The run's totals; what earlier runs of the job counted (ok, failed, skipped, sentences) is kept."""
        previous = self.store.get(self.ident)
        counted = previous.progress if previous is not None else Progress()
        self.progress = replace(counted, total=total, done=already_done)
        self.store.set_progress(self.ident, self.progress)
        # the run's pace starts here, from what earlier runs did: a page reloaded later keeps it, and
        # another replica reads the same start from the store
        start = RunStart(clock.now(), already_done, counted.sentences)
        self.meter.observe(time.monotonic(), start.done, start.sentences, total)
        self.store.start_run(self.ident, start)

    def finished(self, record: Record) -> None:
        now, status = self.progress, record.status
        self.progress = replace(
            now,
            done=now.done + 1,
            ok=now.ok + (status is DocumentStatus.OK),
            failed=now.failed + (status is DocumentStatus.FAILED),
            skipped=now.skipped + (status is DocumentStatus.SKIPPED),
            sentences=now.sentences + record.sentences,
        )
        self.store.set_progress(self.ident, self.progress)


class JobManager:
    """Owns the data directory and the worker; `start()` in the app's lifespan, `stop()` at its end."""

    SWEEP_SECONDS = 600.0  # how often the worker deletes expired jobs (and once at start-up)

    def __init__(self, settings: Settings, scheduler: Scheduler, memories: Memories | None = None) -> None:
        self.settings, self.scheduler = settings, scheduler
        self.memories = memories  # a job translates with its owner's memory (exact and context matches answer)
        self.root = Path(settings.data_dir) / "jobs"
        self._store: JobStore | None = None
        self._opening = threading.Lock()
        self.shared = bool(settings.jobs_database_url)  # replicas share the store: poll it, lease running jobs
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="bitext-jobs", daemon=True)
        # the jobs this process runs, each with the token its cancel sets: the run checks it between documents,
        # and it withdraws the run's sentences from the scheduler at once (the call in flight stops at its next step)
        self._stopping: dict[str, CancelToken] = {}
        self.paces = PaceBoard()  # the pace of each job watched or run here, shared by its event streams
        self._stopping_lock = threading.Lock()

    @property
    def store(self) -> JobStore:
        """Opened on first use (an app that never sees a job never creates the data directory), once: requests
        arriving together (eight uploads at once) share one store instead of racing to create its file."""
        if self._store is None:
            with self._opening:
                if self._store is None:
                    self._store = open_job_store(self.settings.jobs_database_url, Path(self.settings.data_dir))
        return self._store

    @property
    def _stale_after(self) -> float | None:
        """Alone, every `running` job at start-up was ours and was cut off; shared, only those past the lease."""
        return self.settings.jobs_lease_seconds if self.shared else None

    def _has_store(self) -> bool:
        """A store to read: never create the data directory just to find it empty."""
        return self._store is not None or self.shared or (Path(self.settings.data_dir) / "jobs.sqlite3").exists()

    def start(self) -> None:
        if self._has_store():
            self._sweep_logged()
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

    @property
    def quota(self) -> Quota:
        settings = self.settings
        return Quota(
            max_active=settings.jobs_max_active_per_key,
            max_bytes=settings.jobs_max_bytes_per_key,
            max_upload=settings.jobs_max_upload_bytes,
            lease=settings.jobs_lease_seconds,
        )

    def reserve(
        self,
        owner: str,
        filename: str,
        options: GenerationOptions,
        layouts: Sequence[str] = (formats.DEFAULT_LAYOUT,),
        declared: int | None = None,
        style: formats.CueStyle = formats.DEFAULT_CUE_STYLE,
    ) -> Reservation | Refusal:
        """A job slot and bytes for an upload of `declared` bytes (None: chunked, held ahead as it grows), or why not.

        Each of the key's jobs is charged first what its directory holds now (outputs grow as it runs);
        the check and the hold are then one store transaction.
        """
        for job in self.store.owned(owner):
            if job.status != JobStatus.UPLOADING and JOB_ID.fullmatch(job.id):
                held = tree_bytes(self.job_dir(job.id))
                if held > job.stored_bytes:
                    self.store.charge(job.id, held)
        need, ask = (declared, declared) if declared is not None else (0, RESERVE_STEP)
        settings = json.dumps({"num_beams": options.num_beams, SUBTITLE_STYLE: str(style)})
        new = NewJob(uuid.uuid4().hex, filename, settings, owner, tuple(layouts))
        return self.store.reserve(new, quota=self.quota, need=need, ask=ask)

    def grow(self, reservation: Reservation, size: int) -> Reservation | Refusal:
        """Room for an upload that has reached `size` bytes, and as much again (at least `RESERVE_STEP`)."""
        return self.store.grow(reservation, quota=self.quota, need=size, ask=max(2 * size, RESERVE_STEP))

    def incoming(self, reservation: Reservation) -> Path:
        """Where an upload is streamed before it is a job: a hidden 0o600 temp file in the data directory."""
        return outputs.private_dir(Path(self.settings.data_dir)) / f"{INCOMING_PREFIX}{reservation.ident}"

    def submit(self, reservation: Reservation, upload: Path, filename: str, size: int) -> bool:
        """A complete upload moved into its job directory and the job queued, holding `size` bytes.

        False when the reservation lapsed meanwhile (then `release` cleans up, as for a failed upload).
        """
        directory = outputs.private_dir(self.job_dir(reservation.ident) / "upload")
        os.replace(upload, directory / filename)
        if not self.store.activate(reservation.ident, size):
            return False
        self._queue.put(reservation.ident)
        return True

    def release(self, reservation: Reservation) -> None:
        """A failed upload: its reservation dropped, and whatever it left on disk (never a submitted job's)."""
        if self.store.release(reservation.ident) or self.store.get(reservation.ident) is None:
            shutil.rmtree(self.job_dir(reservation.ident), ignore_errors=True)
            (Path(self.settings.data_dir) / f"{INCOMING_PREFIX}{reservation.ident}").unlink(missing_ok=True)

    def beat(self, reservation: Reservation) -> None:
        """An upload's heartbeat: its reservation stays while its request does."""
        try:
            self.store.touch(reservation.ident)
        except Exception:  # noqa: BLE001 - a missed beat is retried; the lease allows several
            log.warning("upload %s: heartbeat failed", reservation.ident)

    def delete(self, ident: str) -> bool:
        """The job's row, then its directory; False (nothing deleted) while it is running."""
        if not self.store.delete(ident):
            return False
        shutil.rmtree(self.job_dir(ident), ignore_errors=True)
        self.paces.forget(ident)
        return True

    def cancel(self, ident: str) -> bool:
        """Stop a queued or running job; False when it was neither (done, failed, already cancelled).

        A queued job is `cancelled` at once. A running one is `cancelling`: its worker (here, told at once; on
        another replica, at its next heartbeat) withdraws the sentences it has on the scheduler, the call in
        flight stopping at its next step, and writes `cancelled`; the documents it finished stay.
        """
        if not self.store.cancel(ident):
            return False
        with self._stopping_lock:
            asked = self._stopping.get(ident)
        if asked is not None:
            asked.cancel()
        return True

    def listed(self, owner: str) -> list[Job]:
        """The key's jobs, newest first; uploads still arriving are not jobs yet."""
        return [job for job in reversed(self.store.owned(owner)) if job.status != JobStatus.UPLOADING]

    def sweep(self) -> int:
        """Delete jobs finished more than the retention ago, and what crashes left behind; how many jobs."""
        cutoff = clock.seconds_ago(self.settings.jobs_retention_hours * 3600)
        removed = 0
        for ident in self.store.expired(cutoff):
            # The directory first: a crash in between leaves a row that the next sweep finds again.
            shutil.rmtree(self.job_dir(ident), ignore_errors=True)
            removed += self.store.delete(ident)
            self.paces.forget(ident)
        data = Path(self.settings.data_dir)
        for ident in self.store.lapsed(clock.seconds_ago(self.settings.jobs_lease_seconds)):
            if JOB_ID.fullmatch(ident):  # an upload whose process died: what it left, at once
                shutil.rmtree(self.job_dir(ident), ignore_errors=True)
                (data / f"{INCOMING_PREFIX}{ident}").unlink(missing_ok=True)
        abandoned = time.time() - ABANDONED_SECONDS
        for path in data.glob(f"{INCOMING_PREFIX}*") if data.is_dir() else ():
            if path.stat().st_mtime < abandoned:
                path.unlink(missing_ok=True)
        for path in self.root.iterdir() if self.root.is_dir() else ():
            if JOB_ID.fullmatch(path.name) and path.stat().st_mtime < abandoned and self.store.get(path.name) is None:
                shutil.rmtree(path, ignore_errors=True)
        return removed

    def _sweep_logged(self) -> None:
        try:
            removed = self.sweep()
        except Exception:  # noqa: BLE001 - a failed sweep is retried at the next one; jobs keep running
            log.exception("deleting expired jobs failed")
            return
        if removed:
            log.info("deleted %d job(s) past the retention of %g h", removed, self.settings.jobs_retention_hours)

    def get(self, ident: str, owner: str | None = None) -> Job | None:
        """The job, or None; with `owner`, None too when another key made it (callers answer 404 alike)."""
        job = self.store.get(ident) if JOB_ID.fullmatch(ident) else None
        if job is not None and owner is not None and not hmac.compare_digest(job.owner, owner):
            return None
        return job

    def _work(self) -> None:
        due = time.monotonic() + self.SWEEP_SECONDS
        while not self._stop.is_set():
            if time.monotonic() >= due:
                if self._has_store():
                    self._sweep_logged()
                due = time.monotonic() + self.SWEEP_SECONDS
            until_sweep = max(0.01, due - time.monotonic())
            try:
                ident = self._queue.get(
                    timeout=min(self.settings.jobs_poll_seconds, until_sweep) if self.shared else until_sweep
                )
            except queue.Empty:  # idle replica: take queued (or abandoned) jobs from the shared store
                if self.shared:
                    for found in self._poll():
                        self._queue.put(found)
                continue
            if ident is None or self._stop.is_set():
                return
            try:
                self._run(ident)
            except Exception as error:  # noqa: BLE001 - a job's failure must not kill the worker
                log.exception("job %s failed", ident)
                # A message quoting odd input could not be stored, and the worker thread would end with it.
                self.store.set_status(ident, JobStatus.FAILED, safe_text(f"{type(error).__name__}: {error}"[:500]))

    def _poll(self) -> list[str]:
        try:
            return self.store.unfinished(self._stale_after)
        except Exception:  # noqa: BLE001 - a database hiccup must not kill the worker; the next poll retries
            log.exception("polling the job store failed")
            return []

    def apply_memory(self, job: Job, memory: MemoryUse) -> Applied:
        """Rewrite a finished job's documents the memory now changes (`service.jobs.retro`), through the job's
        own disk cache; its results zip too. Raises `BatchBusy` while another run holds its output."""
        directory = self.job_dir(job.id)
        config = self.settings.batch_config(job_layouts(job), None, job_style(job))
        target = RunSpec(directory / "upload" / job.filename, directory / "out", job_options(job), config)
        return apply_with_cache(target, self.scheduler.lane("batch"), memory, results=directory / RESULTS)

    def _run(self, ident: str) -> None:
        if not self.store.claim(ident):  # not queued any more: done, failed, or another replica has it
            return
        beating = threading.Event()
        cancelled = CancelToken()
        with self._stopping_lock:
            self._stopping[ident] = cancelled
        heart = threading.Thread(
            target=self._heartbeat, args=(ident, beating, cancelled), name="bitext-jobs-heartbeat", daemon=True
        )
        heart.start()
        try:
            self._run_claimed(ident, cancelled)
        finally:
            beating.set()
            heart.join()
            with self._stopping_lock:
                self._stopping.pop(ident, None)
            self.paces.forget(ident)

    def _status(self, ident: str) -> str | None:
        job = self.store.get(ident)
        return job.status if job is not None else None

    def _heartbeat(self, ident: str, stop: threading.Event, cancelled: CancelToken) -> None:
        """Keep the claim alive during long groups (progress updates beat too, once per document).

        Each beat also reads the job's status: a cancel answered by another replica reaches this worker here.
        """
        while not stop.wait(self.settings.jobs_lease_seconds / 4):
            try:
                self.store.touch(ident)
                job = self.store.get(ident)
                if job is not None and job.status == JobStatus.CANCELLING:
                    cancelled.cancel()
            except Exception:  # noqa: BLE001 - a missed beat is retried; the lease allows several
                log.warning("job %s: heartbeat failed", ident)

    def _run_claimed(self, ident: str, cancelled: CancelToken) -> None:
        job = self.store.get(ident)
        if job is None:
            return
        directory = self.job_dir(ident)
        options = job_options(job)
        spec = RunSpec(
            directory / "upload" / job.filename,
            directory / "out",
            options,
            self.settings.batch_config(job_layouts(job), self.settings.jobs_max_output_bytes, job_style(job)),
            _StoreObserver(self.store, ident, self.paces.restart(ident)),
            should_stop=lambda: self._stop.is_set() or cancelled.cancelled,
        )
        memory = self.memories.use(job.owner) if self.memories is not None else MemoryUse()
        run = BatchRun(spec, self.scheduler.lane("batch", cancel=cancelled), memory=memory)
        try:
            summary = run.run()
        except Cancelled:  # its group in flight withdrawn: the documents done before it stay
            summary = run.summary
        except BatchBusy:  # a replica whose lease lapsed is still writing this job: leave it to that one
            log.warning("job %s: its output directory is in use by another process", ident)
            return
        except ArchiveError as error:
            self.store.set_status(ident, JobStatus.FAILED, safe_text(str(error)))
            return
        if summary.interrupted:
            # cancelled: stopped for good, keeping what it finished; shut down: queued, to resume at the next start
            stopped = cancelled.cancelled or self._status(ident) == JobStatus.CANCELLING
            if stopped:
                log.info("job %s cancelled after %d document(s)", ident, summary.documents)
            self.store.set_status(ident, JobStatus.CANCELLED if stopped else JobStatus.QUEUED)
            return
        outputs.write_results_zip(directory / "out", directory / RESULTS)
        records = outputs.latest_records(directory / "out" / outputs.MANIFEST).values()
        over = sum(1 for record in records if record.get("reason") == Reason.OUTPUT_QUOTA)
        if over:  # done, with what was written; the job says why the rest is missing
            limit = self.settings.jobs_max_output_bytes
            note = f"output_quota: the job's outputs reached {limit} bytes; {over} document(s) were skipped"
            self.store.set_status(ident, JobStatus.DONE, note)
        else:
            self.store.set_status(ident, JobStatus.DONE)
