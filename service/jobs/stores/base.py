"""What every job store holds and offers: the typed `Job` row, its progress counters, the table, and quotas.

Status moves uploading → queued → running → done | failed; a job found `running` at start-up was cut off by
a crash or a restart and goes back to `queued`, and the runner's manifest makes the rerun a resume.
`cancel` stops a job: a queued one becomes `cancelled` at once, a running one `cancelling` until its worker
stops at its next document and writes `cancelled` (a `cancelling` job whose worker died is `cancelled` by the
next `unfinished`). A cancelled job keeps the documents it finished.
`claim` is the one way into `running`, so a job queued twice (or seen by two replicas) runs once.
`delete` never removes a running job (its worker is writing its directory); `expired` lists the
finished jobs the retention sweep removes, `owned` what one key holds, oldest first.

Quotas are reservations: `reserve` checks a key's jobs in flight and bytes held and, in the same
transaction (one lock per key, across processes), inserts the job's row as `uploading` holding the
bytes granted, so concurrent uploads (on any replica) see each other. The upload may `grow` its
hold under the same rule; `activate` turns it into a queued job holding its real size; `release`
drops it when the upload fails. An `uploading` row beats like a running job (`touch`); one without
a heartbeat for the quota's lease is dropped by the next reservation of its key, or by `lapsed`.
`stored_bytes` is what a job counts against its key: its reservation, then its size, raised by
`charge` to what its directory holds as its outputs grow. `grant` is the one rule both stores apply.

`start_run` records where the job's current run started (`RunStart`: when, and its counters then), so a
replica that does not run it measures the same pace as the one that does.

Columns added after the first version (`owner`, `layouts`, `stored_bytes`, the run's start) have defaults and are
added to an older table when a store opens it (`ADDED_COLUMNS`), so an old store keeps working and its rows read
as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, astuple, dataclass, fields
from enum import StrEnum
from typing import Any, Literal, Protocol


class JobStatus(StrEnum):
    """A job's life; the stores write these values (their SQL says them as literals)."""

    UPLOADING = "uploading"  # a reservation: its upload is still arriving
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLING = "cancelling"  # asked to stop while running: its worker stops at its next document
    CANCELLED = "cancelled"


STATUSES = tuple(JobStatus)
# what counts against a key's jobs in flight
IN_FLIGHT = (JobStatus.UPLOADING, JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.CANCELLING)
FINISHED = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)  # what the retention sweep may delete
BUSY = (JobStatus.RUNNING, JobStatus.CANCELLING)  # a worker may be writing the job's directory: never deleted


def sql_list(statuses: Sequence[JobStatus]) -> str:
    """Statuses as an SQL list of literals (enum values only, never user text)."""
    return ", ".join(f"'{status.value}'" for status in statuses)


@dataclass(frozen=True)
class Progress:
    """Documents seen so far (and sentences translated); each field is a column of the table."""

    total: int = 0
    done: int = 0
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    sentences: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def values(self) -> tuple[int, ...]:
        """The counters in `PROGRESS` order (the columns `progress_sql` sets)."""
        return astuple(self)


PROGRESS = tuple(field.name for field in fields(Progress))


@dataclass(frozen=True)
class RunStart:
    """Where a job's current run started: when (`clock.now()`), and its documents and sentences done then."""

    at: str
    done: int = 0
    sentences: int = 0

    def values(self) -> tuple[str, int, int]:
        """In the order of the columns `run_sql` sets."""
        return (self.at, self.done, self.sentences)


RUN_COLUMNS = ("run_started", "run_done", "run_sentences")


@dataclass(frozen=True)
class Job:
    """One row of the jobs table. `owner` is a hash of the API key that made it ("" with keys off).

    `layouts`: the layouts its documents in their own format are written in; () for a job from before
    layouts were asked for (the runner's default then).
    """

    id: str
    status: JobStatus
    filename: str
    options: str  # JSON of the generation options the job was submitted with
    created: str
    updated: str
    error: str | None
    progress: Progress
    owner: str = ""
    layouts: tuple[str, ...] = ()
    stored_bytes: int = 0
    run: RunStart | None = None  # its current (or last) run's start; None before it first ran

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Job:
        progress = Progress(**{key: int(row[key] or 0) for key in PROGRESS})
        return cls(
            id=row["id"],
            status=JobStatus(row["status"]),
            filename=row["filename"],
            options=row["options"],
            created=row["created"],
            updated=row["updated"],
            error=row["error"],
            progress=progress,
            owner=row.get("owner") or "",
            layouts=tuple(name for name in (row.get("layouts") or "").split(",") if name),
            stored_bytes=int(row.get("stored_bytes") or 0),
            run=RunStart(row["run_started"], int(row.get("run_done") or 0), int(row.get("run_sentences") or 0))
            if row.get("run_started")
            else None,
        )


