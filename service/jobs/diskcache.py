"""An on-disk `CacheStore` in SQLite under OUTDIR.

Identical sentences across an archive, and across a resume, are translated once.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from models.document import Translation
from service.jobs.outputs import create_file

_BATCH = 500  # SQLite's bound-parameter limit is 999 on old builds


class SqliteCacheStore:
    """Thread-safe; WAL journal so a killed run loses at most the last uncommitted batch."""

    def __init__(self, path: Path) -> None:
        self.path = path
        os.close(create_file(path, os.O_WRONLY))  # 0o600 in a private directory; its -wal and -shm follow
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS translations (key TEXT PRIMARY KEY, text TEXT NOT NULL, source_tokens "
            "INTEGER NOT NULL, output_tokens INTEGER NOT NULL)"
        )
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM translations").fetchone()[0])

    def get_many(self, keys: Sequence[str]) -> dict[str, Translation]:
        found: dict[str, Translation] = {}
        unique = list(dict.fromkeys(keys))
        with self._lock:
            for start in range(0, len(unique), _BATCH):
                part = unique[start : start + _BATCH]
                rows = self._db.execute(
                    "SELECT key, text, source_tokens, output_tokens FROM translations WHERE key IN "
                    f"({','.join('?' * len(part))})",
                    part,
                )
                for key, text, source, output in rows:
                    found[key] = Translation(text, source, output)
        return found

    def put_many(self, items: Mapping[str, Translation]) -> None:
        # The table holds the text only: a translation carrying alternatives or a score is not kept,
        # so a hit never lacks what its request asked for (the key already tells such requests apart).
        rows = [
            (key, t.text, t.source_tokens, t.output_tokens)
            for key, t in items.items()
            if not t.alternatives and t.score is None
        ]
        if not rows:
            return
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO translations VALUES (?, ?, ?, ?)", rows)
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()
