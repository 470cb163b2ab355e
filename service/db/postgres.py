"""One PostgreSQL connection (psycopg 3, extra `[postgres]`) behind a lock: the base of the shared stores."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Setup:
    """What a store creates at start-up, and how its errors name it."""

    table: str  # also the key of the advisory lock that start-up holds
    schema: tuple[str, ...]  # statements run in order, each safe to repeat
    database: str  # "the jobs database", in "cannot reach …"
    without_driver: str  # the message when psycopg is not installed


class PostgresStore:
    """One autocommit connection behind a lock, reopened once if the server dropped it."""

    def __init__(self, url: str, connect_timeout: float, setup: Setup) -> None:
        try:
            import psycopg
        except ImportError:  # pragma: no cover - depends on the install
            raise RuntimeError(setup.without_driver) from None
        self._psycopg = psycopg
        self._url, self._timeout = url.replace("+psycopg://", "://", 1), connect_timeout
        self._database = setup.database
        self._lock = threading.Lock()
        self._db = self._connect()
        with self._lock:
            # Two replicas starting together would race on CREATE … IF NOT EXISTS; an advisory lock serialises them.
            self._db.execute("SELECT pg_advisory_lock(hashtext(%s))", (setup.table,))
            try:
                for statement in setup.schema:
                    self._db.execute(statement)
            finally:
                self._db.execute("SELECT pg_advisory_unlock(hashtext(%s))", (setup.table,))

    def _connect(self) -> Any:
        from psycopg.rows import dict_row

        try:
            return self._psycopg.connect(
                self._url, autocommit=True, row_factory=dict_row, connect_timeout=int(self._timeout)
            )
        except self._psycopg.OperationalError as error:
            # The message names host and reason; the URL (which may hold a password) is not repeated.
            raise RuntimeError(f"cannot reach {self._database}: {str(error).strip()}") from None

    def _run(self, work: Callable[[Any], T]) -> T:
        with self._lock:
            try:
                return work(self._db)
            except self._psycopg.OperationalError:
                if not self._db.closed:
                    raise
                self._db = self._connect()  # the server restarted or dropped us: one fresh try
                return work(self._db)

    def _transaction(self, work: Callable[[Any], T]) -> T:
        def run(db: Any) -> T:
            with db.transaction():
                return work(db)

        return self._run(run)

    def close(self) -> None:
        with self._lock:
            self._db.close()