def table_ddl(table: str, sequence: str = "") -> str:
    """The one definition of the jobs table; `sequence` adds a backend's insertion-order column."""
    counters = ", ".join(f"{key} INTEGER NOT NULL DEFAULT 0" for key in PROGRESS)
    return (
        f"CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, status TEXT NOT NULL, filename TEXT NOT NULL,"
        f" options TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL, error TEXT, {counters},"
        f" owner TEXT NOT NULL DEFAULT '', layouts TEXT NOT NULL DEFAULT '',"
        f" stored_bytes BIGINT NOT NULL DEFAULT 0, run_started TEXT, run_done INTEGER NOT NULL DEFAULT 0,"
        f" run_sentences INTEGER NOT NULL DEFAULT 0{', ' + sequence if sequence else ''})"
    )


COLUMNS = (
    "id",
    "status",
    "filename",
    "options",
    "created",
    "updated",
    "error",
    *PROGRESS,
    "owner",
    "layouts",
    "stored_bytes",
    *RUN_COLUMNS,
)
# Columns a table made by an older version lacks, with their definitions: each store adds the missing ones.
ADDED_COLUMNS = {
    "owner": "TEXT NOT NULL DEFAULT ''",
    "layouts": "TEXT NOT NULL DEFAULT ''",
    "stored_bytes": "BIGINT NOT NULL DEFAULT 0",
    "run_started": "TEXT",
    "run_done": "INTEGER NOT NULL DEFAULT 0",
    "run_sentences": "INTEGER NOT NULL DEFAULT 0",
}


@dataclass(frozen=True)
class NewJob:
    """A job as it is submitted: the row `create` (queued) or `reserve` (uploading) inserts.

    `options` is the JSON of the generation options; `layouts` the layouts its documents in their own
    format are written in (the column holds them joined by commas, so no name may hold one).
    """

    id: str
    filename: str
    options: str
    owner: str = ""
    layouts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if any("," in name for name in self.layouts):
            raise ValueError(f"a layout name holds a comma: {self.layouts!r}")

    def row(self, status: JobStatus, stamp: str, stored_bytes: int = 0) -> tuple[str | int, ...]:
        """The values of `insert_sql`'s columns for this job, made `status` at `stamp`."""
        layouts = ",".join(self.layouts)
        return (self.id, str(status), self.filename, self.options, stamp, stamp, self.owner, layouts, stored_bytes)


_INSERTED = ("id", "status", "filename", "options", "created", "updated", "owner", "layouts", "stored_bytes")


def insert_sql(table: str, placeholder: str) -> str:
    """The one INSERT of a new job's row (`NewJob.row`), in a backend's placeholder style."""
    return f"INSERT INTO {table} ({', '.join(_INSERTED)}) VALUES ({', '.join([placeholder] * len(_INSERTED))})"


# After creation only a job's status (with its error) and its progress counters change, each through one
# statement: `status_sql` (`JobStore.set_status`) and `progress_sql` (`JobStore.set_progress`).


def status_sql(table: str, placeholder: str) -> str:
    """The UPDATE of a job's status and error (`checked_status(status), error, stamp, ident`)."""
    status, error, updated, ident = [placeholder] * 4
    return f"UPDATE {table} SET status = {status}, error = {error}, updated = {updated} WHERE id = {ident}"


def progress_sql(table: str, placeholder: str) -> str:
    """The UPDATE of a job's progress counters (`*progress.values(), stamp, ident`)."""
    counters = ", ".join(f"{name} = {placeholder}" for name in PROGRESS)
    return f"UPDATE {table} SET {counters}, updated = {placeholder} WHERE id = {placeholder}"


