"""The translation memory in PostgreSQL (psycopg 3, extra `[postgres]`), beside the job store for replicas.

Exact lookup is an index hit on `(owner, skeleton)` among current rows; fuzzy candidates come from
pg_trgm (a GIN trigram index on the normalised French, `%` and `similarity`), one query per
unmatched sentence inside the one call lookup makes per plan. The extension is trusted (PostgreSQL
13+): the database's owner may create it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from models.memory import Unit
from service.db.postgres import PostgresStore, Setup
from service.memory.base import COLUMNS, chunks, stored
from service.memory.glossary_sql import GlossaryTables, SqlGlossary
from service.memory.sql import Dialect, SqlMemory
from service.memory.supersede import Place, Superseding

TABLE = "bitext_memory_units"
_DIALECT = Dialect(TABLE, mark="%s", current="current", escape="")
_GLOSSARY = GlossaryTables("bitext_memory_glossaries", "bitext_memory_glossary_entries", mark="%s")
_SCHEMA = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    _DIALECT.create_table(
        ident="BIGSERIAL PRIMARY KEY",
        supersedes=f"BIGINT REFERENCES {TABLE}(id) ON DELETE SET NULL",
        current="BOOLEAN NOT NULL DEFAULT TRUE",
    ),
    f"CREATE INDEX IF NOT EXISTS {TABLE}_skeleton ON {TABLE}(owner, skeleton) WHERE current",
    f"CREATE UNIQUE INDEX IF NOT EXISTS {TABLE}_current ON {TABLE}(owner, normalised, context) WHERE current",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_trigrams ON {TABLE} USING GIN (normalised gin_trgm_ops) WHERE current",
    *_GLOSSARY.create(),
    # `supersedes` references a row: without this index each deleted row's ON DELETE scans the whole table.
    f"CREATE INDEX IF NOT EXISTS {TABLE}_supersedes ON {TABLE}(supersedes) WHERE supersedes IS NOT NULL",
)
_SETUP = Setup(
    table=TABLE,
    schema=_SCHEMA,
    database="the memory's database",
    without_driver="a PostgreSQL memory needs the driver: pip install 'bitext[postgres]'",
)
SMALL_WRITE = 500  # distinct sentences: one IN (…), as SQLite's chunks
_SIMILARITY = 0.3  # pg_trgm's candidate floor; the token edit distance decides the match


class PostgresMemoryStore(PostgresStore, SqlMemory, SqlGlossary):
    """One connection behind a lock (as the job store), reopened once if the server dropped it."""

    dialect = _DIALECT
    glossary_tables = _GLOSSARY

    def __init__(self, url: str, connect_timeout: float = 10) -> None:
        super().__init__(url, connect_timeout, _SETUP)

    @staticmethod
    def _hold(db: Any, owner: str) -> None:
        # One writer per owner at a time, so two replicas adding the same sentence supersede in turn.
        db.execute("SELECT pg_advisory_xact_lock(hashtext(%s), hashtext(%s))", (TABLE, owner))

    @staticmethod
    def _new_ids(db: Any, count: int) -> list[int]:
        rows = db.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) AS id FROM generate_series(1, %s)", (TABLE, count)
        ).fetchall()
        return sorted(int(row["id"]) for row in rows)

    @staticmethod
    def _index(db: Any, written: Superseding) -> None:
        """Nothing to do: the GIN trigram index follows the rows (current ones only)."""

    def _current(self, db: Any, owner: str, normalised: set[str]) -> dict[Place, int]:
        """A small write asks with one `IN (…)`: at worst one pass over the owner's rows. A large one joins its
        sentences as an array with hash or merge joins only, linear whatever the statistics say: with chunks of
        `IN (…)`, planned from statistics taken before the owner had rows, each chunk scanned the owner's rows;
        with nested loops allowed, the planner probed the GIN trigram index (a posting-list scan per trigram)
        or rescanned the array once per row."""
        if len(normalised) <= SMALL_WRITE:
            return super()._current(db, owner, normalised)
        db.execute("SET LOCAL enable_nestloop = off")  # this transaction only
        db.execute("SET LOCAL enable_bitmapscan = off")
        rows = db.execute(
            f"SELECT u.id, u.normalised, u.context FROM {TABLE} u"
            " JOIN unnest(%s::text[]) AS k(normalised) ON u.normalised = k.normalised"
            " WHERE u.owner = %s AND u.current",
            (sorted(normalised), owner),
        ).fetchall()
        return {(row["normalised"], row["context"]): int(row["id"]) for row in rows}

    def _rows(self, sql: str, parameters: Sequence[object]) -> list[dict[str, Any]]:
        return self._run(lambda db: list(db.execute(sql, parameters).fetchall()))

    def _lock_owner(self, db: Any, owner: str) -> None:
        # Two replicas merging into one key's glossary take turns, each reading what the other wrote.
        db.execute("SELECT pg_advisory_xact_lock(hashtext(%s), hashtext(%s))", (_GLOSSARY.glossaries, owner))

    def delete_all(self, owner: str) -> int:
        def work(db: Any) -> int:
            self._lock_owner(db, owner)
            entries = self._delete(db, owner)
            return int(db.execute(f"DELETE FROM {TABLE} WHERE owner = %s", (owner,)).rowcount) + entries

        return self._transaction(work)

    def same_skeleton(self, owner: str, skeletons: Sequence[str]) -> Mapping[str, Sequence[Unit]]:
        found: dict[str, list[Unit]] = {}
        for part in chunks(skeletons):
            rows = self._rows(
                f"SELECT {COLUMNS}, skeleton FROM {TABLE} WHERE owner = %s AND current AND skeleton = ANY(%s)"
                " ORDER BY id DESC",
                (owner, list(part)),
            )
            for row in rows:
                found.setdefault(row["skeleton"], []).append(stored(row).unit)
        return found

    def similar(self, owner: str, normalised: Sequence[str], limit: int) -> Mapping[str, Sequence[Unit]]:
        def work(db: Any) -> dict[str, list[Unit]]:
            db.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, false)", (str(_SIMILARITY),))
            out: dict[str, list[Unit]] = {}
            for text in normalised:
                rows = db.execute(
                    f"SELECT {COLUMNS} FROM {TABLE} WHERE owner = %s AND current AND normalised %% %s"
                    " ORDER BY similarity(normalised, %s) DESC LIMIT %s",
                    (owner, text, text, limit),
                ).fetchall()
                out[text] = [stored(row).unit for row in rows]
            return out

        return self._run(work)
