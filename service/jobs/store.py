"""The job store for the API: one SQLite table (stdlib sqlite3, WAL) under the data directory.

Status moves queued → running → done | failed; a job found `running` at start-up was cut off by
a crash or a restart and goes back to `queued`, and the runner's manifest makes the rerun a resume.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STATUSES = ("queued", "running", "done", "failed")
PROGRESS = ("total", "done", "ok", "failed", "skipped", "sentences")
_SCHEMA = """CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, status TEXT NOT NULL, filename TEXT NOT NULL, options TEXT NOT NULL,
    created TEXT NOT NULL, updated TEXT NOT NULL, error TEXT,
    total INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0, ok INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0, sentences INTEGER NOT NULL DEFAULT 0)"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class JobStore:
    """Thread-safe access to the jobs table; rows come back as plain dicts."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)
        self._lock = threading.Lock()

    def create(self, ident: str, filename: str, options: str) -> None:
        now = _now()
        with self._lock:
            self._db.execute("INSERT INTO jobs (id, status, filename, options, created, updated) VALUES (?, 'queued', ?, ?, ?, ?)", (ident, filename, options, now, now))

    def get(self, ident: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (ident,)).fetchone()
        return dict(row) if row else None

    def update(self, ident: str, **fields: Any) -> None:
        allowed = {"status", "error", *PROGRESS}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"unknown job fields: {unknown}")
        if "status" in fields and fields["status"] not in STATUSES:
            raise ValueError(f"unknown status {fields['status']!r}")
        assignments = ", ".join(f"{key} = ?" for key in fields)
        with self._lock:
            self._db.execute(f"UPDATE jobs SET {assignments}, updated = ? WHERE id = ?", (*fields.values(), _now(), ident))

    def unfinished(self) -> list[str]:
        """Jobs to (re)start, oldest first; `running` ones were cut off and are requeued."""
        with self._lock:
            self._db.execute("UPDATE jobs SET status = 'queued' WHERE status = 'running'")
            rows = self._db.execute("SELECT id FROM jobs WHERE status = 'queued' ORDER BY created, rowid").fetchall()
        return [row["id"] for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
