"""Translation-memory stores (SQLite beside the job store, PostgreSQL for replicas) and TMX exchange.

`open_memory_store` picks the backend the job store uses: PostgreSQL when `BITEXT_JOBS_DATABASE_URL`
is set, else SQLite under the data directory.
"""

from __future__ import annotations

import threading
from pathlib import Path

from models.glossary import Terms
from models.memory import DEFAULT_THRESHOLD, MemoryMode, MemoryUse
from service.memory.base import MemoryStore, OwnedIndex, StoredUnit
from service.memory.sqlite import SqliteMemoryStore
from service.memory.terms import Glossary

__all__ = ["MemoryStore", "Memories", "OwnedIndex", "SqliteMemoryStore", "StoredUnit", "open_memory_store"]

SQLITE_NAME = "memory.sqlite3"


def open_memory_store(database_url: str | None, data_dir: Path) -> MemoryStore:
    if database_url:
        from service.memory.postgres import PostgresMemoryStore  # psycopg is an extra

        return PostgresMemoryStore(database_url)
    return SqliteMemoryStore(data_dir / SQLITE_NAME)


class Memories:
    """The server's memory store, opened on first use (as the job store: a server that never stores a
    unit never creates the data directory). Lookups use `existing()`, which opens nothing new."""

    def __init__(self, database_url: str | None, data_dir: Path, threshold: int = DEFAULT_THRESHOLD) -> None:
        self.database_url, self.data_dir, self.threshold = database_url, data_dir, threshold
        self._store: MemoryStore | None = None
        self._lock = threading.Lock()

    def store(self) -> MemoryStore:
        with self._lock:
            if self._store is None:
                self._store = open_memory_store(self.database_url, self.data_dir)
            return self._store

    def existing(self) -> MemoryStore | None:
        """The store if it is open or there is one to open (a shared database, or the SQLite file)."""
        if self._store is None and (self.database_url or (self.data_dir / SQLITE_NAME).exists()):
            return self.store()
        return self._store

    def use(self, owner: str, mode: MemoryMode = MemoryMode.SUGGEST, threshold: int | None = None) -> MemoryUse:
        """`owner`'s memory for one translation (the server's fuzzy threshold unless given) with its term
        glossary; no index and no terms with the mode off or no memory stored yet."""
        store = self.existing() if mode is not MemoryMode.OFF else None
        if store is None:
            return MemoryUse(None, mode, self.threshold if threshold is None else threshold)
        glossary = store.glossary(owner)
        terms = glossary.terms() if glossary is not None else Terms()
        return MemoryUse(OwnedIndex(store, owner), mode, self.threshold if threshold is None else threshold, terms)

    def glossary(self, owner: str) -> Glossary | None:
        """`owner`'s term glossary, or None (none stored, or no memory yet)."""
        store = self.existing()
        return store.glossary(owner) if store is not None else None

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
