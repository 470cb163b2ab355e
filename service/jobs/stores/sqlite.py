"""The job store of a single server: one SQLite table (stdlib sqlite3, WAL) under the data directory."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from service import clock
from service.jobs.outputs import create_file, private_dir
from service.jobs.stores.base import ADDED_COLUMNS, Job, check_fields, layouts_text, table_ddl


class SqliteJobStore:
    """Thread-safe access to the jobs table."""

    def __init__(self, path: Path) -> None:
        private_dir(path.parent)
        os.close(create_file(path, os.O_WRONLY))  # 0o600; SQLite gives its -wal and -shm the same mode
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(table_ddl("jobs"))
        columns = {row["name"] for row in self._db.execute("PRAGMA table_info(jobs)")}
        for name, definition in ADDED_COLUMNS.items():  # a store from an older version: no owner, no layouts
            if name not in columns:
                self._db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {definition}")
        self._lock = threading.Lock()

    def create(self, ident: str, filename: str, options: str, owner: str = "", layouts: Sequence[str] = ()) -> None:
        stamp = clock.now()
        with self._lock:
            self._db.execute(
                "INSERT INTO jobs (id, status, filename, options, created, updated, owner, layouts) VALUES (?, "
                "'queued', ?, ?, ?, ?, ?, ?)",
                (ident, filename, options, stamp, stamp, owner, layouts_text(layouts)),
            )

    def get(self, ident: str) -> Job | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (ident,)).fetchone()
        return Job.from_row(dict(row)) if row else None

    def update(self, ident: str, **changes: Any) -> None:
        check_fields(changes)
        assignments = ", ".join(f"{key} = ?" for key in changes)
        with self._lock:
            self._db.execute(
                f"UPDATE jobs SET {assignments}, updated = ? WHERE id = ?", (*changes.values(), clock.now(), ident)
            )

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
            if stale_after is None:
                self._db.execute("UPDATE jobs SET status = 'queued' WHERE status = 'running'")
            else:
                self._db.execute(
                    "UPDATE jobs SET status = 'queued' WHERE status = 'running' AND updated < ?",
                    (clock.seconds_ago(stale_after),),
                )
            rows = self._db.execute("SELECT id FROM jobs WHERE status = 'queued' ORDER BY created, rowid").fetchall()
        return [row["id"] for row in rows]

    def owned(self, owner: str) -> list[Job]:
        """Every job of one key (its hash), for the per-key quotas."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM jobs WHERE owner = ?", (owner,)).fetchall()
        return [Job.from_row(dict(row)) for row in rows]

    def expired(self, finished_before: str) -> list[str]:
        """Done or failed jobs whose last change is older than `finished_before` (a `clock` timestamp)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM jobs WHERE status IN ('done', 'failed') AND updated < ?", (finished_before,)
            ).fetchall()
        return [row["id"] for row in rows]

    def delete(self, ident: str) -> bool:
        """The row gone, unless the job is running (then False: its worker owns it)."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM jobs WHERE id = ? AND status != 'running'", (ident,))
        return cursor.rowcount == 1

    def close(self) -> None:
        with self._lock:
            self._db.close()
