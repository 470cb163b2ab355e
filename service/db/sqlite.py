"""One SQLite file (stdlib sqlite3, WAL) behind a lock: the base of the single-server stores."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from service.jobs.outputs import create_file, private_dir

T = TypeVar("T")


class SqliteStore:
    """Thread-safe access to one connection; writes that read first go through `_writing`."""

    def __init__(self, path: Path) -> None:
        private_dir(path.parent)
        os.close(create_file(path, os.O_WRONLY))  # 0o600; SQLite gives its -wal and -shm the same mode
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._lock = threading.Lock()

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at its start (`BEGIN IMMEDIATE`): reads in it see no other writer."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._writing() as db:
            return work(db)

    def _rows(self, sql: str, parameters: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()
