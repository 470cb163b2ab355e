"""Translation-memory stores (SQLite beside the job store, PostgreSQL for replicas) and TMX exchange.

`open_memory_store` picks the backend the job store uses: PostgreSQL when `BITEXT_JOBS_DATABASE_URL`
is set, else SQLite under the data directory.
"""

from __future__ import annotations

from pathlib import Path

from service.memory.base import MemoryStore, OwnedIndex, StoredUnit
from service.memory.sqlite import SqliteMemoryStore

__all__ = ["MemoryStore", "OwnedIndex", "SqliteMemoryStore", "StoredUnit", "open_memory_store"]


def open_memory_store(database_url: str | None, data_dir: Path) -> MemoryStore:
    if database_url:
        from service.memory.postgres import PostgresMemoryStore  # psycopg is an extra

        return PostgresMemoryStore(database_url)
    return SqliteMemoryStore(data_dir / "memory.sqlite3")