def run_sql(table: str, placeholder: str) -> str:
    """The UPDATE of a job's run start (`*start.values(), ident`)."""
    columns = ", ".join(f"{name} = {placeholder}" for name in RUN_COLUMNS)
    return f"UPDATE {table} SET {columns} WHERE id = {placeholder}"


def checked_status(status: JobStatus) -> str:
    """A status a job may be set to: a `JobStatus` (a string naming one is read as it), never `uploading`."""
    status = JobStatus(status)  # a value from outside the enum is a ValueError here, not a row no one can read
    if status is JobStatus.UPLOADING:
        raise ValueError("only a reservation makes an uploading row")
    return str(status)


@dataclass(frozen=True)
class Quota:
    """One key's limits as a reservation checks them (from the settings)."""

    max_active: int  # jobs in flight: uploading, queued or running
    max_bytes: int  # bytes held: every job's `stored_bytes`
    max_upload: int  # one upload
    lease: float  # seconds an upload's reservation lives without a heartbeat


@dataclass(frozen=True)
class Usage:
    """What a key holds, read inside the reservation's transaction (a growing upload's own hold left out)."""

    active: int
    stored: int


@dataclass(frozen=True)
class Reservation:
    """A granted hold: the `uploading` row `ident` of key `owner`, holding `size` bytes for its upload."""

    ident: str
    owner: str
    size: int


@dataclass(frozen=True)
class Refusal:
    """Why no (more) room: too many jobs in flight, bytes full, the upload past the room or the upload
    limit, or (`lapsed`) the reservation is gone, its heartbeat stopped for longer than the lease."""

    reason: Literal["too_many_jobs", "quota_full", "over_quota", "over_upload", "lapsed"]
    limit: int
    usage: Usage


def grant(quota: Quota, usage: Usage, need: int, ask: int, *, new: bool) -> int | Refusal:
    """The bytes to hold for an upload that needs at least `need` and asks for `ask`, or why not.

    A new reservation also needs a free job slot and a key not already full. The room is the key's
    bytes left and at most one upload; a need past it is refused (as over the quota when the quota
    is the tighter bound, as the 413 of the upload limit did before quotas), else the ask is granted
    as far as the room goes.
    """
    if new and usage.active >= quota.max_active:
        return Refusal("too_many_jobs", quota.max_active, usage)
    if new and usage.stored >= quota.max_bytes:
        return Refusal("quota_full", quota.max_bytes, usage)
    room = quota.max_bytes - usage.stored
    limit = min(quota.max_upload, room)
    if need > limit:
        return Refusal("over_quota" if limit == room else "over_upload", limit, usage)
    return max(need, min(ask, limit))


class JobStore(Protocol):
    """What the job manager and the routes need from a job store (SQLite or PostgreSQL)."""

    def create(self, job: NewJob) -> None: ...

    def get(self, ident: str) -> Job | None: ...

    def set_status(self, ident: str, status: JobStatus, error: str | None = None) -> None:
        """The job's status and its error (None: none; a status says what holds now, so the error is replaced)."""
        ...

    def set_progress(self, ident: str, progress: Progress) -> None:
        """Every progress counter of the job at once."""
        ...

    def start_run(self, ident: str, start: RunStart) -> None:
        """The job's run starts now (`start`), from the counters its earlier runs left."""
        ...

    def claim(self, ident: str) -> bool: ...

    def touch(self, ident: str) -> None: ...

    def unfinished(self, stale_after: float | None = None) -> list[str]: ...

    def owned(self, owner: str) -> list[Job]: ...

    def expired(self, finished_before: str) -> list[str]: ...

    def delete(self, ident: str) -> bool: ...

    def cancel(self, ident: str) -> bool: ...

    def reserve(self, job: NewJob, *, quota: Quota, need: int, ask: int) -> Reservation | Refusal: ...

    def grow(self, reservation: Reservation, *, quota: Quota, need: int, ask: int) -> Reservation | Refusal: ...

    def activate(self, ident: str, size: int) -> bool: ...

    def release(self, ident: str) -> bool: ...

    def charge(self, ident: str, size: int) -> None: ...

    def lapsed(self, before: str) -> list[str]: ...

    def close(self) -> None: ...
