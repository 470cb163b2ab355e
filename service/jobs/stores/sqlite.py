"""The job store of a single server: one SQLite table (stdlib sqlite3, WAL) under the data directory.

A reservation is one `BEGIN IMMEDIATE` transaction: SQLite's write lock serialises it against every
other writer of the file, this process's threads (also behind the store's lock) and any other process.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from service import clock
from service.db.sqlite import SqliteStore
from service.jobs.stores.base import (
    ADDED_COLUMNS,
    BUSY,
    FINISHED,
    IN_FLIGHT,
    Job,
    JobStatus,
    NewJob,
    Progress,
    Quota,
    Refusal,
    Reservation,
    RunStart,
    Usage,
    checked_status,
    grant,
    insert_sql,
    progress_sql,
    run_sql,
    sql_list,
    status_sql,
    table_ddl,
)

_IN_FLIGHT = sql_list(IN_FLIGHT)
_FINISHED = sql_list(FINISHED)
_BUSY = sql_list(BUSY)
# What one key holds, but one job (a growing upload leaves its own hold out; "" leaves none out).
_USAGE = (
    f"SELECT COUNT(*) FILTER (WHERE status IN ({_IN_FLIGHT})) AS active, COALESCE(SUM(stored_bytes), 0) AS stored"
    " FROM jobs WHERE owner = ? AND id != ?"
)


class SqliteJobStore(SqliteStore):
    """Thread-safe access to the jobs table."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._db.execute(table_ddl("jobs"))
        columns = {row["name"] for row in self._db.execute("PRAGMA table_info(jobs)")}
        for name, definition in ADDED_COLUMNS.items():  # a store from an older version: no owner, no layouts
            if name not in columns:
                self._db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {definition}")

    def create(self, job: NewJob) -> None:
        with self._lock:
            self._db.execute(insert_sql("jobs", "?"), job.row(JobStatus.QUEUED, clock.now()))

    def get(self, ident: str) -> Job | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (ident,)).fetchone()
        return Job.from_row(dict(row)) if row else None

    def set_status(self, ident: str, status: JobStatus, error: str | None = None) -> None:
        values = (checked_status(status), error, clock.now(), ident)
        with self._lock:
            self._db.execute(status_sql("jobs", "?"), values)

    def set_progress(self, ident: str, progress: Progress) -> None:
        with self._lock:
            self._db.execute(progress_sql("jobs", "?"), (*progress.values(), clock.now(), ident))

    def start_run(self, ident: str, start: RunStart) -> None:
        with self._lock:
            self._db.execute(run_sql("jobs", "?"), (*start.values(), ident))

    def claim(self, ident: str) -> bool:
        """queued → running, atomically; False when the job is not queued (another worker has it)."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE jobs SET status = 'running', updated = ? WHERE id = ? AND status = 'queued'",
                (clock.now(), ident),
            )
        return cursor.rowcount == 1

    def touch(self, ident: str) -> None:
        """The running job's heartbeat: its owner is alive."""
        with self._lock:
            self._db.execute("UPDATE jobs SET updated = ? WHERE id = ?", (clock.now(), ident))

    def unfinished(self, stale_after: float | None = None) -> list[str]:
        """Jobs to (re)start, oldest first; `running` ones were cut off and are requeued.

        `stale_after`: only running jobs without a heartbeat for that many seconds count as cut off
        (replicas sharing a store); None: every running job (one process owns the store).
        """
        with self._lock:
            # a job asked to stop whose worker died is stopped: `cancelled`, never run again
            cut_off = "" if stale_after is None else " AND updated < ?"
            since = () if stale_after is None else (clock.seconds_ago(stale_after),)
            self._db.execute(f"UPDATE jobs SET status = 'queued' WHERE status = 'running'{cut_off}", since)
            self._db.execute(f"UPDATE jobs SET status = 'cancelled' WHERE status = 'cancelling'{cut_off}", since)
            rows = self._db.execute("SELECT id FROM jobs WHERE status = 'queued' ORDER BY created, rowid").fetchall()
        return [row["id"] for row in rows]

    def owned(self, owner: str) -> list[Job]:
        """Every job of one key (its hash), oldest first (for the per-key quotas and the key's list)."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM jobs WHERE owner = ? ORDER BY created, rowid", (owner,)).fetchall()
        return [Job.from_row(dict(row)) for row in rows]

    def expired(self, finished_before: str) -> list[str]:
        """Done, failed or cancelled jobs whose last change is older than `finished_before` (a `clock` timestamp)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT id FROM jobs WHERE status IN ({_FINISHED}) AND updated < ?", (finished_before,)
            ).fetchall()
        return [row["id"] for row in rows]

    def delete(self, ident: str) -> bool:
        """The row gone, unless the job is running or stopping (then False: its worker owns it)."""
        with self._lock:
            cursor = self._db.execute(f"DELETE FROM jobs WHERE id = ? AND status NOT IN ({_BUSY})", (ident,))
        return cursor.rowcount == 1

    def cancel(self, ident: str) -> bool:
        """queued → cancelled, running → cancelling, atomically; False when the job was neither."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE jobs SET status = CASE status WHEN 'queued' THEN 'cancelled' ELSE 'cancelling' END,"
                " updated = ? WHERE id = ? AND status IN ('queued', 'running')",
                (clock.now(), ident),
            )
        return cursor.rowcount == 1

    @staticmethod
    def _usage(db: sqlite3.Connection, owner: str, but: str = "") -> Usage:
        row = db.execute(_USAGE, (owner, but)).fetchone()
        return Usage(active=int(row["active"]), stored=int(row["stored"]))

    def reserve(self, job: NewJob, *, quota: Quota, need: int, ask: int) -> Reservation | Refusal:
        """Check the key's quotas and insert the job as `uploading`, holding the bytes granted, in one transaction."""
        stamp, lapsed, owner = clock.now(), clock.seconds_ago(quota.lease), job.owner
        with self._writing() as db:
            db.execute("DELETE FROM jobs WHERE owner = ? AND status = 'uploading' AND updated < ?", (owner, lapsed))
            granted = grant(quota, self._usage(db, owner), need, ask, new=True)
            if isinstance(granted, Refusal):
                return granted
            db.execute(insert_sql("jobs", "?"), job.row(JobStatus.UPLOADING, stamp, granted))
        return Reservation(job.id, owner, granted)

    def grow(self, reservation: Reservation, *, quota: Quota, need: int, ask: int) -> Reservation | Refusal:
        """Hold more bytes for an upload still `uploading`, under the same rule (no new job slot taken)."""
        with self._writing() as db:
            held = db.execute(
                "SELECT 1 FROM jobs WHERE id = ? AND status = 'uploading'", (reservation.ident,)
            ).fetchone()
            usage = self._usage(db, reservation.owner, but=reservation.ident)
            if held is None:
                return Refusal("lapsed", quota.max_bytes, usage)
            granted = grant(quota, usage, need, ask, new=False)
            if isinstance(granted, Refusal):
                return granted
            db.execute(
                "UPDATE jobs SET stored_bytes = ?, updated = ? WHERE id = ?", (granted, clock.now(), reservation.ident)
            )
        return Reservation(reservation.ident, reservation.owner, granted)

    def activate(self, ident: str, size: int) -> bool:
        """uploading → queued, holding the upload's real size; False when the reservation is gone."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE jobs SET status = 'queued', stored_bytes = ?, updated = ?"
                " WHERE id = ? AND status = 'uploading'",
                (size, clock.now(), ident),
            )
        return cursor.rowcount == 1

    def release(self, ident: str) -> bool:
        """A failed upload's reservation dropped; never a job that was activated."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM jobs WHERE id = ? AND status = 'uploading'", (ident,))
        return cursor.rowcount == 1

    def charge(self, ident: str, size: int) -> None:
        """The job holds at least `size` bytes (what its directory holds now); an upload keeps its reservation."""
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET stored_bytes = MAX(stored_bytes, ?) WHERE id = ? AND status != 'uploading'",
                (size, ident),
            )

    def lapsed(self, before: str) -> list[str]:
        """Drop the reservations of uploads without a heartbeat since `before`; their ids."""
        with self._lock:
            rows = self._db.execute(
                "DELETE FROM jobs WHERE status = 'uploading' AND updated < ? RETURNING id", (before,)
            ).fetchall()
        return [row["id"] for row in rows]
