"""The job store for the API: one SQLite table (stdlib sqlite3, WAL) under the data directory.

Status moves queued → running → done | failed; a job found `running` at start-up was cut off by
a crash or a restart and goes back to `queued`, and the runner's manifest makes the rerun a resume.
`claim` is the one way into `running`, so a job queued twice (or seen by two replicas) runs once.
With `BITEXT_JOBS_DATABASE_URL` set, `open_job_store` returns the PostgreSQL store instead
(service/jobs/pgstore.py), which has the same methods and rows.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from service.jobs.outputs import create_file, private_dir

STATUSES = ("queued", "running", "done", "failed")
PROGRESS = ("total", "done", "ok", "failed", "skipped", "sentences")
_SCHEMA = """CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, status TEXT NOT NULL, filename TEXT NOT NULL, options TEXT NOT NULL,
    created TEXT NOT NULL, updated TEXT NOT NULL, error TEXT,
    total INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0, ok INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0, sentences INTEGER NOT NULL DEFAULT 0,
    owner TEXT NOT NULL DEFAULT '')"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def stale_before(seconds: float) -> str:
    """The `updated` value under which a running job's owner is taken for dead (same text format as `_now`)."""
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat(timespec="seconds")


def check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - {"status", "error", *PROGRESS}
    if unknown:
        raise ValueError(f"unknown job fields: {unknown}")
    if "status" in fields and fields["status"] not in STATUSES:
        raise ValueError(f"unknown status {fields['status']!r}")


class Store(Protocol):
    """What the job manager and the routes need from a job store (SQLite here, PostgreSQL in pgstore)."""

    def create(self, ident: str, filename: str, options: str, owner: str = "") -> None: ...

    def get(self, ident: str) -> dict[str, Any] | None: ...

    def update(self, ident: str, **fields: Any) -> None: ...

    def claim(self, ident: str) -> bool: ...

    def touch(self, ident: str) -> None: ...

    def unfinished(self, stale_after: float | None = None) -> list[str]: ...

    def close(self) -> None: ...


def open_job_store(database_url: str | None, data_dir: Path) -> Store:
    """PostgreSQL when a URL is configured (replicas share it), else SQLite under the data directory."""
    if database_url:
        from service.jobs.pgstore import PostgresJobStore

        return PostgresJobStore(database_url)
    return JobStore(data_dir / "jobs.sqlite3")


class JobStore:
    """Thread-safe access to the jobs table; rows come back as plain dicts."""

    def __init__(self, path: Path) -> None:
        private_dir(path.parent)
        os.close(create_file(path, os.O_WRONLY))  # 0o600; SQLite gives its -wal and -shm the same mode
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)
        columns = {row["name"] for row in self._db.execute("PRAGMA table_info(jobs)")}
        if "owner" not in columns:  # a store written before jobs had owners: those jobs belong to no key
            self._db.execute("ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT ''")
        self._lock = threading.Lock()

    def create(self, ident: str, filename: str, options: str, owner: str = "") -> None:
        now = _now()
        with self._lock:
            self._db.execute(
                "INSERT INTO jobs (id, status, filename, options, created, updated, owner) VALUES (?, 'queued', ?, ?, ?, ?, ?)",
                (ident, filename, options, now, now, owner),
            )

    def get(self, ident: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (ident,)).fetchone()
        return dict(row) if row else None

    def update(self, ident: str, **fields: Any) -> None:
        check_fields(fields)
        assignments = ", ".join(f"{key} = ?" for key in fields)
        with self._lock:
            self._db.execute(f"UPDATE jobs SET {assignments}, updated = ? WHERE id = ?", (*fields.values(), _now(), ident))

    def claim(self, ident: str) -> bool:
        """queued → running, atomically; False when the job is not queued (another worker has it)."""
        with self._lock:
            cursor = self._db.execute("UPDATE jobs SET status = 'running', updated = ? WHERE id = ? AND status = 'queued'", (_now(), ident))
        return cursor.rowcount == 1

    def touch(self, ident: str) -> None:
        """The running job's heartbeat: its owner is alive."""
        with self._lock:
            self._db.execute("UPDATE jobs SET updated = ? WHERE id = ?", (_now(), ident))

    def unfinished(self, stale_after: float | None = None) -> list[str]:
        """Jobs to (re)start, oldest first; `running` ones were cut off and are requeued.

        `stale_after`: only running jobs without a heartbeat for that many seconds count as cut off
        (replicas sharing a store); None: every running job (one process owns the store).
        """
        with self._lock:
            if stale_after is None:
                self._db.execute("UPDATE jobs SET status = 'queued' WHERE status = 'running'")
            else:
                self._db.execute("UPDATE jobs SET status = 'queued' WHERE status = 'running' AND updated < ?", (stale_before(stale_after),))
            rows = self._db.execute("SELECT id FROM jobs WHERE status = 'queued' ORDER BY created, rowid").fetchall()
        return [row["id"] for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
